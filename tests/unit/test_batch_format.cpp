#include "batch_format.hpp"

#include "error.hpp"
#include "prompt.hpp"
#include "request.hpp"
#include "testkit.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace gptq;
using gptq::test::failure_of;

namespace {

// Splits `input` into physical lines and parses each, as the engine does.
template<typename Parse>
std::vector<BatchItem> items_of(std::string_view input, Parse parse)
{
  std::vector<BatchItem> items;
  std::size_t number = 0;
  while (!input.empty()) {
    const auto end = input.find('\n');
    const auto line = input.substr(0, end);
    if (auto item = parse(++number, line)) {
      items.push_back(std::move(*item));
    }
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  }
  return items;
}

// Fixtures shaped exactly like the documented examples of the OpenAI Batch
// API, except that custom_id is "line-N" (what --emit-batch writes) where
// the examples say "request-N".

// The request input object of the API reference
// (https://platform.openai.com/docs/api-reference/batch/request-input).
const std::string documented_input =
  R"({"custom_id": "request-1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "What is 2+2?"}]}})";

// The output file of the Batch API guide
// (https://platform.openai.com/docs/guides/batch, "Retrieving the results"):
// request-2 before request-1, as the guide warns.
const std::string guide_output =
  R"({"id": "batch_req_123", "custom_id": "line-2", "response": {"status_code": 200, "request_id": "req_123", "body": {"id": "chatcmpl-123", "object": "chat.completion", "created": 1711652795, "model": "gpt-3.5-turbo-0125", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello."}, "logprobs": null, "finish_reason": "stop"}], "usage": {"prompt_tokens": 22, "completion_tokens": 2, "total_tokens": 24}, "system_fingerprint": "fp_123"}}, "error": null})"
  "\n"
  R"({"id": "batch_req_456", "custom_id": "line-1", "response": {"status_code": 200, "request_id": "req_789", "body": {"id": "chatcmpl-abc", "object": "chat.completion", "created": 1711652789, "model": "gpt-3.5-turbo-0125", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello! How can I assist you today?"}, "logprobs": null, "finish_reason": "stop"}], "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}, "system_fingerprint": "fp_3ba"}}, "error": null})"
  "\n";

// The request output object of the API reference
// (https://platform.openai.com/docs/api-reference/batch/request-output).
const std::string reference_output =
  R"({"id": "batch_req_wnaDys", "custom_id": "line-2", "response": {"status_code": 200, "request_id": "req_c187b3", "body": {"id": "chatcmpl-9758Iw", "object": "chat.completion", "created": 1711475054, "model": "gpt-4o-mini", "choices": [{"index": 0, "message": {"role": "assistant", "content": "2 + 2 equals 4."}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 24, "completion_tokens": 15, "total_tokens": 39}, "system_fingerprint": null}}, "error": null})"
  "\n";

// Expired requests in the error file, from the guide's "Batch expiration".
const std::string guide_expired =
  R"({"id": "batch_req_123", "custom_id": "line-3", "response": null, "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})"
  "\n"
  R"({"id": "batch_req_123", "custom_id": "line-7", "response": null, "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})"
  "\n";

// An error file line for a request the API answered with an HTTP error: no
// example is documented, so this follows the request output object's schema
// with an error body of the Chat Completions API.
std::string http_error_line(int line, int status, const std::string& body)
{
  return R"({"id": "batch_req_789", "custom_id": "line-)" + std::to_string(line) +
         R"(", "response": {"status_code": )" + std::to_string(status) + R"(, "request_id": "req_abc", "body": )" +
         body + R"(}, "error": null})" + "\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(batch_format)

// --- input lines ---

BOOST_AUTO_TEST_CASE(plain_lines_are_numbered_by_physical_line_and_blank_ones_skipped)
{
  const auto items = items_of("first\n\n   \t\nsecond\r\n\r\nthird", parse_plain_line);
  BOOST_TEST_REQUIRE(items.size() == 3u);
  BOOST_TEST(items[0].line == 1u);
  BOOST_TEST(items[0].prompt == "first");
  BOOST_TEST(items[1].line == 4u);
  BOOST_TEST(items[1].prompt == "second"); // the "\r" of CRLF is gone
  BOOST_TEST(items[1].input == "second");
  BOOST_TEST(items[2].line == 6u);
  BOOST_TEST(items[2].prompt == "third");
  BOOST_TEST(!items[2].system.has_value());
  BOOST_TEST(items[2].fields.empty());
}

