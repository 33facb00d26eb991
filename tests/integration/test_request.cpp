// What gptq sends: the HTTP request as the server saw it (the `request`
// mode quotes it back as the reply), and the body --dry-run prints instead.

#include "harness.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace gptq::it;

namespace {

std::vector<std::string> request_args(const std::string& base_url, std::vector<std::string> extra)
{
  std::vector<std::string> args{ "--base-url", base_url, "--cacert", cert("ca.pem") };
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The messages of a request body as (role, content) pairs.
std::vector<std::pair<std::string, std::string>> messages_of(const json::object& body)
{
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& m : body.at("messages").as_array()) {
    out.emplace_back(std::string(m.at("role").as_string()), std::string(m.at("content").as_string()));
  }
  return out;
}

using Messages = std::vector<std::pair<std::string, std::string>>;

} // namespace

BOOST_AUTO_TEST_SUITE(request)

BOOST_AUTO_TEST_CASE(request_line_and_headers)
{
  const SeenRequest seen = seen_request(run_gptq(request_args(https_url("request"), { "hello" })));
  BOOST_TEST(seen.method == "POST");
  BOOST_TEST(seen.target == "/request/v1/chat/completions");
  BOOST_TEST(seen.header("host").value_or("") == "127.0.0.1:" + std::to_string(ports().https));
  BOOST_TEST(starts_with(seen.header("user-agent").value_or(""), "gptq/"));
  BOOST_TEST(seen.header("content-type").value_or("") == "application/json");
  BOOST_TEST(seen.header("authorization").value_or("") == "Bearer " + fake_key);
  BOOST_TEST(seen.header("content-length").has_value());
}

BOOST_AUTO_TEST_CASE(target_keeps_the_path_prefix_and_the_query)
{
  const std::string url = https_url("request") + "?api-version=2024-10-21";
  const SeenRequest seen = seen_request(run_gptq(request_args(url, { "hello" })));
  BOOST_TEST(seen.target == "/request/v1/chat/completions?api-version=2024-10-21");
}

BOOST_AUTO_TEST_CASE(host_header_names_a_dns_host_as_given)
{
  const std::string url = base_url("https", ports().https, "request", "localhost");
  const SeenRequest seen = seen_request(run_gptq_with_hosts(debian_hosts, request_args(url, { "hello" })));
  BOOST_TEST(seen.header("host").value_or("") == "localhost:" + std::to_string(ports().https));
}

BOOST_AUTO_TEST_CASE(plain_http_request_is_the_same)
{
  const SeenRequest seen = seen_request(run_gptq({ "--base-url", http_url("request"), "hello" }));
  BOOST_TEST(seen.method == "POST");
  BOOST_TEST(seen.target == "/request/v1/chat/completions");
  BOOST_TEST(seen.header("host").value_or("") == "127.0.0.1:" + std::to_string(ports().http));
  BOOST_TEST(seen.header("authorization").value_or("") == "Bearer " + fake_key);
}

BOOST_AUTO_TEST_CASE(no_authorization_header_without_a_key)
{
  const SeenRequest seen = seen_request(run_gptq(request_args(https_url("request"), { "hello" }), base_env()));
  BOOST_TEST(!seen.header("authorization").has_value());
}

BOOST_AUTO_TEST_CASE(empty_key_counts_as_no_key)
{
  Env env = base_env();
  env["OPENAI_API_KEY"] = "";
  const SeenRequest seen = seen_request(run_gptq(request_args(https_url("request"), { "hello" }), env));
  BOOST_TEST(!seen.header("authorization").has_value());
}

BOOST_AUTO_TEST_CASE(body_with_every_option)
{
  const SeenRequest seen = seen_request(run_gptq(
    request_args(https_url("request"),
                 { "-m", "my-model", "-s", "a pirate", "-t", "0.5", "--max-tokens", "42", "hello", "world" })));
  BOOST_TEST(seen.body.at("model").as_string() == "my-model");
  BOOST_TEST((messages_of(seen.body) == Messages{ { "system", "a pirate" }, { "user", "hello world" } }));
  BOOST_TEST(seen.body.at("temperature").to_number<double>() == 0.5);
  BOOST_TEST(seen.body.at("max_tokens").to_number<long long>() == 42);
  BOOST_TEST(!seen.body.contains("max_completion_tokens"));
}

