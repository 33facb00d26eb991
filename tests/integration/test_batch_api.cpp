// The Batch API round trip (issue 19): --batch-submit uploads the request
// lines and creates a batch, --batch-wait polls it and prints its results
// in input order, --batch does both; --batch-cancel and --batch-list. The
// test server's batchapi/KEY/SCENARIO keeps files and batches per KEY and
// moves a batch one step per poll, saying Retry-After: 0.

#include "harness.hpp"
#include "proxy.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
using namespace gptq::it;

namespace {

std::string api(const std::string& key, const std::string& scenario)
{
  return "batchapi/" + key + "/" + scenario;
}

std::string from_server(const std::string& key, const std::string& scenario, const std::string& route)
{
  return http_get_body("/" + api(key, scenario) + "/v1/" + route);
}

} // namespace

BOOST_AUTO_TEST_SUITE(batch_api)

BOOST_AUTO_TEST_CASE(submit_uploads_the_lines_and_wait_prints_the_results_in_input_order)
{
  const std::string key = fresh_key("submit");
  const RunResult submitted =
    run_gptq_https(api(key, "ok"), { "-L", "-s", "be brief", "--batch-submit" }, StdinSpec::of("one\ntwo\nthree\n"));
  check_success(submitted, "batch_1\n");
  const json::value created = json::parse(from_server(key, "ok", "batches/batch_1/request"));
  BOOST_TEST(created.at("endpoint") == "/v1/chat/completions");
  BOOST_TEST(created.at("completion_window") == "24h");
  BOOST_TEST(created.at("metadata").at("gptq_lines") == "3");
  const std::vector<std::string> uploaded = split_lines(from_server(key, "ok", "files/file-1/content"));
  BOOST_TEST_REQUIRE(uploaded.size() == 3u);
  const json::value second = json::parse(uploaded[1]);
  BOOST_TEST(second.at("url") == "/v1/chat/completions");
  BOOST_TEST(second.at("body").at("messages").at(0).at("content") == "be brief");
  BOOST_TEST(second.at("body").at("messages").at(1).at("content") == "two");
  BOOST_TEST(!contains(from_server(key, "ok", "files/file-1/content"), fake_key));
  // The output file holds the lines shuffled: printed in input order.
  check_success(run_gptq_https(api(key, "ok"), { "--batch-wait", "batch_1" }), "one\ntwo\nthree\n");
  const RunResult listed = run_gptq_https(api(key, "ok"), { "--batch-list" });
  BOOST_TEST(listed.exit_code == 0, listed.describe());
  BOOST_TEST(contains(listed.out, "batch_1  completed 3/3 done"), listed.describe());
}

// Another run has no input at hand: the batch's input file (downloaded
// again) says which lines were sent, and the frame in the batch's metadata
// where each line's input sits in its user message.
BOOST_AUTO_TEST_CASE(wait_recovers_each_lines_input_and_place_from_the_input_file)
{
  const std::string key = fresh_key("recover");
  const std::string notes = scratch_file("recover-notes.txt", "x and yy\n");
  check_success(run_gptq_https(api(key, "ok"),
                               { "-L", "-s", "sys", "--batch-submit", "--api", "responses", "-f", notes, "Say", "x:" },
                               StdinSpec::of("one\n\n  two \"2\"\r\n\nthree")),
                "batch_1\n");
  const json::value created = json::parse(from_server(key, "ok", "batches/batch_1/request"));
  BOOST_TEST(created.at("metadata").at("gptq_input").as_string().starts_with("8,"));
  const RunResult jsonl = run_gptq_https(api(key, "ok"), { "--batch-wait", "batch_1", "--jsonl" });
  BOOST_TEST(jsonl.exit_code == 0, jsonl.describe());
  const std::vector<std::string> records = split_lines(jsonl.out);
  BOOST_TEST_REQUIRE(records.size() == 3u, jsonl.describe());
  const std::vector<std::pair<int, std::string>> expected{ { 1, "one" }, { 3, "  two \"2\"" }, { 5, "three" } };
  for (std::size_t i = 0; i < records.size(); ++i) {
    const json::value record = json::parse(records[i]);
    BOOST_TEST(record.at("line").as_int64() == expected[i].first);
    BOOST_TEST(record.at("input").as_string() == expected[i].second, records[i]);
    BOOST_TEST(contains(json::value_to<std::string>(record.at("output")), expected[i].second), records[i]);
  }
  // Plain output lines up with the input: the blank lines keep their places.
  const RunResult plain = run_gptq_https(api(key, "ok"), { "--batch-wait", "batch_1" });
  BOOST_TEST(plain.exit_code == 0, plain.describe());
  const std::vector<std::string> lines = split_lines(plain.out);
  BOOST_TEST_REQUIRE(lines.size() == 5u, plain.describe());
  BOOST_TEST(lines[1].empty());
  BOOST_TEST(lines[3].empty());
  BOOST_TEST(contains(lines[4], "three"), plain.describe());

  // --input-jsonl lines are JSON of their own: places, but no inputs.
  const std::string other = fresh_key("recover-jsonl");
  check_success(run_gptq_https(api(other, "ok"),
                               { "-L", "--input-jsonl", "--batch-submit" },
                               StdinSpec::of("{\"prompt\":\"a\"}\n\n{\"prompt\":\"b\"}\n")),
                "batch_1\n");
  BOOST_TEST(!json::parse(from_server(other, "ok", "batches/batch_1/request"))
                .at("metadata")
                .as_object()
                .contains("gptq_input"));
  const RunResult unframed = run_gptq_https(api(other, "ok"), { "--batch-wait", "batch_1", "--jsonl" });
  BOOST_TEST(unframed.out == "{\"line\":1,\"output\":\"a\"}\n{\"line\":3,\"output\":\"b\"}\n", unframed.describe());
  const RunResult unframed_plain = run_gptq_https(api(other, "ok"), { "--batch-wait", "batch_1" });
  BOOST_TEST(unframed_plain.out == "a\n\nb\n", unframed_plain.describe());
}