BOOST_AUTO_TEST_CASE(plain_line_keeps_its_own_white_space_and_drops_only_one_final_cr)
{
  const auto item = parse_plain_line(9, "  indented\tcode \r\r");
  BOOST_TEST_REQUIRE(item.has_value());
  BOOST_TEST(item->line == 9u);
  BOOST_TEST(item->input == "  indented\tcode \r");
  BOOST_TEST(item->prompt == item->input);
  BOOST_TEST(!parse_plain_line(1, "\r").has_value());
  BOOST_TEST(!parse_plain_line(1, "").has_value());
}

BOOST_AUTO_TEST_CASE(plain_line_with_invalid_utf8_is_an_error_of_that_line)
{
  const auto f = failure_of([] { parse_plain_line(12, "caf\xE9"); });
  BOOST_TEST(f.status == 2);
  BOOST_TEST(f.phase == "line 12");
  BOOST_TEST(f.message.find("invalid UTF-8 at byte 3") != std::string::npos, f.message);
}

BOOST_AUTO_TEST_CASE(jsonl_line_gives_prompt_system_and_request_fields)
{
  const auto item = parse_jsonl_line(
    3,
    R"({"prompt":"Translate: chat","system":"You translate to English.","model":"m1","temperature":0.7,"max_tokens":50,"stop":["\n"],"seed":null})");
  BOOST_TEST_REQUIRE(item.has_value());
  BOOST_TEST(item->line == 3u);
  BOOST_TEST(item->prompt == "Translate: chat");
  BOOST_TEST(item->system.value_or("") == "You translate to English.");
  const std::vector<std::pair<std::string, std::string>> fields = { { "model", R"("m1")" },
                                                                    { "temperature", "0.7" },
                                                                    { "max_tokens", "50" },
                                                                    { "stop", R"(["\n"])" },
                                                                    { "seed", "null" } };
  BOOST_TEST((item->fields == fields));
}

// The fields are applied like -o KEY=VALUE: what the engine will do with
// them gives the request the line asked for.
BOOST_AUTO_TEST_CASE(jsonl_fields_set_the_request_like_dash_o)
{
  const auto item = parse_jsonl_line(1, R"({"prompt":"hi","model":"m1","temperature":0.25,"tags":"x"})");
  BOOST_TEST_REQUIRE(item.has_value());
  Options o;
  o.stream = false;
  o.model = "default";
  o.system = item->system;
  o.fields = item->fields;
  const Url local = endpoint_url(parse_url("http://localhost:8080/v1"), "/chat/completions");
  BOOST_TEST(build_request_body(o, item->prompt, local) ==
             R"({"model":"m1","messages":[{"role":"user","content":"hi"}],"temperature":0.25,"tags":"x"})");
}

BOOST_AUTO_TEST_CASE(jsonl_blank_lines_are_skipped_and_counted_and_crlf_is_accepted)
{
  const auto items = items_of("{\"prompt\":\"a\"}\r\n\r\n  \n{\"prompt\":\"b\\r\"}\r\n", parse_jsonl_line);
  BOOST_TEST_REQUIRE(items.size() == 2u);
  BOOST_TEST(items[0].line == 1u);
  BOOST_TEST(items[0].input == "{\"prompt\":\"a\"}");
  BOOST_TEST(items[1].line == 4u);
  BOOST_TEST(items[1].prompt == "b\r"); // an escaped "\r" is the prompt's own
}

BOOST_AUTO_TEST_CASE(jsonl_input_errors_name_the_line_and_what_was_expected)
{
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
    { R"({"prompt": "unclosed)", "not valid JSON at byte" },
    { "prompt: hello", "not valid JSON at byte 0" },
    { R"(["hello"])", "not a JSON object" },
    { R"("hello")", "not a JSON object" },
    { R"({"model": "m"})", "no \"prompt\"" },
    { R"({"prompt": 42})", "\"prompt\" must be a string, not 42" },
    { R"({"prompt": null})", "\"prompt\" must be a string, not null" },
    { R"({"prompt": "hi", "system": ["a"]})", "\"system\" must be a string, not [\"a\"]" },
    { R"({"prompt": " \n "})", "the \"prompt\" is empty" },
    { "{\"prompt\": \"caf\xE9\"}", "invalid UTF-8 at byte 15" },
  };
  for (const auto& c : cases) {
    const auto f = failure_of([&] { parse_jsonl_line(7, c.text); });
    BOOST_TEST(f.status == 2, c.text);
    BOOST_TEST(f.phase == "line 7", c.text);
    BOOST_TEST(f.message.find(c.expected) != std::string::npos, c.text << " -> " << f.message);
  }
  // Shape errors show an example of a good line.
  const auto f = failure_of([] { parse_jsonl_line(2, "[]"); });
  BOOST_TEST(f.message.find(R"({"prompt": "...")") != std::string::npos, f.message);
}

// --- plain output ---

