// Batch mode (-L, --input-jsonl, --jsonl, -j, --fail-fast, --resume) against
// the real test server: its batch/KEY mode answers each line as echo does,
// but first acts on words in the line (sleep=MS, status=NNN, limit=S,
// hangup), and stats/KEY tells how many requests and connections it saw for
// KEY. Each test uses a KEY of its own.

#include "proxy.hpp"

#include "batch_helpers.hpp"
#include "harness.hpp"

#include <boost/json.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace data = boost::unit_test::data;
namespace json = boost::json;
using namespace gptq::it;

namespace {

} // namespace

BOOST_AUTO_TEST_SUITE(batch)

// --- Order and connections ----------------------------------------------

BOOST_AUTO_TEST_CASE(results_keep_the_input_order_when_replies_come_out_of_order)
{
  // Early lines sleep longest, so with 8 in flight the later ones finish
  // first; the delays vary so that no two neighbours finish together.
  std::vector<std::string> lines;
  for (int i = 1; i <= 40; ++i) {
    const int ms = (40 - i) * 6 + (i % 3) * 25;
    lines.push_back("line " + std::to_string(i) + " sleep=" + std::to_string(ms));
  }
  const std::string key = fresh_key("order");
  const RunResult r = run_batch(key, { "-L", "-j", "8" }, joined(lines));
  check_success(r, joined(lines));
  BOOST_TEST(stats(key).requests == 40);
}

BOOST_DATA_TEST_CASE(connections_are_at_most_jobs_and_kept_alive, data::make(std::vector<int>{ 1, 4, 8 }), jobs)
{
  std::vector<std::string> lines;
  for (int i = 1; i <= 40; ++i) {
    lines.push_back("prompt " + std::to_string(i) + " sleep=" + std::to_string(i % 4 * 10));
  }
  const std::string key = fresh_key("conns");
  const RunResult r = run_batch(key, { "-L", "-j", std::to_string(jobs) }, joined(lines));
  check_success(r, joined(lines));
  const Stats s = stats(key);
  BOOST_TEST_CONTEXT(s)
  {
    BOOST_TEST(s.requests == 40);
    BOOST_TEST(s.connections >= 1);
    BOOST_TEST(s.connections <= jobs);
  }
}

// The connections share one TLS context: made per connection, it cost each
// after the first about 0.6 ms of CPU, one after another on the one thread,
// before its first request. -v names the trust store once per context made.
BOOST_AUTO_TEST_CASE(connections_share_one_tls_context)
{
  std::vector<std::string> lines;
  for (int i = 1; i <= 16; ++i) {
    lines.push_back("shared " + std::to_string(i) + " sleep=40");
  }
  const std::string key = fresh_key("one-context");
  const RunResult r = run_batch(key, { "-L", "-j", "4", "-v" }, joined(lines));
  check_ran(r, 0);
  BOOST_TEST(r.out == joined(lines), r.describe());
  BOOST_TEST(stats(key).connections >= 2, stats(key));
  const auto said = error_lines(r);
  BOOST_TEST(std::count_if(said.begin(),
                           said.end(),
                           [](const std::string& line) { return starts_with(line, "gptq: trusting "); }) == 1,
             r.describe());
}

BOOST_AUTO_TEST_CASE(default_jobs_is_4)
{
  std::vector<std::string> lines;
  for (int i = 1; i <= 30; ++i) {
    lines.push_back("p" + std::to_string(i) + " sleep=20");
  }
  const std::string key = fresh_key("default-jobs");
  check_success(run_batch(key, { "-L" }, joined(lines)), joined(lines));
  BOOST_TEST(stats(key).connections <= 4, stats(key));
}

BOOST_AUTO_TEST_CASE(server_closing_after_each_reply_gets_a_connection_per_line)
{
  // The close mode ends every reply with Connection: close.
  std::vector<std::string> lines;
  for (int i = 1; i <= 12; ++i) {
    lines.push_back("closing " + std::to_string(i));
  }
  const std::string key = fresh_key("close");
  const RunResult r = run_gptq_https("counted/" + key + "/close", { "-L", "-j", "3" }, StdinSpec::of(joined(lines)));
  check_success(r, joined(lines));
  const Stats s = stats(key);
  BOOST_TEST(s.requests == 12, s);
  BOOST_TEST(s.connections == 12, s);
}

BOOST_AUTO_TEST_CASE(connection_the_server_closed_while_idle_is_opened_again)
{
  // After a "hangup" line's reply, which allowed keep-alive, the server
  // closes the connection, as one whose idle timeout ran out: the next
  // request on it finds it closed before any response and goes out again on
  // a new connection. The server never read those lost requests.
  std::vector<std::string> lines;
  for (int i = 1; i <= 20; ++i) {
    lines.push_back("idle " + std::to_string(i) + (i % 5 == 0 ? " hangup" : "") +
                    " sleep=" + std::to_string(i % 3 * 15));
  }
  const std::string key = fresh_key("hangup");
  const RunResult r = run_batch(key, { "-L", "-j", "2" }, joined(lines));
  check_success(r, joined(lines));
  const Stats s = stats(key);
  BOOST_TEST(s.requests == 20, s);
  BOOST_TEST(s.connections >= 4, s); // the first, and one after each of the first three hangups
  BOOST_TEST(s.connections <= 2 + 4, s);
}

// --- Output formats ------------------------------------------------------