// Every exchange of the round trip (upload, create, polls, downloads) goes
// through the user's proxy, as a single request does.
BOOST_AUTO_TEST_CASE(the_round_trip_goes_through_the_proxy)
{
  const std::string key = fresh_key("proxied");
  const Proxy proxy = Proxy::tinyproxy();
  const RunResult r =
    run_gptq_https(api(key, "ok"), { "-L", "--batch", "--proxy", proxy.url("http") }, StdinSpec::of("one\ntwo\n"));
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "one\ntwo\n", r.describe());
  const auto requests = proxy.requests();
  BOOST_TEST(!requests.empty(), proxy.log());
  for (const auto& request : requests) {
    BOOST_TEST(request.starts_with("CONNECT 127.0.0.1:"), proxy.log());
  }
  BOOST_TEST(json::parse(from_server(key, "ok", "batches/batch_1")).at("status") == "completed");
}

// An output file that is not one is the provider's fault: exit 8, one
// line naming the file and its line, nothing printed of the results.
BOOST_AUTO_TEST_CASE(a_garbled_output_file_is_a_bad_response)
{
  const std::string key = fresh_key("garbled");
  const RunResult r = run_gptq_https(api(key, "garbled"), { "-L", "--batch" }, StdinSpec::of("one\ntwo\n"));
  BOOST_TEST(r.exit_code == 8, r.describe());
  BOOST_TEST(r.out.empty(), r.describe());
  const std::vector<std::string> told = split_lines(r.err);
  BOOST_TEST_REQUIRE(told.size() == 2u, r.describe());
  BOOST_TEST(starts_with(told[1], "gptq: batch batch_1 file file-2:3: not valid JSON"), r.describe());
  BOOST_TEST(!contains(r.err, "--from-batch"), r.describe());
}

// An input file deleted at the provider costs the inputs and the places,
// not the results.
BOOST_AUTO_TEST_CASE(a_deleted_input_file_leaves_the_results)
{
  const std::string key = fresh_key("gone");
  check_success(run_gptq_https(api(key, "ok"), { "-L", "--batch-submit" }, StdinSpec::of("one\n\ntwo\n")), "batch_1\n");
  check_success(run_gptq_https(api(key, "ok"), { "--batch-wait", "batch_1" }), "one\n\ntwo\n");
  BOOST_TEST(contains(http_request_body("DELETE", "/" + api(key, "ok") + "/v1/files/file-1"), "\"deleted\":true"));
  const RunResult r = run_gptq_https(api(key, "ok"), { "--batch-wait", "batch_1", "--jsonl" });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "{\"line\":1,\"output\":\"one\"}\n{\"line\":3,\"output\":\"two\"}\n", r.describe());
  BOOST_TEST(starts_with(r.err, "gptq: warning: cannot download batch batch_1's input file file-1 ("), r.describe());
  BOOST_TEST(split_lines(r.err).size() == 1u, r.describe());
}