BOOST_AUTO_TEST_CASE(plain_result_is_one_line_whatever_the_line_breaks)
{
  BOOST_TEST(plain_result("one\ntwo") == "one two\n");
  BOOST_TEST(plain_result("one\r\ntwo") == "one two\n");
  BOOST_TEST(plain_result("one\rtwo") == "one two\n");
  BOOST_TEST(plain_result("one\n\ntwo") == "one  two\n"); // each break is one space
  BOOST_TEST(plain_result("one\r\n\r\ntwo\n\rthree") == "one  two  three\n");
  BOOST_TEST(plain_result("answer\n") == "answer\n");
  BOOST_TEST(plain_result("answer \t\r\n\n") == "answer\n");
  BOOST_TEST(plain_result("  lead\tinner") == "  lead\tinner\n");
  BOOST_TEST(plain_result("") == "\n");
  BOOST_TEST(plain_result("\n\r\n") == "\n");
  BOOST_TEST(plain_result("caf\xC3\xA9\n\xE2\x82\xAC") == "caf\xC3\xA9 \xE2\x82\xAC\n");
}

// --- JSONL output ---

BOOST_AUTO_TEST_CASE(jsonl_result_is_one_line_of_exactly_this_shape)
{
  BOOST_TEST(jsonl_result(3, "2+2?", "4") == "{\"line\":3,\"input\":\"2+2?\",\"output\":\"4\"}\n");
  BOOST_TEST(jsonl_error(5, "x", 7, "api: HTTP 500") ==
             "{\"line\":5,\"input\":\"x\",\"error\":{\"status\":7,\"message\":\"api: HTTP 500\"}}\n");
}

BOOST_AUTO_TEST_CASE(jsonl_records_round_trip_byte_for_byte)
{
  const std::string texts[] = {
    "line one\nline two\r\nthree\rfour\n",
    "quotes \" and \\ backslash / slash",
    "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87",
    std::string("control \x01\x1f\t\b\f\x7f nul ") + '\0' + " end",
    "",
  };
  for (const auto& input : texts) {
    for (const auto& output : texts) {
      const std::string record = jsonl_result(42, input, output);
      BOOST_TEST(record.find('\n') == record.size() - 1); // one line, ending in exactly one "\n"
      const auto v = boost::json::parse(record);
      BOOST_TEST(v.at("line").as_int64() == 42);
      BOOST_TEST(std::string(v.at("input").as_string()) == input);
      BOOST_TEST(std::string(v.at("output").as_string()) == output);
      BOOST_TEST(v.as_object().size() == 3u);

      const std::string error = jsonl_error(42, input, 6, output);
      BOOST_TEST(error.find('\n') == error.size() - 1);
      const auto e = boost::json::parse(error);
      BOOST_TEST(std::string(e.at("input").as_string()) == input);
      BOOST_TEST(e.at("error").at("status").as_int64() == 6);
      BOOST_TEST(std::string(e.at("error").at("message").as_string()) == output);
      BOOST_TEST(!e.as_object().contains("output"));
    }
  }
}