BOOST_AUTO_TEST_CASE(prompt_words_come_first_and_line_breaks_become_spaces)
{
  // The user message is PROMPT + "\n\n" + line, echoed back: plain output
  // writes each of its line breaks as a space, --jsonl keeps them.
  const std::string key = fresh_key("words");
  const std::string input = "one\n\n  two  \r\nthree";
  // A blank line is not sent; plain output keeps its place with an empty line.
  check_success(run_batch(key, { "-L", "Say:" }, input), "Say:  one\n\nSay:    two\nSay:  three\n");

  const RunResult r = run_batch(key, { "-L", "--jsonl", "Say:" }, input);
  check_ran(r, 0);
  BOOST_TEST(r.err == "");
  const auto records = jsonl_records(r.out);
  BOOST_TEST_REQUIRE(records.size() == 3u, r.describe());
  // Blank lines are skipped but counted: line numbers are physical lines.
  const std::vector<std::pair<std::int64_t, std::string>> expected{ { 1, "one" }, { 3, "  two  " }, { 4, "three" } };
  for (std::size_t i = 0; i < records.size(); ++i) {
    BOOST_TEST_CONTEXT("record " << i)
    {
      BOOST_TEST(records[i].at("line").to_number<std::int64_t>() == expected[i].first);
      BOOST_TEST(string_at(records[i], "input") == expected[i].second);
      BOOST_TEST(string_at(records[i], "output") == "Say:\n\n" + expected[i].second);
      BOOST_TEST(!records[i].contains("error"));
    }
  }
}

// --- Failures ------------------------------------------------------------

// Lines that succeed, fail by the server's status, and fail alone (invalid
// UTF-8).
const std::string mixed_input = "ok one\n"
                                "bad status=400\n"
                                "ok three\n"
                                "boom status=500\n"
                                "ok five\n"
                                "caf\xE9 latte\n"
                                "ok seven\n";

BOOST_AUTO_TEST_CASE(failed_lines_are_empty_and_reported_and_the_others_go_on)
{
  const std::string key = fresh_key("mixed");
  const RunResult r = run_batch(key, { "-L", "-j", "3", "--retries", "0" }, mixed_input);
  check_ran(r, 7); // a server error outranks a rejected request and a bad line
  BOOST_TEST(r.out == "ok one\n\nok three\n\nok five\n\nok seven\n", r.describe());
  const auto errors = error_lines(r);
  BOOST_TEST_REQUIRE(errors.size() == 3u, r.describe());
  BOOST_TEST(starts_with(errors[0], "gptq: line 2: "), errors[0]);
  BOOST_TEST(contains(errors[0], "400"), errors[0]);
  BOOST_TEST(contains(errors[0], "batch failure 400"), errors[0]);
  BOOST_TEST(starts_with(errors[1], "gptq: line 4: "), errors[1]);
  BOOST_TEST(contains(errors[1], "batch failure 500"), errors[1]);
  BOOST_TEST(starts_with(errors[2], "gptq: line 6: "), errors[2]);
  BOOST_TEST(contains(errors[2], "UTF-8"), errors[2]);
  // The bad line was never sent.
  BOOST_TEST(stats(key).requests == 6);
}

BOOST_AUTO_TEST_CASE(jsonl_holds_each_output_or_error_with_its_status)
{
  const std::string key = fresh_key("mixed-jsonl");
  const RunResult r = run_batch(key, { "-L", "--jsonl", "-j", "3", "--retries", "0" }, mixed_input);
  check_ran(r, 7);
  BOOST_TEST(split_lines(r.err).size() == 3u, r.describe());
  const auto records = jsonl_records(r.out);
  BOOST_TEST_REQUIRE(records.size() == 7u, r.describe());
  const std::vector<std::string> inputs{
    "ok one", "bad status=400", "ok three", "boom status=500", "ok five", "caf\xEF\xBF\xBD latte", "ok seven",
  };
  const std::vector<int> statuses{ 0, 5, 0, 7, 0, 2, 0 };
  for (std::size_t i = 0; i < records.size(); ++i) {
    const json::object& rec = records[i];
    BOOST_TEST_CONTEXT("line " << i + 1 << ": " << json::serialize(rec))
    {
      BOOST_TEST(rec.at("line").to_number<std::int64_t>() == static_cast<std::int64_t>(i + 1));
      // Invalid UTF-8 in the input is written as U+FFFD, so the record stays JSON.
      BOOST_TEST(string_at(rec, "input") == inputs[i]);
      if (statuses[i] == 0) {
        BOOST_TEST(string_at(rec, "output") == inputs[i]);
        BOOST_TEST(!rec.contains("error"));
      } else {
        BOOST_TEST(!rec.contains("output"));
        const auto* error = rec.if_contains("error");
        BOOST_TEST_REQUIRE((error != nullptr && error->is_object()));
        BOOST_TEST(error->as_object().at("status").to_number<int>() == statuses[i]);
        BOOST_TEST(!string_at(error->as_object(), "message").empty());
      }
    }
  }
  BOOST_TEST(contains(string_at(records[1].at("error").as_object(), "message"), "batch failure 400"));
  BOOST_TEST(contains(string_at(records[3].at("error").as_object(), "message"), "batch failure 500"));
  BOOST_TEST(contains(string_at(records[5].at("error").as_object(), "message"), "UTF-8"));
}

// Words that make one line fail with one exit status.
struct SeverityCase {
  std::vector<std::string> failures; // the words of the failing lines
  int exit_code;
};

std::ostream& operator<<(std::ostream& os, const SeverityCase& c)
{
  os << "[";
  for (const auto& f : c.failures) {
    os << " " << (f == "\xFF" ? "invalid-utf8" : f);
  }
  return os << " ] -> " << c.exit_code;
}