BOOST_AUTO_TEST_CASE(batch_submits_and_waits_in_one_run_on_either_api)
{
  const std::string key = fresh_key("round");
  const RunResult r = run_gptq_https(
    api(key, "ok"), { "-L", "--batch", "--jsonl", "--api", "responses" }, StdinSpec::of("alpha\nbeta\n"));
  BOOST_TEST(r.exit_code == 0, r.describe());
  // The input it sent is kept: each record has its line, as -L --jsonl writes them.
  BOOST_TEST(r.out == "{\"line\":1,\"input\":\"alpha\",\"output\":\"alpha\"}\n"
                      "{\"line\":2,\"input\":\"beta\",\"output\":\"beta\"}\n",
             r.describe());
  BOOST_TEST(contains(r.err, "gptq: batch batch_1 submitted (2 lines); waiting for it"), r.describe());
  BOOST_TEST(json::parse(from_server(key, "ok", "batches/batch_1/request")).at("endpoint") == "/v1/responses");
}

BOOST_AUTO_TEST_CASE(failed_lines_are_reported_as_batch_mode_reports_them)
{
  const std::string key = fresh_key("errors");
  const RunResult r = run_gptq_https(api(key, "errors"), { "-L", "--batch" }, StdinSpec::of("one\nFAIL two\nthree\n"));
  BOOST_TEST(r.exit_code == 5, r.describe());
  BOOST_TEST(r.out == "one\n\nthree\n", r.describe());
  BOOST_TEST(contains(r.err, "gptq: line 2: HTTP 400: bad line"), r.describe());
}

BOOST_AUTO_TEST_CASE(an_expired_batch_prints_what_was_answered_and_exits_9)
{
  const std::string key = fresh_key("expire");
  const RunResult r = run_gptq_https(api(key, "expire"), { "-L", "--batch" }, StdinSpec::of("a\nb\nc\nd\n"));
  BOOST_TEST(r.exit_code == 9, r.describe());
  BOOST_TEST(r.out == "a\nb\n\n\n", r.describe());
  BOOST_TEST(contains(r.err, "expired with 2 of 4 lines unanswered"), r.describe());
  BOOST_TEST(contains(r.err, "line 3: This request could not be executed"), r.describe());
}

BOOST_AUTO_TEST_CASE(a_batch_that_fails_validation_says_why)
{
  const std::string key = fresh_key("failed");
  const RunResult r = run_gptq_https(api(key, "failed"), { "-L", "--batch" }, StdinSpec::of("a\nb\n"));
  // The provider's errors, a line each, then gptq's.
  BOOST_TEST(r.exit_code == 5, r.describe());
  BOOST_TEST(r.out.empty(), r.describe());
  BOOST_TEST(contains(r.err, "gptq: batch batch_1: line 2"), r.describe());
  BOOST_TEST(contains(r.err, "gptq: batch: batch batch_1 failed"), r.describe());
}

BOOST_AUTO_TEST_CASE(a_cancelled_batch_is_cancelled_and_its_wait_exits_9)
{
  const std::string key = fresh_key("cancel");
  check_success(run_gptq_https(api(key, "slow"), { "-L", "--batch-submit" }, StdinSpec::of("a\nb\nc\nd\n")),
                "batch_1\n");
  const RunResult cancelled = run_gptq_https(api(key, "slow"), { "--batch-cancel", "batch_1" });
  check_success(cancelled, "batch_1 cancelling\n");
  const RunResult waited = run_gptq_https(api(key, "slow"), { "--batch-wait", "batch_1" });
  BOOST_TEST(waited.exit_code == 9, waited.describe());
  BOOST_TEST(contains(waited.err, "cancelled with"), waited.describe());
}

BOOST_AUTO_TEST_CASE(an_upload_cut_off_by_a_reset_is_sent_again)
{
  const std::string key = fresh_key("reset");
  check_success(run_gptq_https(api(key, "reset-upload"), { "-L", "--batch-submit" }, StdinSpec::of("a\nb\n")),
                "batch_1\n");
  BOOST_TEST(split_lines(from_server(key, "reset-upload", "files/file-1/content")).size() == 2u);
}

BOOST_AUTO_TEST_CASE(more_lines_than_the_batch_api_takes_are_refused_before_uploading)
{
  const std::string key = fresh_key("limit");
  std::string lines;
  for (int i = 0; i < 50'001; ++i) {
    lines += "q\n";
  }
  check_failure(
    run_gptq_https(api(key, "ok"), { "-L", "--batch-submit" }, StdinSpec::of(lines)), 2, { "50000", "split -l 50000" });
  BOOST_TEST(json::parse(http_get_body("/attempts/" + key)).at("attempts") == 0);
}