BOOST_AUTO_TEST_CASE(jsonl_records_replace_malformed_utf8_and_stay_valid_json)
{
  const std::string record = jsonl_result(1, "Latin-1 caf\xE9!", "cut \xE2\x82");
  const auto v = boost::json::parse(record); // throws if the record were not valid JSON
  BOOST_TEST(std::string(v.at("input").as_string()) == "Latin-1 caf\xEF\xBF\xBD!");
  BOOST_TEST(std::string(v.at("output").as_string()) == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  const auto e = boost::json::parse(jsonl_error(1, "\xFF", 2, "bad \xC0"));
  BOOST_TEST(std::string(e.at("input").as_string()) == "\xEF\xBF\xBD");
  BOOST_TEST(std::string(e.at("error").at("message").as_string()) == "bad \xEF\xBF\xBD");
}

// --- resume ---

// The outputs of `records`, by line: what a resumed run writes again.
std::map<std::size_t, std::string> outputs_of(const std::map<std::size_t, ResumedRecord>& records)
{
  std::map<std::size_t, std::string> outputs;
  for (const auto& [line, record] : records) {
    if (record.output) {
      outputs.emplace(line, *record.output);
    }
  }
  return outputs;
}

BOOST_AUTO_TEST_CASE(resume_takes_outputs_and_leaves_errors_to_be_retried)
{
  const std::string previous = jsonl_result(1, "a", "first\nreply") + jsonl_error(2, "b", 6, "HTTP 429") +
                               jsonl_result(4, "d", "fourth \"reply\"") + "\n" + jsonl_result(10, "j", "");
  const auto records = resumed_records(previous, "old.jsonl");
  const std::map<std::size_t, std::string> expected = { { 1, "first\nreply" }, { 4, "fourth \"reply\"" }, { 10, "" } };
  BOOST_TEST((outputs_of(records) == expected));
  // Every record keeps its input and where it is in the file, the error's too.
  BOOST_TEST_REQUIRE(records.size() == 4u);
  BOOST_TEST(records.at(2).input == "b");
  BOOST_TEST(!records.at(2).output);
  BOOST_TEST(records.at(2).record == 2u);
  BOOST_TEST(records.at(10).input == "j");
  BOOST_TEST(records.at(10).record == 5u); // after a blank line
}

BOOST_AUTO_TEST_CASE(resume_ignores_a_last_line_cut_off_by_the_interruption)
{
  const std::string previous = jsonl_result(1, "a", "one") + jsonl_result(2, "b", "two");
  const std::string cut = previous + R"({"line":3,"input":"c","outp)";
  const auto done = resumed_records(cut, "old.jsonl");
  BOOST_TEST(done.size() == 2u);
  BOOST_TEST(done.at(2).output.value_or("?") == "two");
  // Ctrl-C ends the line it cut; trailing blank lines change nothing.
  BOOST_TEST(resumed_records(cut + "\n", "old.jsonl").size() == 2u);
  BOOST_TEST(resumed_records(cut + "\n\n", "old.jsonl").size() == 2u);
  // Cut just before its "\n", the last record is whole: it counts.
  const std::string whole = previous + R"({"line":3,"input":"c","output":"three"})";
  BOOST_TEST(resumed_records(whole, "old.jsonl").at(3).output.value_or("?") == "three");
  // CRLF, as a file edited on Windows has it.
  BOOST_TEST(
    resumed_records("{\"line\":5,\"input\":\"e\",\"output\":\"x\"}\r\n", "old.jsonl").at(5).output.value_or("?") ==
    "x");
}

BOOST_AUTO_TEST_CASE(resume_bad_lines_name_the_file_and_line)
{
  struct Case {
    std::string text;
    std::string phase;
    std::string expected;
  };
  const std::string good = jsonl_result(1, "a", "one");
  const Case cases[] = {
    { good + "{\"line\":2,\"out\n" + good, "old.jsonl:2", "not valid JSON" },
    { good + "{\"line\":2,\"out\n   \n" + good, "old.jsonl:2", "not valid JSON" }, // not the last record
    { good + "[1,2]\n", "old.jsonl:2", "not a JSON object" },
    { good + jsonl_result(2, "b", "two") + "{\"input\":\"x\",\"output\":\"y\"}\n",
      "old.jsonl:3",
      "no positive \"line\"" },
    { "{\"line\":0,\"input\":\"x\",\"output\":\"y\"}\n", "old.jsonl:1", "no positive \"line\"" },
    { "{\"line\":\"1\",\"input\":\"x\",\"output\":\"y\"}\n", "old.jsonl:1", "no positive \"line\"" },
    { "{\"line\":1,\"input\":\"x\",\"output\":7}\n", "old.jsonl:1", "\"output\" is not a string" },
    { "{\"line\":1,\"input\":\"x\"}", "old.jsonl:1", "neither \"output\" nor \"error\"" }, // JSON, so not a cut
    // A record that cannot be checked against its line is not trusted.
    { good + "{\"line\":2,\"output\":\"y\"}\n", "old.jsonl:2", "no \"input\" string" },
    { "{\"line\":1,\"input\":7,\"output\":\"y\"}\n", "old.jsonl:1", "no \"input\" string" },
  };
  for (const auto& c : cases) {
    const auto f = failure_of([&] { resumed_records(c.text, "old.jsonl"); });
    BOOST_TEST(f.status == 2, c.text);
    BOOST_TEST(f.phase == c.phase, c.text);
    BOOST_TEST(f.message.find(c.expected) != std::string::npos, c.text << " -> " << f.message);
    BOOST_TEST(f.message.find("gptq --jsonl") != std::string::npos, f.message);
  }
}

// Two runs' outputs joined: which of two records is the answer cannot be
// told, so neither is taken.
BOOST_AUTO_TEST_CASE(resume_refuses_two_records_for_one_line_naming_both)
{
  const std::string text = jsonl_result(1, "a", "one") + jsonl_error(2, "b", 4, "reset") +
                           jsonl_result(3, "c", "three") + "\n" + jsonl_result(2, "b", "two");
  const auto f = failure_of([&] { resumed_records(text, "old.jsonl"); });
  BOOST_TEST(f.status == 2);
  BOOST_TEST(f.phase == "--resume");
  BOOST_TEST(f.message.starts_with("records old.jsonl:2 and old.jsonl:5 are both for line 2;"), f.message);
}

