// Batch mode against files and servers that would make it give one line
// another's answer or hide why it failed: a --resume file from another
// input, records twice or past the end of the input, a Batch API output
// with a custom_id twice, and retries that fail one way and then another.
// The test server's batch/KEY mode answers each line as echo does and
// stats/KEY tells how many requests it saw for KEY; flaky/KEY/N/K1,K2 fails
// the first N requests as K1, then K2. Each test uses a KEY of its own.

#include "batch_helpers.hpp"
#include "harness.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <fstream>
#include <sstream>

namespace json = boost::json;
using namespace gptq::it;

namespace {

// The requests the test server counted under KEY.
std::int64_t requests(const std::string& key)
{
  return stats(key).requests;
}

// The --jsonl output of a run over `input`, checked to have succeeded.
std::string jsonl_output_of(const std::string& input)
{
  const RunResult r = run_batch(fresh_key("first-run"), { "-L", "--jsonl" }, input);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.describe());
  return r.out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_batch)

// The output of a run over other reviews, given by mistake: its answers
// must not come back labelled with this input's lines.
BOOST_AUTO_TEST_CASE(resume_with_another_inputs_output_fails_before_sending_anything)
{
  const std::string path = scratch_file("other-input.jsonl", jsonl_output_of("the cat\nthe dog\nthe bird\n"));
  const std::string key = fresh_key("other-input");
  const RunResult r = run_batch(key, { "-L", "--jsonl", "--resume", path }, "a car\nthe dog\na boat\na train\n");
  check_failure(r,
                2,
                { "gptq: --resume: record " + path + ":1 (line 1) is for another input",
                  "\"the cat\"",
                  "\"a car\"",
                  "stopped before sending anything" });
  BOOST_TEST(requests(key) == 0);
}

// The input was edited in the middle: the lines before the change match
// their records and are written; the changed line is not answered from the
// file, and nothing after it is sent.
BOOST_AUTO_TEST_CASE(resume_with_an_input_changed_in_the_middle_stops_at_the_change)
{
  const std::string previous = jsonl_output_of("one\ntwo\nthree\nfour\n");
  const auto records = split_lines(previous);
  BOOST_TEST_REQUIRE(records.size() == 4u);
  const std::string path = scratch_file("changed-input.jsonl", previous);
  const std::string key = fresh_key("changed-input");
  const RunResult r = run_batch(key, { "-L", "--jsonl", "--resume", path }, "one\ntwo\nTHREE\nfour\nfive\n");
  check_ran(r, 2);
  BOOST_TEST(r.out == records[0] + "\n" + records[1] + "\n");
  BOOST_TEST(r.err == "gptq: --resume: record " + path +
                        ":3 (line 3) is for another input: it has \"three\", line 3 is \"THREE\"; stopped: the "
                        "results before line 3 were written, nothing from it on was sent\n");
  BOOST_TEST(requests(key) == 0);
}

// stdin arrives in two parts: the first lines are sent and answered before
// the line that does not match arrives; then nothing more is sent.
BOOST_AUTO_TEST_CASE(resume_mismatch_arriving_later_stops_at_once)
{
  const std::string path = scratch_file("later.jsonl",
                                        R"({"line":3,"input":"old three","output":"old answer"})"
                                        "\n");
  const std::string key = fresh_key("later");
  const RunResult r = run_gptq_https("batch/" + key,
                                     { "-L", "--resume", path },
                                     StdinSpec::in_two_parts(
                                       "p1\np2\n",
                                       [](const std::string& out) { return out == "p1\np2\n"; },
                                       "new three\np4\np5\n",
                                       std::chrono::seconds(10)));
  check_ran(r, 2);
  BOOST_TEST(r.out == "p1\np2\n");
  BOOST_TEST(contains(r.err, "record " + path + ":1 (line 3) is for another input"), r.err);
  BOOST_TEST(contains(r.err, "the results before line 3 were written"), r.err);
  BOOST_TEST(split_lines(r.err).size() == 1u, r.err);
  BOOST_TEST(requests(key) == 2);
}