BOOST_AUTO_TEST_CASE(the_batch_commands_are_refused_where_they_cannot_go)
{
  check_failure(run_gptq({ "--batch-submit", "x" }), 2, { "--batch-submit", "-L" });
  check_failure(run_gptq({ "--batch-wait", "b1", "--batch-list" }), 2, { "one of" });
  check_failure(run_gptq({ "-L", "--batch", "--emit-batch", "f.jsonl" }), 2, { "--emit-batch" });
  check_failure(run_gptq({ "--batch-wait", "" }), 2, { "the batch id is empty" });
}

BOOST_AUTO_TEST_SUITE_END()

// The wait interrupted and taken up again, the limits checked before any
// upload, and Azure's base URL and key header.
BOOST_AUTO_TEST_SUITE(batch_api_round_trip)

namespace {

// Runs gptq with `args` (after its path), its stderr going to the pipe that
// `at_stderr` watches and its stdout to the file `out_path`: a run whose
// stdout stays empty can still be acted on as its stderr grows. The pid
// given to `at_stderr` is gptq's (the shell execs it).
RunResult run_stderr_watched(const std::vector<std::string>& args,
                             const std::string& out_path,
                             const StdinSpec& in,
                             const StdoutWatcher& at_stderr,
                             const Env& env = key_env())
{
  std::vector<std::string> argv{ "/bin/bash", "-c", "exec \"$@\" 2>&1 >\"$0\"", out_path, GPTQ_BIN };
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, env, in, default_run_limit, {}, at_stderr);
}

std::int64_t attempts(const std::string& key)
{
  return json::parse(http_get_body("/attempts/" + key)).at("attempts").to_number<std::int64_t>();
}

// Whether the server has counted `n` requests under `key`, asked until it
// has or for 20 s at most: a bound for what hangs, not a timed assertion.
bool reached_attempts(const std::string& key, std::int64_t n)
{
  for (int i = 0; i < 1000; ++i) {
    if (attempts(key) >= n) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// A directory of its own for TMPDIR, empty.
std::string fresh_tmpdir(const std::string& key)
{
  const std::string dir = scratch_dir() + "/tmpdir-" + key;
  std::filesystem::create_directories(dir);
  return dir;
}

// The names in `dir`, for a failure message.
std::string listing(const std::string& dir)
{
  std::string names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names += entry.path().filename().string() + " ";
  }
  return names;
}

// Checks that `input` on stdin of gptq -L --batch-submit is refused with
// exit 2 before anything is sent, with each of `mentions`, and that no file
// of gptq's is left in $TMPDIR.
void check_refused_before_uploading(const std::string& label,
                                    const std::string& input,
                                    const std::vector<std::string>& mentions)
{
  const std::string key = fresh_key(label);
  const std::string tmpdir = fresh_tmpdir(key);
  Env env = key_env();
  env["TMPDIR"] = tmpdir;
  check_failure(run_gptq_https(api(key, "ok"), { "-L", "--batch-submit" }, StdinSpec::of(input), env), 2, mentions);
  BOOST_TEST(attempts(key) == 0);
  BOOST_TEST(std::filesystem::is_empty(tmpdir), "left in TMPDIR: " << listing(tmpdir));
}

} // namespace

