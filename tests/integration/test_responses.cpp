// --api responses from the outside: the request the Responses API gets, the
// replies and failures it sends (the test server's resp-* modes, and every
// other mode at /responses), and the rest of gptq working the same on it.

#include "harness.hpp"
#include "proxy.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace json = boost::json;
using namespace gptq::it;

namespace {

const std::string prompt = "Gr\xC3\xBC\xC3\x9F"
                           "e, \xF0\x9F\x98\x80 \"quoted\"\nline two";

RunResult ask(const std::string& mode, const std::vector<std::string>& extra = {})
{
  std::vector<std::string> args{ "--no-stdin", "--api", "responses" };
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(prompt);
  return run_gptq_https(mode, args);
}

std::int64_t attempts(const std::string& key)
{
  return json::parse(http_get_body("/attempts/" + key)).at("attempts").to_number<std::int64_t>();
}

} // namespace

BOOST_AUTO_TEST_SUITE(responses)

BOOST_AUTO_TEST_CASE(the_request_goes_to_responses_with_instructions_input_and_store_false)
{
  const SeenRequest seen =
    seen_request(ask("request", { "-s", "Be brief.", "--max-tokens", "40", "--json", "--reasoning", "-o", "user=u1" }));
  BOOST_TEST(seen.target == "/request/v1/responses");
  BOOST_TEST(seen.header("accept").value_or("") == "text/event-stream");
  BOOST_TEST(json::serialize(seen.body) ==
             json::serialize(json::parse(
               R"({"model":"gpt-4o-mini","instructions":"Be brief.","input":)" + json::serialize(json::value(prompt)) +
               R"(,"max_output_tokens":40,"text":{"format":{"type":"json_object"}},)"
               R"("reasoning":{"summary":"auto"},"stream":true,"store":false,"user":"u1"})")));
}

BOOST_AUTO_TEST_CASE(the_user_may_set_store)
{
  const SeenRequest seen = seen_request(ask("request", { "-o", "store=true" }));
  BOOST_TEST(seen.body.at("store") == true);
}

BOOST_AUTO_TEST_CASE(a_stream_prints_only_the_text_and_reasoning_goes_to_stderr_on_request)
{
  check_success(ask("sse"), prompt + "\n");
  check_success(ask("resp-reasoning"), prompt + "\n");
  const RunResult shown = ask("resp-reasoning", { "--reasoning", "--usage" });
  BOOST_TEST(shown.exit_code == 0, shown.describe());
  BOOST_TEST(shown.out == prompt + "\n");
  BOOST_TEST(shown.err == "thinking...\ngptq: usage: 5 prompt + 7 completion = 12 tokens (3 reasoning, 2 cached)\n",
             shown.describe());
}

BOOST_AUTO_TEST_CASE(a_whole_reply_is_the_text_of_its_message_items_after_a_reasoning_item)
{
  check_success(ask("echo", { "--no-stream" }), prompt + "\n");
  check_success(ask("resp-reasoning", { "--no-stream" }), prompt + "\n");
  const RunResult shown = ask("resp-reasoning", { "--no-stream", "--reasoning" });
  BOOST_TEST(shown.out == prompt + "\n");
  BOOST_TEST(shown.err == "thinking...\n", shown.describe());
}

BOOST_AUTO_TEST_CASE(an_incomplete_reply_keeps_its_text_and_warns_with_the_reason)
{
  for (const auto& stream : { "--stream", "--no-stream" }) {
    const RunResult r = ask("resp-incomplete", { stream, "--max-tokens", "9" });
    BOOST_TEST(r.exit_code == 0, r.describe());
    BOOST_TEST(r.out == prompt + "\n");
    BOOST_TEST(r.err == "gptq: warning: the reply was cut at the token limit (incomplete: max_output_tokens); "
                        "raise --max-tokens\n",
               r.describe());
  }
}

BOOST_AUTO_TEST_CASE(failed_error_event_and_a_missing_end_are_exit_8)
{
  check_failure(ask("resp-failed", { "--no-stream" }), 8, { "api: the response failed: the model failed" });
  for (const auto& [mode, mention] :
       { std::pair{ "resp-failed", "api: the response failed: the model failed (code: server_error)" },
         std::pair{ "resp-error", "api: error in the stream: slow down (code: rate_limit_exceeded)" },
         std::pair{ "resp-noend", "no response.completed" } }) {
    const RunResult r = ask(mode);
    BOOST_TEST(r.exit_code == 8, r.describe());
    BOOST_TEST(contains(r.err, mention), r.describe());
    BOOST_TEST(split_lines(r.err).size() == 1u, r.describe());
  }
}