// The man page's order, from the least: 0, 2, 5, 8, 7, 6, 4, 3 (1 cannot be
// caused from outside). "sleep=3000" meets --idle-timeout 1 (network, 4);
// status=200 is an error body with a 200, a bad response (8). A refused key
// (401, 403) stops the batch, so it comes last.
const std::vector<SeverityCase> severity_cases{
  { {}, 0 },
  { { "\xFF" }, 2 },
  { { "\xFF", "status=400" }, 5 },
  { { "status=404", "status=200", "\xFF" }, 8 },
  { { "status=200", "status=502" }, 7 },
  { { "status=503", "status=429", "status=400" }, 6 },
  { { "status=429", "sleep=3000", "status=500" }, 4 },
  { { "sleep=3000", "status=429", "status=401" }, 3 },
  { { "\xFF", "status=500", "status=403" }, 3 },
};

BOOST_DATA_TEST_CASE(exit_status_is_the_most_severe_of_all_lines, data::make(severity_cases), c)
{
  // A fine line before each failing one, so that the batch ends with a
  // failure: every line is started before the last one fails.
  std::vector<std::string> lines;
  std::string expected_out;
  for (std::size_t i = 0; i < c.failures.size(); ++i) {
    lines.push_back("fine " + std::to_string(i));
    lines.push_back("failing " + c.failures[i]);
    expected_out += "fine " + std::to_string(i) + "\n\n";
  }
  lines.push_back("fine last");
  const bool stops = !c.failures.empty() && (c.failures.back() == "status=401" || c.failures.back() == "status=403");
  if (!stops) {
    expected_out += "fine last\n";
  }
  const std::string key = fresh_key("severity");
  const RunResult r = run_batch(key, { "-L", "-j", "4", "--retries", "0", "--idle-timeout", "1" }, joined(lines));
  check_ran(r, c.exit_code);
  const auto errors = error_lines(r);
  if (stops) {
    // The line after the refused one may have been sent, but it is not written.
    BOOST_TEST(starts_with(r.out, expected_out), r.describe());
    BOOST_TEST((r.out == expected_out || r.out == expected_out + "fine last\n"), r.describe());
    BOOST_TEST_REQUIRE(errors.size() == c.failures.size() + 1, r.describe());
    BOOST_TEST(contains(errors.back(), "refused the key"), errors.back());
  } else {
    BOOST_TEST(r.out == expected_out, r.describe());
    BOOST_TEST_REQUIRE(errors.size() == c.failures.size(), r.describe());
  }
  for (std::size_t i = 0; i < c.failures.size(); ++i) {
    BOOST_TEST(starts_with(errors[i], "gptq: line " + std::to_string(2 * i + 2) + ": "), errors[i]);
  }
}

BOOST_AUTO_TEST_CASE(refused_key_stops_the_batch)
{
  const std::string key = fresh_key("refused");
  const RunResult r = run_batch(key, { "-L", "-j", "1" }, "a\nb\nc status=401\nd\ne\n");
  check_ran(r, 3);
  BOOST_TEST(r.out == "a\nb\n\n", r.describe());
  const auto errors = error_lines(r);
  BOOST_TEST_REQUIRE(errors.size() == 2u, r.describe());
  BOOST_TEST(starts_with(errors[0], "gptq: line 3: "), errors[0]);
  BOOST_TEST(contains(errors[1], "2 lines done"), errors[1]);
  BOOST_TEST(stats(key).requests == 3);
}

BOOST_AUTO_TEST_CASE(a_failing_line_is_retried_as_a_single_request_is)
{
  // 429 (Retry-After: 0) and 500 may pass on another try: each is sent
  // 1 + --retries times; a 400 never is sent again.
  const std::string key = fresh_key("retried");
  const RunResult r =
    run_batch(key, { "-L", "-j", "2", "--retries", "2" }, "a\nb status=429\nc\nd status=500\ne status=400\nf\n");
  check_ran(r, 6);
  BOOST_TEST(r.out == "a\n\nc\n\n\nf\n", r.describe());
  BOOST_TEST(error_lines(r).size() == 3u, r.describe());
  BOOST_TEST(stats(key).requests == 6 + 2 + 2, stats(key));
}

// --- Rate limits ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(rate_limited_requests_are_retried_and_every_line_succeeds)
{
  // The first 3 requests the server sees get 429 (Retry-After: 0).
  std::vector<std::string> lines;
  for (int i = 1; i <= 20; ++i) {
    lines.push_back("limited " + std::to_string(i));
  }
  const std::string key = fresh_key("flaky429");
  const RunResult r =
    run_gptq_https("flaky/" + key + "/3/429", { "-L", "-j", "4", "--retries", "3" }, StdinSpec::of(joined(lines)));
  check_success(r, joined(lines));
  const Stats s = stats(key);
  BOOST_TEST(s.requests == 20 + 3, s);
  BOOST_TEST(s.connections <= 4, s);
}

BOOST_AUTO_TEST_CASE(retry_after_holds_back_every_worker)
{
  // Line 4 gets a 429 with Retry-After: 1 the first time; the server counts
  // the requests that reach it less than a second after that reply. A
  // client that made only that line wait would send the other 20 lines
  // (100 ms each, on 3 connections) within that second. What gptq may send
  // after the 429 left the server and before it read it is bounded by the
  // requests the other 3 workers had in flight plus one more each.
  std::vector<std::string> lines;
  for (int i = 1; i <= 24; ++i) {
    lines.push_back("line " + std::to_string(i) + (i == 4 ? " limit=1" : " sleep=100"));
  }
  const std::string key = fresh_key("limit");
  const RunResult r = run_batch(key, { "-L", "-j", "4", "--retries", "1" }, joined(lines));
  check_success(r, joined(lines));
  const Stats s = stats(key);
  BOOST_TEST(s.requests == 25, s);
  BOOST_TEST(s.early <= 6, s);
}