BOOST_AUTO_TEST_CASE(an_interrupted_wait_says_how_to_take_it_up_and_the_batch_goes_on)
{
  const std::string key = fresh_key("hold");
  const std::string out_path = scratch_dir() + "/" + key + ".out";
  bool sent = false;
  Env env = key_env();
  const std::string tmpdir = fresh_tmpdir(key);
  env["TMPDIR"] = tmpdir;
  // Upload, create, then the first poll: gptq is waiting from then on.
  const RunResult r = run_stderr_watched(
    { "--base-url", https_url(api(key, "hold")), "--cacert", cert("ca.pem"), "-L", "--batch" },
    out_path,
    StdinSpec::of("one\ntwo\nthree\n"),
    [&](const std::string& err, int pid) {
      if (!sent && contains(err, "submitted") && reached_attempts(key, 3)) {
        sent = true;
        kill(pid, SIGINT);
      }
    },
    env);
  BOOST_TEST_REQUIRE(sent, r.describe());
  BOOST_TEST(r.exit_code == 130, r.describe());
  BOOST_TEST(read_file(out_path).empty());
  BOOST_TEST(r.err.empty(), r.describe());
  // r.out is gptq's stderr: the submission, then the note at Ctrl-C.
  const std::vector<std::string> told = split_lines(r.out);
  BOOST_TEST_REQUIRE(told.size() == 2u, r.describe());
  BOOST_TEST(told[0] == "gptq: batch batch_1 submitted (3 lines); waiting for it", r.describe());
  BOOST_TEST(starts_with(told[1], "gptq: "), r.describe());
  BOOST_TEST(contains(told[1], "gptq --batch-wait batch_1"), r.describe());
  BOOST_TEST(contains(told[1], "--batch-cancel batch_1"), r.describe());
  BOOST_TEST(!contains(r.out, fake_key));
  // Ended by the signal, gptq left no file behind (the requests, the input).
  BOOST_TEST(std::filesystem::is_empty(tmpdir), "left in TMPDIR: " << listing(tmpdir));
  // Not cancelled: the batch is still running (the list does not move it).
  const json::value listed = json::parse(from_server(key, "hold", "batches?limit=1"));
  BOOST_TEST(listed.at("data").at(0).at("status") == "in_progress", listed);

  // Taken up through the ok scenario, where it moves on: the results in input order.
  check_success(run_gptq_https(api(key, "ok"), { "--batch-wait", "batch_1" }), "one\ntwo\nthree\n");
}

BOOST_AUTO_TEST_CASE(a_request_file_over_200_mb_is_refused_before_uploading)
{
  // 2 500 lines of about 90 KB: some 225 MB of request lines.
  std::string input;
  const std::string filler(90'000, 'x');
  for (int i = 0; i < 2'500; ++i) {
    input += std::to_string(i) + " " + filler + "\n";
  }
  check_refused_before_uploading("bytes", input, { "limit of 200 MB", "split -l" });
}

BOOST_AUTO_TEST_CASE(more_than_50000_lines_are_refused_before_uploading_and_leave_no_file)
{
  std::string input;
  for (int i = 0; i < 50'001; ++i) {
    input += "q\n";
  }
  check_refused_before_uploading("lines", input, { "50000", "split -l 50000" });
}

BOOST_AUTO_TEST_CASE(azure_base_url_gets_the_files_and_batches_with_its_api_key_header)
{
  const std::string key = fresh_key("azure");
  // A profile as an Azure OpenAI user writes one: the v1 base URL under
  // /openai and the key in api-key (which gptq picks by itself only for a
  // *.openai.azure.com host, which the test certificate cannot be).
  const std::string config_home = scratch_dir() + "/config-" + key;
  write_file(config_home + "/gptq/config",
             "[profile.azure]\nbase_url = " + base_url("https", ports().https, api(key, "ok") + "/openai") +
               "\nkey_header = api-key\ncacert = " + cert("ca.pem") + "\n",
             std::filesystem::perms(0600));
  Env env = key_env();
  env["XDG_CONFIG_HOME"] = config_home;
  env["HOME"] = config_home;
  const RunResult r = run_gptq({ "-P", "azure", "-L", "--batch" }, env, StdinSpec::of("one\ntwo\n"));
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "one\ntwo\n", r.describe());

  const json::value seen = json::parse(from_server(key, "ok", "requests"));
  const std::string base = "/" + api(key, "ok") + "/openai/v1/";
  std::vector<std::string> asked;
  for (const json::value& request : seen.at("data").as_array()) {
    const std::string target(request.at("target").as_string());
    const std::string method(request.at("method").as_string());
    BOOST_TEST_CONTEXT(method << " " << target)
    {
      const json::object& headers = request.at("headers").as_object();
      BOOST_TEST(starts_with(target, base));
      const json::value* api_key = headers.if_contains("api-key");
      BOOST_TEST((api_key != nullptr && api_key->is_string() && api_key->get_string() == fake_key));
      BOOST_TEST(!headers.if_contains("authorization"));
    }
    // Polls repeat; each kind of request is noted once.
    if (asked.empty() || asked.back() != method + " " + target) {
      asked.push_back(method + " " + target);
    }
  }
  const std::vector<std::string> expected{ "POST " + base + "files",
                                           "POST " + base + "batches",
                                           "GET " + base + "batches/batch_1",
                                           "GET " + base + "files/file-2/content" };
  BOOST_TEST(asked == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