BOOST_AUTO_TEST_CASE(recorded_input_is_the_line_without_its_cr_and_with_bad_bytes_replaced)
{
  BOOST_TEST(is_recorded_input("a b", "a b"));
  BOOST_TEST(is_recorded_input("a b", "a b\r"));
  BOOST_TEST(is_recorded_input("a b\r", "a b\r\r")); // only the line break's "\r" goes
  BOOST_TEST(!is_recorded_input("a b", "a b\r\r"));
  BOOST_TEST(is_recorded_input(R"({"prompt": "x"})", R"({"prompt": "x"})"));
  // A line that failed (bad UTF-8) was recorded as read: "\r" kept, bad
  // bytes as U+FFFD.
  BOOST_TEST(is_recorded_input("caf\xEF\xBF\xBD\r", "caf\xE9\r"));
  BOOST_TEST(is_recorded_input("caf\xEF\xBF\xBD", "caf\xE9"));
  const auto record = boost::json::parse(jsonl_error(1, "caf\xE9", 2, "not UTF-8"));
  BOOST_TEST(is_recorded_input(std::string(record.at("input").as_string()), "caf\xE9"));
  BOOST_TEST(!is_recorded_input("a b", "a  b"));
  BOOST_TEST(!is_recorded_input("a b", "a c"));
  BOOST_TEST(!is_recorded_input("a b", ""));
  BOOST_TEST(!is_recorded_input("caf\xEF\xBF\xBD", "cafe"));
  BOOST_TEST(!is_recorded_input(R"({"prompt": "x"})", R"({"prompt":"x"})")); // the line as read, not its meaning
}

// --- OpenAI Batch API ---

BOOST_AUTO_TEST_CASE(emitted_request_line_has_the_documented_shape)
{
  Options o;
  o.stream = false;
  o.model = "gpt-4o-mini";
  o.system = "You are a helpful assistant.";
  const Url openai = endpoint_url(parse_url("https://api.openai.com/v1"), "/chat/completions");
  const std::string line = batch_request_line(1, build_request_body(o, "What is 2+2?", openai));
  BOOST_TEST(
    line ==
    R"({"custom_id":"line-1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is 2+2?"}]}})"
    "\n");
  BOOST_TEST(line.find('\n') == line.size() - 1);
  auto documented = boost::json::parse(documented_input);
  documented.as_object()["custom_id"] = "line-1";
  BOOST_TEST(boost::json::parse(line) == documented); // the body is JSON, not a string
}

BOOST_AUTO_TEST_CASE(batch_output_lines_in_any_order_are_keyed_by_input_line)
{
  const auto results = parse_batch_output(guide_output, "batch_output.jsonl");
  BOOST_TEST_REQUIRE(results.size() == 2u);
  BOOST_TEST(results.begin()->first == 1u);
  BOOST_TEST(results.at(1).output.value_or("?") == "Hello! How can I assist you today?");
  BOOST_TEST(results.at(1).status == 0);
  BOOST_TEST(results.at(1).message.empty());
  BOOST_TEST(results.at(1).finish_reason.value_or("") == "stop");
  BOOST_TEST(results.at(2).output.value_or("?") == "Hello.");

  const auto reference = parse_batch_output(reference_output, "batch_output.jsonl");
  BOOST_TEST_REQUIRE(reference.size() == 1u);
  BOOST_TEST(reference.at(2).output.value_or("?") == "2 + 2 equals 4.");
}

BOOST_AUTO_TEST_CASE(batch_error_objects_are_failures_with_their_message_and_code)
{
  const auto results = parse_batch_output(guide_expired, "batch_errors.jsonl");
  BOOST_TEST_REQUIRE(results.size() == 2u);
  for (const std::size_t line : { 3u, 7u }) {
    const auto& r = results.at(line);
    BOOST_TEST(!r.output.has_value());
    BOOST_TEST(r.status == 5);
    BOOST_TEST(r.message ==
               "This request could not be executed before the completion window expired. (code: batch_expired)");
  }
}