BOOST_AUTO_TEST_CASE(insufficient_quota_stops_the_batch)
{
  const std::string key = fresh_key("quota");
  const RunResult r = run_gptq_https(
    "flaky/" + key + "/1000/429quota", { "-L", "-j", "1", "--retries", "3" }, StdinSpec::of("a\nb\nc\nd\n"));
  check_ran(r, 6);
  const auto errors = error_lines(r);
  BOOST_TEST(contains(r.err, "insufficient_quota"), r.describe());
  BOOST_TEST(contains(r.err, "0 lines done"), r.describe());
  // Never retried, and nothing after it was sent.
  BOOST_TEST(stats(key).requests == 1);
  BOOST_TEST(!contains(r.out, "b"), r.describe());
}

// As in one-shot mode, a wait over 60 s is not waited, and the message says
// why the line was not tried again.
BOOST_AUTO_TEST_CASE(a_wait_over_60_seconds_is_explained_as_in_one_shot_mode)
{
  const std::string key = fresh_key("retrylong");
  const RunResult r =
    run_gptq_https("flaky/" + key + "/1/retry-long", { "-L", "-j", "1", "--retries", "2" }, StdinSpec::of("a\n"));
  check_ran(r, 7);
  const auto errors = error_lines(r);
  BOOST_TEST_REQUIRE(errors.size() == 1u, r.describe());
  BOOST_TEST(starts_with(errors[0], "gptq: line 1: "), errors[0]);
  BOOST_TEST(contains(errors[0], "the server asks to wait 3600 s before trying again, longer than gptq waits (60 s)"),
             errors[0]);
  BOOST_TEST(stats(key).requests == 1);
}

// --timeout bounds each line's tries and the waits between them together,
// as it bounds a one-shot request: a wait the server asks for that would
// pass it is not waited, and the line fails at once. The other lines, held
// back by the server's wait as every worker is, then have time of their own.
BOOST_AUTO_TEST_CASE(timeout_bounds_the_tries_of_each_line_together)
{
  const std::string key = fresh_key("timeout");
  const RunResult r =
    run_batch(key, { "-L", "-j", "1", "--retries", "2", "--timeout", "5" }, "first limit=6\nsecond\nthird\n");
  check_ran(r, 6);
  const auto errors = error_lines(r);
  BOOST_TEST_REQUIRE(errors.size() == 1u, r.describe());
  BOOST_TEST(starts_with(errors[0], "gptq: line 1: "), errors[0]);
  BOOST_TEST(contains(errors[0], "429"), errors[0]);
  BOOST_TEST(r.out == "\nsecond\nthird\n", r.describe());
  // The 429 was not sent again.
  BOOST_TEST(stats(key).requests == 3);
}

// --- Resume --------------------------------------------------------------

// Twelve prompts with a blank line among them: 13 physical lines.
std::string resume_input()
{
  std::string input;
  for (int i = 1; i <= 12; ++i) {
    input += "resume prompt " + std::to_string(i) + " sleep=" + std::to_string(i % 4 * 5) + "\n";
    if (i == 6) {
      input += "\n";
    }
  }
  return input;
}

BOOST_AUTO_TEST_CASE(resume_sends_only_the_lines_without_an_output)
{
  const std::string first_key = fresh_key("resume-first");
  const RunResult first = run_batch(first_key, { "-L", "--jsonl", "-j", "3" }, resume_input());
  check_ran(first, 0);
  BOOST_TEST(first.err == "");
  const auto records = split_lines(first.out);
  BOOST_TEST_REQUIRE(records.size() == 12u, first.describe());

  // The first 5 records, then the run was cut in the middle of the 6th.
  std::string cut;
  for (int i = 0; i < 5; ++i) {
    cut += records[i] + "\n";
  }
  cut += records[5].substr(0, records[5].size() / 2);
  const std::string path = scratch_file("resume-cut.jsonl", cut);

  const std::string key = fresh_key("resume");
  const RunResult again = run_batch(key, { "-L", "--jsonl", "-j", "3", "--resume", path }, resume_input());
  check_success(again, first.out);
  BOOST_TEST(stats(key).requests == 12 - 5, stats(key));

  // Plain output from the same file: the resumed lines' outputs, as plain lines.
  const std::string plain_key = fresh_key("resume-plain");
  std::string expected_plain;
  for (const auto& line : split_lines(resume_input())) {
    expected_plain += line + "\n"; // a blank line gives an empty one
  }
  check_success(run_batch(plain_key, { "-L", "--resume", path }, resume_input()), expected_plain);
  BOOST_TEST(stats(plain_key).requests == 12 - 5, stats(plain_key));
}

BOOST_AUTO_TEST_CASE(resume_sends_again_the_lines_that_failed)
{
  const std::string first_key = fresh_key("resume-err-first");
  const RunResult first = run_batch(first_key, { "-L", "--jsonl" }, resume_input());
  check_ran(first, 0);
  auto records = split_lines(first.out);
  BOOST_TEST_REQUIRE(records.size() == 12u, first.describe());
  // Line 3 failed in that run; line 9 (the 8th prompt) is missing.
  records[2] = R"({"line":3,"input":"resume prompt 3 sleep=15","error":{"status":7,"message":"HTTP 500"}})";
  records.erase(records.begin() + 7);
  const std::string path = scratch_file("resume-errors.jsonl", joined(records));

  const std::string key = fresh_key("resume-err");
  const RunResult again = run_batch(key, { "-L", "--jsonl", "--resume", path }, resume_input());
  check_success(again, first.out);
  BOOST_TEST(stats(key).requests == 2, stats(key));
}