BOOST_AUTO_TEST_CASE(a_model_only_on_responses_says_to_use_api_responses_and_is_not_sent_again)
{
  const std::string key = fresh_key("resp-only");
  const RunResult r = run_gptq_https("counted/" + key + "/resp-only", { "--no-stdin", "--retries", "3", "hi" });
  check_failure(r, 5, { "HTTP 404", "only supported in v1/responses", "use --api responses", "api = responses" });
  BOOST_TEST(attempts(key) == 1);
  check_success(run_gptq_https("resp-only", { "--no-stdin", "--api", "responses", "hi" }), "hi\n");
}

BOOST_AUTO_TEST_CASE(code_raw_dry_run_and_retries_work_the_same)
{
  const std::string fenced = "say\n```sh\nls -l\n```\n";
  check_success(run_gptq_https("sse", { "--no-stdin", "--api", "responses", "--code", fenced }), "ls -l\n");
  const RunResult raw = ask("echo", { "--no-stream", "--raw" });
  BOOST_TEST(raw.exit_code == 0, raw.describe());
  BOOST_TEST(json::parse(raw.out).at("object") == "response");
  const RunResult dry = ask("request", { "--dry-run" });
  BOOST_TEST(dry.exit_code == 0, dry.describe());
  BOOST_TEST(json::parse(dry.out).at("store") == false);
  const std::string key = fresh_key("resp-flaky");
  check_success(run_gptq_https("flaky/" + key + "/1/500", { "--no-stdin", "--api", "responses", prompt }),
                prompt + "\n");
  BOOST_TEST(attempts(key) == 2);
}

BOOST_AUTO_TEST_CASE(a_proxy_carries_it_the_same)
{
  const Proxy proxy = Proxy::tinyproxy();
  const RunResult r = run_gptq({ "--base-url", http_url("sse"), "--api", "responses", "--no-stdin", prompt }, [&] {
    Env env = key_env();
    env["HTTP_PROXY"] = proxy.url("http");
    return env;
  }());
  check_success(r, prompt + "\n");
  const auto seen = proxy.requests();
  BOOST_TEST(
    std::any_of(seen.begin(), seen.end(), [](const std::string& line) { return contains(line, "/sse/v1/responses "); }),
    proxy.log());
}

BOOST_AUTO_TEST_CASE(a_profile_sets_the_api_and_show_config_names_the_line)
{
  const std::string config = scratch_file("responses-config", "[profile.pro]\nmodel = o3-pro\napi = responses\n");
  const RunResult shown = run_gptq_https("sse", { "--config", config, "-P", "pro", "--show-config" });
  BOOST_TEST(shown.exit_code == 0, shown.describe());
  std::string api_line;
  for (const auto& line : split_lines(shown.out)) {
    api_line = line.starts_with("api ") ? line : api_line;
  }
  BOOST_TEST(contains(api_line, " responses "), shown.out);
  BOOST_TEST(api_line.ends_with("(config " + config + ":3 [profile.pro])"), shown.out);
  BOOST_TEST(contains(shown.out, "/sse/v1/responses"), shown.out);
  check_success(run_gptq_https("sse", { "--config", config, "-P", "pro", "--no-stdin", prompt }), prompt + "\n");
  check_failure(run_gptq_https("sse", { "--api", "completions", "hi" }), 2, { "--api", "chat or responses" });
}

BOOST_AUTO_TEST_CASE(batch_lines_and_emit_batch_speak_responses)
{
  const RunResult r = run_gptq_https("echo", { "-L", "--api", "responses" }, StdinSpec::of("one\ntwo\n"));
  check_success(r, "one\ntwo\n");
  const std::string requests = scratch_dir() + "/responses-batch.jsonl";
  check_success(run_gptq_https("echo", { "-L", "--api", "responses", "--emit-batch", requests }, StdinSpec::of("q\n")),
                "");
  std::ifstream file(requests, std::ios::binary);
  const std::string text{ std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>() };
  const json::value line = json::parse(text);
  BOOST_TEST(line.at("url") == "/v1/responses");
  BOOST_TEST(line.at("body").at("input") == "q");
  BOOST_TEST(line.at("body").at("store") == false);
}

BOOST_AUTO_TEST_SUITE_END()