BOOST_AUTO_TEST_CASE(batch_http_errors_get_gptqs_status_for_the_code_and_the_servers_message)
{
  const std::string body_400 =
    R"({"error": {"message": "The model `gpt-5-nano-x` does not exist.", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}})";
  const std::string text =
    http_error_line(4, 400, body_400) +
    http_error_line(
      5, 429, R"({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}})") +
    http_error_line(6, 500, "null") + http_error_line(8, 401, R"({"error": "bad key"})");
  const auto results = parse_batch_output(text, "errors.jsonl");
  BOOST_TEST_REQUIRE(results.size() == 4u);
  BOOST_TEST(!results.at(4).output.has_value());
  BOOST_TEST(results.at(4).status == 5);
  BOOST_TEST(results.at(4).message ==
             "HTTP 400: The model `gpt-5-nano-x` does not exist. (code: model_not_found, type: invalid_request_error)");
  BOOST_TEST(results.at(5).status == 6);
  BOOST_TEST(results.at(5).message.starts_with("HTTP 429: Rate limit reached"), results.at(5).message);
  BOOST_TEST(results.at(6).status == 7);
  BOOST_TEST(results.at(6).message == "HTTP 500");
  BOOST_TEST(results.at(8).status == 3);
  BOOST_TEST(results.at(8).message == "HTTP 401: bad key");
}

BOOST_AUTO_TEST_CASE(batch_2xx_without_a_usable_reply_is_a_failure)
{
  const auto line = [](int n, const std::string& body) {
    return R"({"id": "batch_req_1", "custom_id": "line-)" + std::to_string(n) +
           R"(", "response": {"status_code": 200, "request_id": "req_1", "body": )" + body + R"(}, "error": null})" +
           "\n";
  };
  const std::string text =
    line(1, R"({"object": "chat.completion", "choices": []})") +
    line(
      2,
      R"({"choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}]})") +
    line(3,
         R"({"choices": [{"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "length"}]})") +
    line(4, R"("{\"choices\": [{\"message\": {\"content\": \"from a string body\"}}]}")");
  const auto results = parse_batch_output(text, "out.jsonl");
  BOOST_TEST(results.at(1).status == 8);
  BOOST_TEST(results.at(1).message.find("no choices") != std::string::npos, results.at(1).message);
  BOOST_TEST(results.at(2).status == 5);
  BOOST_TEST(results.at(2).message == "the model refused: I can't help with that.");
  BOOST_TEST(results.at(3).status == 8);
  BOOST_TEST(results.at(3).message == "the reply has no text content (finish_reason: length)");
  BOOST_TEST(results.at(3).finish_reason.value_or("") == "length");
  BOOST_TEST(results.at(4).output.value_or("?") == "from a string body");
}

BOOST_AUTO_TEST_CASE(batch_output_with_a_foreign_custom_id_names_the_file_and_line)
{
  // The guide's own custom_ids were not written by gptq.
  const std::string foreign =
    R"({"id": "batch_req_123", "custom_id": "request-2", "response": null, "error": {"code": "batch_expired", "message": "expired"}})";
  const auto f = failure_of([&] { parse_batch_output(reference_output + foreign + "\n", "batch_output.jsonl"); });
  BOOST_TEST(f.status == 2);
  BOOST_TEST(f.phase == "batch_output.jsonl:2");
  BOOST_TEST(f.message.find("custom_id \"request-2\" is not one gptq wrote (\"line-N\")") != std::string::npos,
             f.message);

  for (const std::string id :
       { "line-0", "line-01", "line-1x", "line--1", "line-", "LINE-1", "line-99999999999999999999999" }) {
    const std::string text = R"({"custom_id": ")" + id + R"(", "response": null, "error": {"message": "x"}})";
    const auto g = failure_of([&] { parse_batch_output(text, "f"); });
    BOOST_TEST(g.phase == "f:1", id);
    BOOST_TEST(g.message.find("custom_id") != std::string::npos, id << " -> " << g.message);
  }
}

BOOST_AUTO_TEST_CASE(batch_output_bad_lines_name_the_file_and_line)
{
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
    { "{\"custom_id\": \"line-1\", \"resp", "not valid JSON" },
    { "[]", "not a JSON object" },
    { R"({"id": "batch_req_1", "response": null, "error": null})", "no \"custom_id\"" },
    { R"({"custom_id": "line-1", "response": null, "error": null})", "neither a \"response\" nor an \"error\"" },
    { R"({"custom_id": "line-1", "response": {"body": {}}, "error": null})", "no HTTP \"status_code\"" },
    { R"({"custom_id": "line-1", "response": {"status_code": "200", "body": {}}, "error": null})",
      "no HTTP \"status_code\"" },
  };
  for (const auto& c : cases) {
    const auto f = failure_of([&] { parse_batch_output(guide_output + "\n" + c.text + "\n", "out.jsonl"); });
    BOOST_TEST(f.status == 2, c.text);
    BOOST_TEST(f.phase == "out.jsonl:4", c.text); // two records, a blank line, then this
    BOOST_TEST(f.message.find(c.expected) != std::string::npos, c.text << " -> " << f.message);
  }
}