BOOST_AUTO_TEST_CASE(body_without_options_has_only_the_user_message)
{
  const SeenRequest seen = seen_request(run_gptq(request_args(https_url("request"), { "hello" })));
  BOOST_TEST(seen.body.at("model").as_string() == "gpt-4o-mini");
  BOOST_TEST((messages_of(seen.body) == Messages{ { "user", "hello" } }));
  BOOST_TEST(!seen.body.contains("temperature"));
  BOOST_TEST(!seen.body.contains("max_tokens"));
  BOOST_TEST(!seen.body.contains("max_completion_tokens"));
}

BOOST_AUTO_TEST_CASE(long_options_work_like_short_ones)
{
  const SeenRequest seen = seen_request(run_gptq(request_args(
    https_url("request"), { "--model", "m2", "--system", "sys", "--temperature", "0", "--", "-not-an-option" })));
  BOOST_TEST(seen.body.at("model").as_string() == "m2");
  BOOST_TEST((messages_of(seen.body) == Messages{ { "system", "sys" }, { "user", "-not-an-option" } }));
  BOOST_TEST(seen.body.at("temperature").to_number<double>() == 0.0);
}

BOOST_AUTO_TEST_CASE(model_comes_from_gptq_model_and_the_option_wins)
{
  Env env = key_env();
  env["GPTQ_MODEL"] = "env-model";
  BOOST_TEST(
    seen_request(run_gptq(request_args(https_url("request"), { "hello" }), env)).body.at("model").as_string() ==
    "env-model");
  BOOST_TEST(seen_request(run_gptq(request_args(https_url("request"), { "-m", "opt-model", "hello" }), env))
               .body.at("model")
               .as_string() == "opt-model");
}

BOOST_AUTO_TEST_CASE(stdin_is_part_of_the_body)
{
  const SeenRequest seen = seen_request(
    run_gptq(request_args(https_url("request"), { "explain" }), key_env(), StdinSpec::of("int main() {}\n")));
  BOOST_TEST((messages_of(seen.body) == Messages{ { "user", "explain\n\nint main() {}\n" } }));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dry_run)

BOOST_AUTO_TEST_CASE(prints_the_body_and_sends_nothing)
{
  // Nothing listens on the port: any network attempt would fail the run.
  const std::string url = base_url("https", closed_port(), "echo");
  const RunResult r = run_gptq({ "--dry-run",
                                 "--base-url",
                                 url,
                                 "-m",
                                 "dry-model",
                                 "-s",
                                 "sys",
                                 "-t",
                                 "1.5",
                                 "--max-tokens",
                                 "7",
                                 "hello",
                                 "world" },
                               key_env(),
                               StdinSpec::of("piped\n"));
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE(!r.killed);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.err == "");
    BOOST_TEST(!contains(r.out, fake_key));
    BOOST_TEST(!contains(r.err, fake_key));
    BOOST_REQUIRE(!r.out.empty());
    BOOST_TEST(r.out.back() == '\n');
    const json::object body = json::parse(r.out).as_object();
    BOOST_TEST(body.at("model").as_string() == "dry-model");
    BOOST_TEST((messages_of(body) == Messages{ { "system", "sys" }, { "user", "hello world\n\npiped\n" } }));
    BOOST_TEST(body.at("temperature").to_number<double>() == 1.5);
    BOOST_TEST(body.at("max_tokens").to_number<long long>() == 7);
  }
}

BOOST_AUTO_TEST_CASE(with_the_openai_url_uses_max_completion_tokens_and_needs_no_key)
{
  const RunResult r = run_gptq({ "--dry-run", "--max-tokens", "9", "hi" }, base_env());
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE(!r.killed);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.err == "");
    const json::object body = json::parse(r.out).as_object();
    BOOST_TEST(body.at("max_completion_tokens").to_number<long long>() == 9);
    BOOST_TEST(!body.contains("max_tokens"));
  }
}

BOOST_AUTO_TEST_CASE(with_the_openai_url_and_a_key_shows_no_key)
{
  const RunResult r = run_gptq({ "--dry-run", "hi" }, key_env());
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(!contains(r.out, fake_key));
    BOOST_TEST(!contains(r.err, fake_key));
    BOOST_TEST(!contains(r.out, "sk-test"));
  }
}

BOOST_AUTO_TEST_CASE(still_checks_the_prompt)
{
  check_failure(run_gptq({ "--dry-run" }, key_env(), StdinSpec::of("")), 2, { "empty" });
}

BOOST_AUTO_TEST_SUITE_END()