BOOST_AUTO_TEST_CASE(resume_file_that_is_not_jsonl_output_is_a_usage_error)
{
  const std::string path = scratch_file(
    "resume-bad.jsonl",
    "{\"line\":1,\"input\":\"a\",\"output\":\"x\"}\nnot json\n{\"line\":3,\"input\":\"c\",\"output\":\"y\"}\n");
  const std::string key = fresh_key("resume-bad");
  check_failure(run_batch(key, { "-L", "--resume", path }, "a\nb\nc\n"), 2, { path + ":2" });
  check_failure(run_batch(key, { "-L", "--resume", scratch_dir() + "/no-such-file" }, "a\n"), 2, { "--resume" });
  BOOST_TEST(stats(key).requests == 0);
}

// --- Fail fast -----------------------------------------------------------

BOOST_DATA_TEST_CASE(fail_fast_writes_nothing_after_the_first_failure, data::make(std::vector<int>{ 1, 3 }), jobs)
{
  std::vector<std::string> lines;
  for (int i = 1; i <= 12; ++i) {
    lines.push_back("fast " + std::to_string(i) + (i == 4 ? " status=400" : " sleep=" + std::to_string(i % 3 * 10)));
  }
  const std::string key = fresh_key("fail-fast");
  const RunResult r = run_batch(key, { "-L", "--fail-fast", "-j", std::to_string(jobs) }, joined(lines));
  check_ran(r, 5);
  BOOST_TEST(r.out == "fast 1 sleep=10\nfast 2 sleep=20\nfast 3 sleep=0\n\n", r.describe());
  const auto errors = error_lines(r);
  BOOST_TEST_REQUIRE(errors.size() == 1u, r.describe());
  BOOST_TEST(starts_with(errors[0], "gptq: line 4: "), errors[0]);
  // What was in flight may finish; nothing new starts.
  BOOST_TEST(stats(key).requests <= 4 + (jobs - 1), stats(key));
  if (jobs == 1) {
    BOOST_TEST(stats(key).requests == 4);
  }
}

// --- Input lines ---------------------------------------------------------

namespace {

// Runs a --jsonl batch of `input` against the request mode, which replies
// with the request it received, and returns those requests in input order.
// Not check_ran: the request's Authorization header is in the output.
std::vector<SeenRequest> batch_requests(const std::vector<std::string>& args, const std::string& input)
{
  std::vector<std::string> all{ "--jsonl" };
  all.insert(all.end(), args.begin(), args.end());
  const RunResult r = run_gptq_https("request", all, StdinSpec::of(input));
  BOOST_REQUIRE_MESSAGE(!r.killed, r.describe());
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.err == "");
  std::vector<SeenRequest> seen;
  for (const auto& record : jsonl_records(r.out)) {
    seen.push_back(parse_seen_request(string_at(record, "output")));
  }
  return seen;
}

} // namespace

BOOST_AUTO_TEST_CASE(input_jsonl_system_model_and_fields_reach_that_lines_request)
{
  // The request mode replies with the request it received, as JSON text.
  const std::string input = R"({"prompt":"first"})"
                            "\n"
                            R"({"prompt":"second","system":"line system","model":"line-model","temperature":0.5})"
                            "\n"
                            R"({"prompt":"third"})"
                            "\n";
  const auto requests = batch_requests({ "--input-jsonl", "-s", "global system", "-m", "global-model", "Q:" }, input);
  BOOST_TEST_REQUIRE(requests.size() == 3u);
  struct Expected {
    std::string prompt, system, model;
    bool temperature;
  };
  const std::vector<Expected> expected{
    { "first", "global system", "global-model", false },
    { "second", "line system", "line-model", true },
    { "third", "global system", "global-model", false },
  };
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const SeenRequest& seen = requests[i];
    BOOST_TEST_CONTEXT("line " << i + 1 << ": " << json::serialize(seen.body))
    {
      BOOST_TEST(seen.method == "POST");
      BOOST_TEST(seen.header("authorization").value_or("") == "Bearer " + fake_key);
      const json::object& body = seen.body;
      BOOST_TEST(string_at(body, "model") == expected[i].model);
      BOOST_TEST((!body.contains("stream") || body.at("stream") == false));
      const json::array& messages = body.at("messages").as_array();
      BOOST_TEST_REQUIRE(messages.size() == 2u);
      BOOST_TEST(string_at(messages[0].as_object(), "role") == "system");
      BOOST_TEST(string_at(messages[0].as_object(), "content") == expected[i].system);
      BOOST_TEST(string_at(messages[1].as_object(), "role") == "user");
      BOOST_TEST(string_at(messages[1].as_object(), "content") == "Q:\n\n" + expected[i].prompt);
      BOOST_TEST(body.contains("temperature") == expected[i].temperature);
      if (expected[i].temperature) {
        BOOST_TEST(body.at("temperature").to_number<double>() == 0.5);
      }
    }
  }
}

// Batch mode reads whole replies: a stream field, from -o or from a line,
// must not reach the server and turn a reply into an event stream that the
// batch cannot read. (The request mode replies with the request it got.)
BOOST_AUTO_TEST_CASE(a_stream_field_never_reaches_the_server_in_batch_mode)
{
  const std::string input = R"({"prompt":"one","stream":true,"stream_options":{"include_usage":true}})"
                            "\n"
                            R"({"prompt":"two"})"
                            "\n";
  const auto requests = batch_requests({ "-L", "--input-jsonl", "-o", "stream=true", "-o", "seed=3" }, input);
  BOOST_TEST_REQUIRE(requests.size() == 2u);
  for (const auto& seen : requests) {
    const json::object& body = seen.body;
    BOOST_TEST(!body.contains("stream"), json::serialize(body));
    BOOST_TEST(!body.contains("stream_options"), json::serialize(body));
    BOOST_TEST(body.contains("seed"), json::serialize(body)); // the other -o fields stay
  }
}