// A request has one result: a custom_id twice means two batches' files
// joined, and either result could be this input's.
BOOST_AUTO_TEST_CASE(batch_output_refuses_a_custom_id_twice_naming_both_lines)
{
  const std::string ok =
    R"({"custom_id": "line-3", "response": {"status_code": 200, "body": {"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}]}}, "error": null})";
  const std::string expired =
    R"({"custom_id": "line-3", "response": null, "error": {"code": "batch_expired", "message": "expired"}})";
  const auto f = failure_of([&] { parse_batch_output(expired + "\n" + guide_output + "\n" + ok + "\n", "out.jsonl"); });
  BOOST_TEST(f.status == 2);
  BOOST_TEST(f.phase == "out.jsonl:5");
  BOOST_TEST(f.message.starts_with("custom_id \"line-3\" is on line 1 too;"), f.message);
}

// What --emit-batch writes for the input's lines is what --from-batch maps
// back to them, whatever order the answers come in.
BOOST_AUTO_TEST_CASE(emitted_custom_ids_come_back_to_their_lines)
{
  Options o;
  o.stream = false;
  const Url openai = endpoint_url(parse_url("https://api.openai.com/v1"), "/chat/completions");
  const auto items = items_of("alpha\n\nbeta\ngamma\n", parse_plain_line);
  std::vector<std::string> answers;
  for (const auto& item : items) {
    const auto request = boost::json::parse(batch_request_line(item.line, build_request_body(o, item.prompt, openai)));
    const std::string prompt(request.at("body").at("messages").at(0).at("content").as_string());
    answers.insert(
      answers.begin(), // reversed
      R"({"id": "batch_req_x", "custom_id": )" + boost::json::serialize(request.at("custom_id")) +
        R"(, "response": {"status_code": 200, "request_id": "req_x", "body": {"choices": [{"index": 0, "message": {"role": "assistant", "content": "re: )" +
        prompt + R"("}, "finish_reason": "stop"}]}}, "error": null})" + "\n");
  }
  std::string file;
  for (const auto& a : answers) {
    file += a;
  }
  const auto results = parse_batch_output(file, "out.jsonl");
  BOOST_TEST(results.size() == 3u);
  BOOST_TEST(results.at(1).output.value_or("?") == "re: alpha");
  BOOST_TEST(results.at(3).output.value_or("?") == "re: beta");
  BOOST_TEST(results.at(4).output.value_or("?") == "re: gamma");
}

// The one formatter of a line's result, for -L, --from-batch and
// --emit-batch.
BOOST_AUTO_TEST_CASE(answered_line_is_plain_or_a_record)
{
  const LineResult plain = answered_line(3, "in", "out\nmore", false);
  BOOST_TEST(plain.out == "out more\n");
  BOOST_TEST(plain.err.empty());
  BOOST_TEST(static_cast<int>(plain.status) == 0);
  const LineResult record = answered_line(3, "in", "out", true);
  BOOST_TEST(record.out == jsonl_result(3, "in", "out"));
  BOOST_TEST(answered_line(3, std::nullopt, "out", true).out == jsonl_result(3, std::nullopt, "out"));
}

BOOST_AUTO_TEST_CASE(failed_line_names_the_line_once_and_the_phase_otherwise)
{
  const Error server(FailureKind::http_status, ExitStatus::server, "", "HTTP 500: boom");
  const LineResult plain = failed_line(4, "in", server, false);
  BOOST_TEST(plain.out == "\n");
  BOOST_TEST(plain.err == "gptq: line 4: HTTP 500: boom\n");
  BOOST_TEST(static_cast<int>(plain.status) == static_cast<int>(ExitStatus::server));
  BOOST_TEST(failed_line(4, "in", server, true).out == jsonl_error(4, "in", 7, "HTTP 500: boom"));

  const Error network(FailureKind::connect, ExitStatus::network, "connect", "refused");
  BOOST_TEST(failed_line(4, "in", network, false).err == "gptq: line 4: connect: refused\n");

  // An input line's own error has the line as its phase already.
  const Error input(FailureKind::input, ExitStatus::usage, "line 4", "not a JSON object");
  BOOST_TEST(failed_line(4, "in", input, false).err == "gptq: line 4: not a JSON object\n");
  // A label that only looks like a line's is not one.
  const Error other(ExitStatus::usage, "line 9", "x");
  BOOST_TEST(failed_line(4, "in", other, false).err == "gptq: line 4: line 9: x\n");
}

BOOST_AUTO_TEST_CASE(failed_line_redacts_secrets)
{
  Secrets secrets;
  secrets.add("sk-secret-key-123456");
  const Error e(FailureKind::http_status, ExitStatus::auth, "", "bad key sk-secret-key-123456");
  const LineResult r = failed_line(1, "in", e, true, secrets);
  BOOST_TEST(r.err.find("sk-secret") == std::string::npos, r.err);
  BOOST_TEST(r.out.find("sk-secret") == std::string::npos, r.out);
}