// Two runs' outputs joined: which record is the answer cannot be told.
BOOST_AUTO_TEST_CASE(resume_file_with_two_records_for_a_line_is_refused_naming_both)
{
  const auto records = split_lines(jsonl_output_of("a\nb\nc\n"));
  BOOST_TEST_REQUIRE(records.size() == 3u);
  const std::string path = scratch_file("twice.jsonl", joined({ records[0], records[1], records[2], records[1] }));
  const std::string key = fresh_key("twice");
  check_failure(run_batch(key, { "-L", "--resume", path }, "a\nb\nc\n"),
                2,
                { "gptq: --resume: records " + path + ":2 and " + path + ":4 are both for line 2" });
  BOOST_TEST(requests(key) == 0);
}

// The same input cut short (head -n): every line gets its own answer; the
// records it has no line for are said on stderr, not used, and change no
// status.
BOOST_AUTO_TEST_CASE(resume_records_past_the_end_of_the_input_are_reported)
{
  const std::string previous = jsonl_output_of("a\nb\nc\nd\ne\n");
  const std::string path = scratch_file("longer.jsonl", previous);
  const std::string key = fresh_key("longer");
  const RunResult r = run_batch(key, { "-L", "--resume", path }, "a\nb\nc\n");
  check_ran(r, 0);
  BOOST_TEST(r.out == "a\nb\nc\n");
  BOOST_TEST(r.err == "gptq: --resume: " + path +
                        " has 2 records for lines 4 to 5, past the end of the input (3 lines); not used\n");
  BOOST_TEST(requests(key) == 0);
}

// A Batch API output and error file joined from two batches: one request
// with two results.
BOOST_AUTO_TEST_CASE(from_batch_refuses_a_custom_id_twice_naming_both_lines)
{
  const auto result = [](int line, const std::string& content) {
    return R"({"id": "batch_req_)" + std::to_string(line) + R"(", "custom_id": "line-)" + std::to_string(line) +
           R"(", "response": {"status_code": 200, "request_id": "req_1", "body": {"choices": [{"index": 0, "message": {"role": "assistant", "content": ")" +
           content + R"("}, "finish_reason": "stop"}]}}, "error": null})";
  };
  const std::string path =
    scratch_file("twice-output.jsonl", joined({ result(2, "two"), result(1, "one"), result(2, "another two") }));
  check_failure(run_gptq({ "-L", "--from-batch", path }, base_env(), StdinSpec::of("a\nb\n")),
                2,
                { "gptq: " + path + ":3: custom_id \"line-2\" is on line 1 too" });
}

// A 503, then a reset connection: "connection reset" alone would hide that
// the server said it was overloaded.
BOOST_AUTO_TEST_CASE(after_retries_the_message_names_the_first_failure_too)
{
  const std::string key = fresh_key("retries");
  const RunResult one = run_gptq_https("flaky/" + key + "/100/503,reset", { "--retries", "1", "hi" });
  check_failure(one, 4, { "gptq: network: ", "; the first of 2 tries failed with api: HTTP 503", "flaky failure 503" });
  BOOST_TEST(requests(key) == 2);

  const std::string batch_key = fresh_key("batch-retries");
  const RunResult batch =
    run_gptq_https("flaky/" + batch_key + "/100/503,reset", { "-L", "--retries", "1" }, StdinSpec::of("hello\n"));
  check_ran(batch, 4);
  BOOST_TEST(batch.out == "\n");
  BOOST_TEST(starts_with(batch.err, "gptq: line 1: network: "), batch.err);
  BOOST_TEST(contains(batch.err, "; the first of 2 tries failed with HTTP 503"), batch.err);
  BOOST_TEST(contains(batch.err, "flaky failure 503"), batch.err);
  BOOST_TEST(split_lines(batch.err).size() == 1u, batch.err);

  // The same failure each time: said once.
  const std::string same_key = fresh_key("same");
  const RunResult same = run_gptq_https("flaky/" + same_key + "/100/503", { "--retries", "1", "hi" });
  check_failure(same, 7, { "HTTP 503" });
  BOOST_TEST(!contains(same.err, "first of"), same.err);
}

BOOST_AUTO_TEST_SUITE_END()