BOOST_AUTO_TEST_CASE(bad_input_jsonl_lines_fail_alone)
{
  const std::string input = R"({"prompt":"good one"})"
                            "\n"
                            "not json\n"
                            R"({"prompt":1})"
                            "\n"
                            R"({"system":"no prompt"})"
                            "\n"
                            "[\"an\",\"array\"]\n"
                            R"({"prompt":"good two"})"
                            "\n";
  const std::string key = fresh_key("bad-jsonl");
  const RunResult r = run_batch(key, { "--input-jsonl", "-j", "2" }, input);
  check_ran(r, 2);
  BOOST_TEST(r.out == "good one\n\n\n\n\ngood two\n", r.describe());
  const auto errors = error_lines(r);
  BOOST_TEST_REQUIRE(errors.size() == 4u, r.describe());
  for (std::size_t i = 0; i < errors.size(); ++i) {
    BOOST_TEST(starts_with(errors[i], "gptq: line " + std::to_string(i + 2) + ": "), errors[i]);
  }
  BOOST_TEST(contains(errors[0], "JSON"), errors[0]);
  BOOST_TEST(contains(errors[1], "prompt"), errors[1]);
  BOOST_TEST(contains(errors[2], "prompt"), errors[2]);
  BOOST_TEST(stats(key).requests == 2);
}

BOOST_AUTO_TEST_CASE(a_bad_line_is_a_usage_failure_of_that_line_only)
{
  const std::string key = fresh_key("utf8");
  const RunResult r = run_batch(key, { "-L", "--jsonl" }, "fine\nbad \xC3\x28 byte\nfine again\n");
  check_ran(r, 2);
  const auto records = jsonl_records(r.out);
  BOOST_TEST_REQUIRE(records.size() == 3u, r.describe());
  BOOST_TEST(string_at(records[0], "output") == "fine");
  BOOST_TEST(records[1].at("error").at("status").to_number<int>() == 2);
  BOOST_TEST(string_at(records[2], "output") == "fine again");
  BOOST_TEST(stats(key).requests == 2);
}

// --- Usage ---------------------------------------------------------------

struct UsageCase {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> mentions;
};

std::ostream& operator<<(std::ostream& os, const UsageCase& c)
{
  return os << c.name;
}

const std::vector<UsageCase> usage_cases{
  { "jsonl_without_L", { "--jsonl", "hi" }, { "--jsonl", "-L" } },
  { "jobs_without_L", { "-j", "2", "hi" }, { "--jobs", "-L" } },
  { "fail_fast_without_L", { "--fail-fast", "hi" }, { "--fail-fast", "-L" } },
  { "resume_without_L", { "--resume", "x.jsonl", "hi" }, { "--resume", "-L" } },
  { "L_with_dry_run", { "-L", "--dry-run" }, { "--dry-run", "-L" } },
  { "jobs_0", { "-L", "-j", "0" }, { "--jobs", "0" } },
  { "jobs_65", { "-L", "--jobs", "65" }, { "--jobs", "65" } },
  { "jobs_not_a_number", { "-L", "-j", "many" }, { "--jobs", "many" } },
};

BOOST_DATA_TEST_CASE(batch_usage_errors, data::make(usage_cases), c)
{
  const std::string key = fresh_key(c.name);
  check_failure(run_batch(key, c.args, "line one\nline two\n"), 2, c.mentions);
  BOOST_TEST(stats(key).requests == 0);
}

// --- Through a proxy -----------------------------------------------------

BOOST_AUTO_TEST_CASE(batch_through_an_http_proxy_keeps_its_tunnels)
{
  const Proxy proxy = Proxy::tinyproxy();
  std::vector<std::string> lines;
  for (int i = 1; i <= 20; ++i) {
    lines.push_back("proxied " + std::to_string(i) + " sleep=" + std::to_string(i % 3 * 10));
  }
  const std::string key = fresh_key("proxy");
  const RunResult r = run_batch(key, { "-L", "-j", "3", "--proxy", proxy.url("http") }, joined(lines));
  check_success(r, joined(lines));
  const Stats s = stats(key);
  BOOST_TEST(s.requests == 20, s);
  BOOST_TEST(s.connections >= 1, s);
  BOOST_TEST(s.connections <= 3, s);
  const auto requests = proxy.requests();
  const auto connects = std::count_if(requests.begin(), requests.end(), [](const std::string& line) {
    return starts_with(line, "CONNECT 127.0.0.1:" + std::to_string(ports().https) + " ");
  });
  BOOST_TEST(connects == s.connections, proxy.log());
  BOOST_TEST(connects == static_cast<long>(requests.size()), proxy.log());
}

// A line that fails before it is sent (invalid UTF-8, bad --input-jsonl)
// stops a --fail-fast batch too: nothing after it is written or sent.
BOOST_AUTO_TEST_CASE(fail_fast_stops_at_a_bad_input_line_too)
{
  const std::string key = fresh_key("fail-fast-utf8");
  const RunResult r = run_batch(key, { "-L", "--fail-fast", "-j", "1" }, "a\nb\nc\xFF\nd\ne\n");
  check_ran(r, 2);
  BOOST_TEST(r.out == "a\nb\n\n", r.describe());
  BOOST_TEST(split_lines(r.err).size() == 1u, r.describe());
  BOOST_TEST(stats(key).requests == 2, stats(key));
}