// --batch-wait finds each plain line's input in the batch's input file by
// where it sits in the user message: between the PROMPT words and the text
// of -f files.
BOOST_AUTO_TEST_CASE(the_input_frame_is_where_the_line_sits_in_the_message)
{
  const std::vector<Attachment> notes{ { "notes.txt", "yy and x" } };
  for (const auto& words : { std::vector<std::string>{}, std::vector<std::string>{ "fix", "x", "y" } }) {
    for (const auto* files : { &notes, static_cast<const std::vector<Attachment>*>(nullptr) }) {
      const auto message_for = [&](const std::string& input) {
        return assemble_user_message(words, input, files ? *files : std::vector<Attachment>{});
      };
      const auto frame = find_input_frame(message_for);
      BOOST_TEST_REQUIRE(frame.has_value());
      const std::string line = "a line, with \"quotes\"";
      const std::string message = message_for(line);
      BOOST_TEST(message.substr(frame->prefix, message.size() - frame->prefix - frame->suffix) == line);
      BOOST_TEST((parse_input_frame(input_frame_text(*frame)) == frame));
    }
  }
  // A message that does not hold the input whole in one place has none.
  BOOST_TEST(!find_input_frame([](const std::string& input) { return input + input; }).has_value());
  BOOST_TEST(!find_input_frame([](const std::string&) { return std::string("same"); }).has_value());
  for (const char* odd : { "", ",", "1", "1,", ",2", "1,2,3", "a,1", "1, 2", "-1,0", "99999999999999999999,0" }) {
    BOOST_TEST(!parse_input_frame(odd).has_value(), odd);
  }
}

BOOST_AUTO_TEST_CASE(a_request_line_gives_back_its_line_and_input)
{
  const InputFrame frame{ 6, 2 }; // "Fix:\n\n" before, "\n\n" after
  const std::string chat =
    R"({"custom_id":"line-7","method":"POST","url":"/v1/chat/completions","body":{"messages":[)"
    R"({"role":"system","content":"s"},{"role":"user","content":"old"},{"role":"assistant","content":"a"},)"
    R"({"role":"user","content":"Fix:\n\ncaf\u00e9 \"x\"\n\n"}]}})";
  BOOST_TEST(batch_request_line_number(chat).value_or(0) == 7u);
  BOOST_TEST(batch_request_input(chat, frame).value_or("?") == "caf\xC3\xA9 \"x\"");
  const std::string parts =
    R"({"custom_id":"line-2","body":{"messages":[{"role":"user","content":[{"type":"image_url","image_url":)"
    R"({"url":"data:..."}},{"type":"text","text":"Fix:\n\nhello\n\n"}]}]}})";
  BOOST_TEST(batch_request_input(parts, frame).value_or("?") == "hello");
  const std::string responses_text = R"({"custom_id":"line-3","body":{"input":"Fix:\n\nbonjour\n\n"}})";
  BOOST_TEST(batch_request_input(responses_text, frame).value_or("?") == "bonjour");
  const std::string responses_items =
    R"({"custom_id":"line-4","body":{"input":[{"role":"user","content":[{"type":"input_text","text":"Fix:\n\nhi\n\n"}]}]}})";
  BOOST_TEST(batch_request_input(responses_items, frame).value_or("?") == "hi");
  BOOST_TEST(batch_request_input(responses_items, InputFrame{}).value_or("?") == "Fix:\n\nhi\n\n");
  // Shorter than the frame, no user text, not JSON, not gptq's custom_id.
  BOOST_TEST(!batch_request_input(R"({"body":{"input":"Fix"}})", frame).has_value());
  BOOST_TEST(
    !batch_request_input(R"({"body":{"messages":[{"role":"system","content":"Fix:\n\nx\n\n"}]}})", frame).has_value());
  BOOST_TEST(!batch_request_input("{", frame).has_value());
  BOOST_TEST(!batch_request_line_number(R"({"custom_id":"row-1"})").has_value());
  BOOST_TEST(!batch_request_line_number(R"({"custom_id":"row-1","body":{}})").has_value());
  BOOST_TEST(batch_request_line_number(R"({"custom_id":"line-12","body":{}})").value_or(0) == 12u);
  BOOST_TEST(batch_request_line_number(R"({"custom_id":"\u006cine-3","body":{}})").value_or(0) == 3u);
  BOOST_TEST(batch_request_line_number(R"( {"body":{},"custom_id":"line-4"})").value_or(0) == 4u);
  BOOST_TEST(!batch_request_line_number("not json").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