// A line that fails before it is sent is named once, on stderr and in its
// --jsonl error message.
BOOST_AUTO_TEST_CASE(a_bad_line_is_named_once)
{
  const std::string key = fresh_key("utf8-once");
  const RunResult r = run_batch(key, { "-L" }, "fine\nbad \xC3\x28 byte\n");
  check_ran(r, 2);
  BOOST_TEST(starts_with(r.err, "gptq: line 2: "), r.describe());
  BOOST_TEST(!contains(r.err, "line 2: line 2"), r.describe());
  const RunResult j = run_batch(key, { "-L", "--jsonl" }, "fine\nbad \xC3\x28 byte\n");
  BOOST_TEST(!contains(j.out, "\"message\":\"line 2"), j.describe());
}

// --- Input as it arrives, output to its end --------------------------------

BOOST_AUTO_TEST_CASE(the_first_line_is_answered_before_stdin_ends)
{
  // stdin stays open after the first line until its result is on stdout
  // (or 10 s have passed): a batch that waited for the end of its input
  // would answer nothing before the rest came.
  const std::string key = fresh_key("streaming-in");
  bool answered_while_open = false;
  const RunResult r =
    run_gptq_https("batch/" + key,
                   { "-L" },
                   StdinSpec::in_two_parts(
                     "first line\n",
                     [&](const std::string& out) { return answered_while_open = out == "first line\n"; },
                     "second line\nthird line\n",
                     std::chrono::seconds(10)));
  check_success(r, "first line\nsecond line\nthird line\n");
  BOOST_TEST(answered_while_open, "the first result came only after stdin ended: " << r.describe());
  BOOST_TEST(stats(key).requests == 3, stats(key));
}

BOOST_AUTO_TEST_CASE(ctrl_c_leaves_whole_records_in_order_and_resume_completes_them)
{
  // 24 lines of 200 ms each on 2 connections; Ctrl-C comes as soon as the
  // file holds 3 records, long before the last line is answered.
  std::vector<std::string> lines;
  for (int i = 1; i <= 24; ++i) {
    lines.push_back("interrupted " + std::to_string(i) + " sleep=200");
  }
  const std::string path = scratch_dir() + "/interrupted.jsonl";
  const std::string key = fresh_key("sigint");
  bool sent = false;
  const RunResult r =
    run({ GPTQ_BIN, "--base-url", https_url("batch/" + key), "--cacert", cert("ca.pem"), "-L", "--jsonl", "-j", "2" },
        key_env(),
        StdinSpec::of(joined(lines)),
        default_run_limit,
        path,
        [&](const std::string& out, int pid) {
          if (!sent && std::count(out.begin(), out.end(), '\n') >= 3) {
            sent = true;
            kill(pid, SIGINT);
          }
        });
  BOOST_TEST_REQUIRE(sent, r.describe());
  check_ran(r, 130);
  BOOST_TEST(r.err == "", r.describe());
  std::string written;
  {
    std::ifstream file(path, std::ios::binary);
    written.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  BOOST_TEST((written.empty() || written.back() == '\n'), written);
  const auto records = jsonl_records(written);
  BOOST_TEST_REQUIRE(records.size() >= 3u, written);
  BOOST_TEST_REQUIRE(records.size() < lines.size(), written);
  for (std::size_t i = 0; i < records.size(); ++i) {
    BOOST_TEST_CONTEXT("record " << i << ": " << json::serialize(records[i]))
    {
      BOOST_TEST(records[i].at("line").to_number<std::int64_t>() == static_cast<std::int64_t>(i + 1));
      BOOST_TEST(string_at(records[i], "input") == lines[i]);
      BOOST_TEST(string_at(records[i], "output") == lines[i]);
    }
  }

  // Resumed from that file, the batch sends only the rest and writes all.
  const std::string resume_key = fresh_key("sigint-resume");
  const RunResult again = run_batch(resume_key, { "-L", "--jsonl", "-j", "2", "--resume", path }, joined(lines));
  check_ran(again, 0);
  BOOST_TEST(again.err == "", again.describe());
  const auto all = jsonl_records(again.out);
  BOOST_TEST_REQUIRE(all.size() == lines.size(), again.describe());
  for (std::size_t i = 0; i < all.size(); ++i) {
    BOOST_TEST_CONTEXT("record " << i << ": " << json::serialize(all[i]))
    {
      BOOST_TEST(all[i].at("line").to_number<std::int64_t>() == static_cast<std::int64_t>(i + 1));
      BOOST_TEST(string_at(all[i], "output") == lines[i]);
    }
  }
  BOOST_TEST(stats(resume_key).requests == static_cast<std::int64_t>(lines.size() - records.size()), stats(resume_key));
}

BOOST_AUTO_TEST_CASE(reader_leaving_after_the_first_line_ends_the_batch_quietly_with_141)
{
  // head takes the first result and leaves while the batch has more to do.
  std::vector<std::string> lines;
  for (int i = 1; i <= 20; ++i) {
    lines.push_back("headed " + std::to_string(i) + " sleep=100");
  }
  const std::string key = fresh_key("head");
  const std::string command = std::string("'") + GPTQ_BIN + "' -L -j 2 --base-url '" + https_url("batch/" + key) +
                              "' --cacert '" + cert("ca.pem") + "' 2>batch-head-stderr.txt | head -n 1; " +
                              "echo \"${PIPESTATUS[0]}\"; cat batch-head-stderr.txt";
  const RunResult r =
    run({ "/bin/bash", "-c", "cd '" + scratch_dir() + "' && " + command }, key_env(), StdinSpec::of(joined(lines)));
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == lines[0] + "\n141\n", r.describe());
  BOOST_TEST(r.err.empty(), r.describe());
  BOOST_TEST(stats(key).requests < static_cast<std::int64_t>(lines.size()), stats(key));
}

// --- The Batch API -------------------------------------------------------

// One round trip, longer than a function should be: the output file that
// --from-batch reads is made from the request file --emit-batch wrote, so
// the two halves share their input, ids and files.
BOOST_AUTO_TEST_CASE(emit_batch_writes_api_requests_and_from_batch_writes_their_answers_in_input_order)
{
  // Nothing is sent: the base URL counts what would reach it.
  const std::string key = fresh_key("batch-api");
  const std::string input = "first question\n\nsecond question\nthird question\n";
  const std::string requests = scratch_dir() + "/emitted-requests.jsonl";
  const RunResult emitted =
    run_gptq_https("batch/" + key,
                   { "-L", "--emit-batch", requests, "-m", "batch-model", "-s", "Be brief.", "Q:" },
                   StdinSpec::of(input));
  check_success(emitted, "");
  std::string emitted_text;
  {
    std::ifstream file(requests, std::ios::binary);
    emitted_text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  const auto records = jsonl_records(emitted_text);
  BOOST_TEST_REQUIRE(records.size() == 3u, emitted_text);
  const std::vector<std::pair<std::string, std::string>> expected{ { "line-1", "first question" },
                                                                   { "line-3", "second question" },
                                                                   { "line-4", "third question" } };
  for (std::size_t i = 0; i < records.size(); ++i) {
    BOOST_TEST_CONTEXT("request " << i << ": " << json::serialize(records[i]))
    {
      BOOST_TEST(records[i].size() == 4u);
      BOOST_TEST(string_at(records[i], "custom_id") == expected[i].first);
      BOOST_TEST(string_at(records[i], "method") == "POST");
      BOOST_TEST(string_at(records[i], "url") == "/v1/chat/completions");
      BOOST_TEST_REQUIRE(records[i].at("body").is_object());
      const json::object& body = records[i].at("body").as_object();
      BOOST_TEST(string_at(body, "model") == "batch-model");
      BOOST_TEST((!body.contains("stream") || body.at("stream") == false));
      const json::array& messages = body.at("messages").as_array();
      BOOST_TEST_REQUIRE(messages.size() == 2u);
      BOOST_TEST(string_at(messages[0].as_object(), "role") == "system");
      BOOST_TEST(string_at(messages[0].as_object(), "content") == "Be brief.");
      BOOST_TEST(string_at(messages[1].as_object(), "role") == "user");
      BOOST_TEST(string_at(messages[1].as_object(), "content") == "Q:\n\n" + expected[i].second);
    }
  }

  // The output file as the Batch API writes it: in its own order, and one
  // request it did not run.
  auto answer = [](const std::string& custom_id, const std::string& content) {
    const json::object completion{
      { "id", "chatcmpl-" + custom_id },
      { "object", "chat.completion" },
      { "created", 1711652795 },
      { "model", "batch-model" },
      { "choices",
        json::array{ json::object{ { "index", 0 },
                                   { "message", json::object{ { "role", "assistant" }, { "content", content } } },
                                   { "logprobs", nullptr },
                                   { "finish_reason", "stop" } } } },
      { "usage", json::object{ { "prompt_tokens", 20 }, { "completion_tokens", 9 }, { "total_tokens", 29 } } },
    };
    return json::serialize(json::object{
             { "id", "batch_req_" + custom_id },
             { "custom_id", custom_id },
             { "response",
               json::object{ { "status_code", 200 }, { "request_id", "req_" + custom_id }, { "body", completion } } },
             { "error", nullptr } }) +
           "\n";
  };
  const std::string results = scratch_file(
    "batch-api-output.jsonl",
    answer("line-4", "Answer\nthree.") +
      R"({"id": "batch_req_x", "custom_id": "line-3", "response": null, "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})"
      "\n" +
      answer("line-1", "Answer one."));
  const RunResult plain = run_gptq_https("batch/" + key, { "-L", "--from-batch", results, "Q:" }, StdinSpec::of(input));
  check_ran(plain, 5); // the request the API did not run
  BOOST_TEST(plain.out == "Answer one.\n\n\nAnswer three.\n", plain.describe());
  const auto errors = error_lines(plain);
  BOOST_TEST_REQUIRE(errors.size() == 1u, plain.describe());
  BOOST_TEST(starts_with(errors[0], "gptq: line 3: "), errors[0]);
  BOOST_TEST(contains(errors[0], "completion window expired"), errors[0]);

  const RunResult jsonl =
    run_gptq_https("batch/" + key, { "-L", "--jsonl", "--from-batch", results, "Q:" }, StdinSpec::of(input));
  check_ran(jsonl, 5);
  const auto out = jsonl_records(jsonl.out);
  BOOST_TEST_REQUIRE(out.size() == 3u, jsonl.describe());
  BOOST_TEST(out[0].at("line").to_number<int>() == 1);
  BOOST_TEST(string_at(out[0], "output") == "Answer one.");
  BOOST_TEST(out[1].at("line").to_number<int>() == 3);
  BOOST_TEST(out[1].at("error").at("status").to_number<int>() == 5);
  BOOST_TEST(out[2].at("line").to_number<int>() == 4);
  BOOST_TEST(string_at(out[2], "output") == "Answer\nthree.");
  const Stats s = stats(key);
  BOOST_TEST(s.requests == 0, s);
  BOOST_TEST(s.connections == 0, s);
}

BOOST_AUTO_TEST_SUITE_END()
