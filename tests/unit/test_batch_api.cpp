// The pure side of the Batch API: the objects the server sends back, the
// bodies gptq sends, the limits, the polling delays and the progress text.

#include "batch_api.hpp"

#include "testkit.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace gptq;
using gptq::test::error_line;

namespace {

// A Batch object as OpenAI's API reference shows one, completed with an
// error file.
constexpr std::string_view completed_batch = R"({
  "id": "batch_abc123",
  "object": "batch",
  "endpoint": "/v1/chat/completions",
  "model": "gpt-4o-mini-2024-07-18",
  "errors": null,
  "input_file_id": "file-abc123",
  "completion_window": "24h",
  "status": "completed",
  "output_file_id": "file-cvaTdG",
  "error_file_id": "file-HOWS94",
  "created_at": 1711471533,
  "in_progress_at": 1711471538,
  "expires_at": 1711557933,
  "finalizing_at": 1711493133,
  "completed_at": 1711493163,
  "failed_at": null,
  "expired_at": null,
  "cancelling_at": null,
  "cancelled_at": null,
  "request_counts": {"total": 100, "completed": 95, "failed": 5},
  "usage": {"input_tokens": 1500, "output_tokens": 500, "total_tokens": 2000},
  "metadata": {"created_by": "gptq", "gptq_lines": "100"}
})";

// One just created: no files yet, as null, and counts of zero.
constexpr std::string_view validating_batch = R"({
  "id": "batch_new",
  "object": "batch",
  "endpoint": "/v1/responses",
  "errors": null,
  "input_file_id": "file-in",
  "completion_window": "24h",
  "status": "validating",
  "output_file_id": null,
  "error_file_id": null,
  "created_at": 1714508499,
  "in_progress_at": null,
  "expires_at": 1714536634,
  "completed_at": null,
  "failed_at": null,
  "expired_at": null,
  "request_counts": {"total": 0, "completed": 0, "failed": 0},
  "metadata": null
})";

// One that failed validation, with errors.data.
constexpr std::string_view failed_batch = R"({
  "id": "batch_bad",
  "object": "batch",
  "endpoint": "/v1/chat/completions",
  "errors": {
    "object": "list",
    "data": [
      {"code": "invalid_json_line", "message": "This line is not parseable as valid JSON.", "param": null, "line": 2},
      {"code": "missing_required_parameter", "message": "Missing 'model'.", "param": "body.model", "line": null},
      {"message": "Something else went wrong."}
    ]
  },
  "input_file_id": "file-in",
  "completion_window": "24h",
  "status": "failed",
  "output_file_id": null,
  "error_file_id": null,
  "created_at": 1714508499,
  "failed_at": 1714508500,
  "request_counts": {"total": 0, "completed": 0, "failed": 0},
  "metadata": {}
})";

// The "phase: message" of the exit-8 failure parse_batch() gives `body`.
std::string batch_failure(std::string_view body)
{
  return error_line([&] { parse_batch(body); }, 8, body);
}

} // namespace

BOOST_AUTO_TEST_SUITE(batch_api)

BOOST_AUTO_TEST_CASE(a_completed_batch_is_read_whole)
{
  const BatchStatus batch = parse_batch(completed_batch);
  BOOST_TEST(batch.id == "batch_abc123");
  BOOST_TEST(batch.status == "completed");
  BOOST_TEST(batch.endpoint == "/v1/chat/completions");
  BOOST_TEST(batch.input_file_id == "file-abc123");
  BOOST_TEST(batch.output_file_id.value_or("") == "file-cvaTdG");
  BOOST_TEST(batch.error_file_id.value_or("") == "file-HOWS94");
  BOOST_TEST(batch.counts.total == 100);
  BOOST_TEST(batch.counts.completed == 95);
  BOOST_TEST(batch.counts.failed == 5);
  BOOST_TEST(batch.created_at == 1711471533);
  BOOST_TEST(batch.errors.empty());
  BOOST_TEST(batch.gptq_lines.value_or("") == "100");
  BOOST_TEST(batch.ended());
}

BOOST_AUTO_TEST_CASE(nulls_read_as_absent)
{
  const BatchStatus batch = parse_batch(validating_batch);
  BOOST_TEST(batch.id == "batch_new");
  BOOST_TEST(batch.status == "validating");
  BOOST_TEST(batch.endpoint == "/v1/responses");
  BOOST_TEST(!batch.output_file_id);
  BOOST_TEST(!batch.error_file_id);
  BOOST_TEST(batch.counts.total == 0);
  BOOST_TEST(!batch.gptq_lines);
  BOOST_TEST(batch.errors.empty());
  BOOST_TEST(!batch.ended());
}

BOOST_AUTO_TEST_CASE(a_bare_batch_needs_only_an_id_and_a_status)
{
  const BatchStatus batch = parse_batch(R"({"id":"b","status":"in_progress","something_new":[1,{"x":null}]})");
  BOOST_TEST(batch.id == "b");
  BOOST_TEST(batch.status == "in_progress");
  BOOST_TEST(batch.endpoint == "");
  BOOST_TEST(batch.input_file_id == "");
  BOOST_TEST(!batch.output_file_id);
  BOOST_TEST(batch.counts.total == 0);
  BOOST_TEST(batch.created_at == 0);
}

BOOST_AUTO_TEST_CASE(a_failed_batch_lists_its_errors)
{
  const BatchStatus batch = parse_batch(failed_batch);
  BOOST_TEST(batch.status == "failed");
  BOOST_TEST(batch.ended());
  BOOST_TEST(batch.errors.size() == 3u);
  BOOST_TEST(batch.errors.at(0) == "line 2: This line is not parseable as valid JSON. (invalid_json_line)");
  BOOST_TEST(batch.errors.at(1) == "Missing 'model'. (missing_required_parameter)");
  BOOST_TEST(batch.errors.at(2) == "Something else went wrong.");
}

BOOST_AUTO_TEST_CASE(errors_as_a_lone_string_are_kept)
{
  const BatchStatus batch = parse_batch(R"({"id":"b","status":"failed","errors":"bad file\nformat"})");
  BOOST_TEST(batch.errors.size() == 1u);
  BOOST_TEST(batch.errors.at(0) == "bad file format");
}

BOOST_AUTO_TEST_CASE(the_servers_text_in_errors_is_redacted_and_one_line)
{
  Secrets secrets;
  secrets.add("sk-secret-key-123");
  const BatchStatus batch = parse_batch(
    R"({"id":"b","status":"failed","errors":{"data":[{"line":1,"message":"key sk-secret-key-123\u001b[31m bad","code":"x\ny"}]}})",
    secrets);
  BOOST_TEST(batch.errors.size() == 1u);
  BOOST_TEST(batch.errors.at(0) == "line 1: key [REDACTED] [31m bad (x y)");
}

BOOST_AUTO_TEST_CASE(every_status_that_ends_a_batch_is_known)
{
  for (const std::string_view status : { "completed", "failed", "expired", "cancelled" }) {
    BatchStatus batch;
    batch.status = status;
    BOOST_TEST(batch.ended(), status);
  }
  for (const std::string_view status : { "validating", "in_progress", "finalizing", "cancelling", "", "new" }) {
    BatchStatus batch;
    batch.status = status;
    BOOST_TEST(!batch.ended(), status);
  }
}

BOOST_AUTO_TEST_CASE(odd_counts_and_times_read_as_zero_or_capped)
{
  const BatchStatus batch = parse_batch(
    R"({"id":"b","status":"in_progress","created_at":"2024-05-01","request_counts":{"total":-3,"completed":1.5,"failed":18446744073709551615}})");
  BOOST_TEST(batch.created_at == 0);
  BOOST_TEST(batch.counts.total == 0);
  BOOST_TEST(batch.counts.completed == 0);
  BOOST_TEST(batch.counts.failed == 1LL << 52);
  BOOST_TEST(parse_batch(R"({"id":"b","status":"s","request_counts":null})").counts.total == 0);
  BOOST_TEST(parse_batch(R"({"id":"b","status":"s","request_counts":[1]})").counts.total == 0);
}

BOOST_AUTO_TEST_CASE(a_lone_surrogate_does_not_fail_the_batch)
{
  const BatchStatus batch = parse_batch(R"({"id":"b","status":"failed","errors":{"data":[{"message":"x\ud800y"}]}})");
  BOOST_TEST(batch.errors.at(0) == "x\xEF\xBF\xBDy");
}

BOOST_AUTO_TEST_CASE(malformed_batches_are_named)
{
  BOOST_TEST(batch_failure("") == "response: the server sent an empty body instead of the batch");
  BOOST_TEST(batch_failure(" \r\n") == "response: the server sent an empty body instead of the batch");
  BOOST_TEST(batch_failure("{\"id\":") == "response: the batch is not valid JSON (at byte 6 of 6): {\"id\":");
  BOOST_TEST(batch_failure("<html>502</html>") ==
             "response: the batch is not valid JSON (at byte 0 of 16): <html>502</html>");
  BOOST_TEST(batch_failure(std::string(40, '[') + std::string(40, ']'))
               .starts_with("response: the batch is JSON nested deeper than 32 levels (at byte "));
  BOOST_TEST(batch_failure("[]") == "response: the batch is not a JSON object");
  BOOST_TEST(batch_failure("\"batch_abc\"") == "response: the batch is not a JSON object");
  BOOST_TEST(batch_failure("{}") == "response: the batch has no \"id\"");
  BOOST_TEST(batch_failure(R"({"id":null,"status":"completed"})") == "response: the batch has no \"id\"");
  BOOST_TEST(batch_failure(R"({"id":"","status":"completed"})") == "response: the batch has an empty \"id\"");
  BOOST_TEST(batch_failure(R"({"id":7,"status":"completed"})") ==
             "response: the batch has \"id\" as a number, not a string");
  BOOST_TEST(batch_failure(R"({"id":"b"})") == "response: the batch has no \"status\"");
  BOOST_TEST(batch_failure(R"({"id":"b","status":true})") ==
             "response: the batch has \"status\" as true or false, not a string");
  BOOST_TEST(batch_failure(R"({"id":"b","status":"completed","output_file_id":["f"]})") ==
             "response: the batch has \"output_file_id\" as an array, not a string");
  BOOST_TEST(batch_failure(R"({"id":"b","status":"completed","error_file_id":{}})") ==
             "response: the batch has \"error_file_id\" as an object, not a string");
  BOOST_TEST(batch_failure(R"({"id":"b","status":"completed","endpoint":1.5})") ==
             "response: the batch has \"endpoint\" as a number, not a string");
  BOOST_TEST(batch_failure(R"({"id":"b","status":"completed","input_file_id":1})") ==
             "response: the batch has \"input_file_id\" as a number, not a string");
}

BOOST_AUTO_TEST_CASE(ids_are_letters_digits_and_a_few_marks_in_segments)
{
  for (const std::string_view id :
       { "batch_abc123", "file-abc123", "batches/abc", "files/a/b", "a", "x.y:z-1_2", "..a", "a../.b", "..." }) {
    BOOST_TEST(is_batch_api_id(id), id);
  }
  BOOST_TEST(is_batch_api_id(std::string(256, 'a')));
  for (const std::string_view id : { "",
                                     "/abc",
                                     "abc/",
                                     "a//b",
                                     ".",
                                     "..",
                                     "a/./b",
                                     "a/..",
                                     "../a",
                                     "a b",
                                     "a?b",
                                     "a#b",
                                     "a%2Fb",
                                     "a\\b",
                                     "a\nb",
                                     "a\x1b",
                                     "caf\xC3\xA9" }) {
    BOOST_TEST(!is_batch_api_id(id), id);
  }
  BOOST_TEST(!is_batch_api_id(std::string(257, 'a')));
  BOOST_TEST(!is_batch_api_id(std::string_view("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(a_servers_id_that_is_not_one_is_refused_shown_on_one_line)
{
  BOOST_TEST(batch_failure(R"({"id":"../files/x","status":"completed"})") ==
             "response: the batch has \"id\" '../files/x', which is not an id (1 to 256 letters, digits, '.', '_', "
             "':', '-' and '/')");
  BOOST_TEST(batch_failure(R"({"id":"b","status":"completed","input_file_id":"f x"})")
               .starts_with("response: the batch has \"input_file_id\" 'f x', which is not an id"));
  BOOST_TEST(batch_failure(R"({"id":"b","status":"completed","output_file_id":"f\n\u001b[2J"})")
               .starts_with("response: the batch has \"output_file_id\" 'f\\n\\x1B[2J', which is not an id"));
  BOOST_TEST(batch_failure(R"({"id":"b","status":"completed","error_file_id":"/etc/passwd"})")
               .starts_with("response: the batch has \"error_file_id\" '/etc/passwd', which is not an id"));
  const std::string long_id = R"({"id":")" + std::string(300, 'a') + R"(","status":"completed"})";
  BOOST_TEST(batch_failure(long_id) ==
             "response: the batch has \"id\" '" + std::string(80, 'a') +
               "...', which is not an id (1 to 256 letters, digits, '.', '_', ':', '-' and '/')");
  const auto list_failure = [](std::string_view body) { return error_line([&] { parse_batch_list(body); }, 8, body); };
  BOOST_TEST(list_failure(R"({"data":[{"id":"a","status":"completed"},{"id":"b?c","status":"completed"}]})")
               .starts_with("response: batch 2 of the list has \"id\" 'b?c', which is not an id"));
  BOOST_TEST(error_line([] { parse_file_id(R"({"id":"file 1"})"); }, 8) ==
             "response: the file object has \"id\" 'file 1', which is not an id (1 to 256 letters, digits, '.', '_', "
             "':', '-' and '/')");
}

BOOST_AUTO_TEST_CASE(an_empty_file_id_reads_as_none)
{
  const BatchStatus batch =
    parse_batch(R"({"id":"b","status":"completed","input_file_id":"","output_file_id":"","error_file_id":""})");
  BOOST_TEST(batch.input_file_id == "");
  BOOST_TEST(!batch.output_file_id);
  BOOST_TEST(!batch.error_file_id);
}

BOOST_AUTO_TEST_CASE(an_id_that_holds_a_secret_is_refused_and_not_shown)
{
  Secrets secrets;
  secrets.add("sk-secret-key-123");
  const std::string line =
    error_line([&] { parse_batch(R"({"id":"batch_sk-secret-key-123","status":"completed"})", secrets); }, 8);
  BOOST_TEST(line == "response: the batch has \"id\" 'batch_[REDACTED]', which holds a secret");
  const std::string bad = error_line([&] { parse_file_id(R"({"id":"file sk-secret-key-123"})", secrets); }, 8);
  BOOST_TEST(bad.starts_with("response: the file object has \"id\" 'file [REDACTED]', which is not an id"), bad);
}

BOOST_AUTO_TEST_CASE(an_error_object_gives_the_servers_message)
{
  Secrets secrets;
  secrets.add("sk-secret-key-123");
  const std::string body =
    R"({"error":{"message":"No batch found with id 'x' for sk-secret-key-123","type":"invalid_request_error","code":null}})";
  const std::string line = error_line([&] { parse_batch(body, secrets); }, 8);
  BOOST_TEST(line.starts_with("api: No batch found with id 'x' for [REDACTED]"), line);
  BOOST_TEST(line.find("sk-secret") == std::string::npos);
  BOOST_TEST(error_line([] { parse_file_id(R"({"error":"quota"})"); }, 8) == "api: quota");
  // "error": null is no error.
  BOOST_TEST(parse_batch(R"({"id":"b","status":"s","error":null})").id == "b");
}

BOOST_AUTO_TEST_CASE(a_secret_in_a_body_that_is_not_json_is_redacted)
{
  Secrets secrets;
  secrets.add("sk-secret-key-123");
  const std::string line = error_line([&] { parse_batch("oops sk-secret-key-123", secrets); }, 8);
  BOOST_TEST(line == "response: the batch is not valid JSON (at byte 0 of 22): oops [REDACTED]");
}

BOOST_AUTO_TEST_CASE(a_list_gives_its_batches_in_order)
{
  const std::string body = R"({"object":"list","data":[)" + std::string(completed_batch) + "," +
                           std::string(validating_batch) + "," + std::string(failed_batch) +
                           R"(],"first_id":"batch_abc123","last_id":"batch_bad","has_more":true})";
  const auto batches = parse_batch_list(body);
  BOOST_TEST(batches.size() == 3u);
  BOOST_TEST(batches.at(0).id == "batch_abc123");
  BOOST_TEST(batches.at(1).id == "batch_new");
  BOOST_TEST(batches.at(2).id == "batch_bad");
  BOOST_TEST(batches.at(2).errors.size() == 3u);
  BOOST_TEST(parse_batch_list(R"({"object":"list","data":[],"has_more":false})").empty());
}

BOOST_AUTO_TEST_CASE(a_malformed_list_is_named)
{
  const auto failure = [](std::string_view body) { return error_line([&] { parse_batch_list(body); }, 8, body); };
  BOOST_TEST(failure("") == "response: the server sent an empty body instead of the list of batches");
  BOOST_TEST(failure("[]") == "response: the list of batches is not a JSON object");
  BOOST_TEST(failure("{}") == "response: the list of batches has no \"data\" array");
  BOOST_TEST(failure(R"({"data":{}})") == "response: the list of batches has no \"data\" array");
  BOOST_TEST(failure(R"({"data":[{"id":"a","status":"completed"},{"id":"b"}]})") ==
             "response: batch 2 of the list has no \"status\"");
  BOOST_TEST(failure(R"({"data":[null]})") == "response: batch 1 of the list is null, not an object");
}

BOOST_AUTO_TEST_CASE(a_file_object_gives_its_id)
{
  BOOST_TEST(parse_file_id(R"({
    "id": "file-abc123",
    "object": "file",
    "bytes": 120000,
    "created_at": 1677610602,
    "expires_at": null,
    "filename": "requests.jsonl",
    "purpose": "batch",
    "status": "processed",
    "status_details": null
  })") == "file-abc123");
  const auto failure = [](std::string_view body) { return error_line([&] { parse_file_id(body); }, 8, body); };
  BOOST_TEST(failure("") == "response: the server sent an empty body instead of the file object");
  BOOST_TEST(failure("nope") == "response: the file object is not valid JSON (at byte 0 of 4): nope");
  BOOST_TEST(failure(R"({"object":"file"})") == "response: the file object has no \"id\"");
  BOOST_TEST(failure(R"({"id":12})") == "response: the file object has \"id\" as a number, not a string");
}

BOOST_AUTO_TEST_CASE(the_create_body_names_the_v1_endpoint_of_each_api)
{
  for (const auto& [api, endpoint] :
       { std::pair{ Api::chat, "/v1/chat/completions" }, std::pair{ Api::responses, "/v1/responses" } }) {
    const std::string body = batch_create_body("file-x\"y", api, 50000);
    const auto value = boost::json::parse(body);
    BOOST_TEST(value.at("input_file_id").as_string() == "file-x\"y");
    BOOST_TEST(value.at("endpoint").as_string() == endpoint);
    BOOST_TEST(value.at("completion_window").as_string() == "24h");
    BOOST_TEST(value.at("metadata").at("created_by").as_string() == "gptq");
    BOOST_TEST(value.at("metadata").at("gptq_lines").as_string() == "50000");
    BOOST_TEST(value.as_object().size() == 4u);
    BOOST_TEST(value.at("metadata").as_object().size() == 2u);
  }
  BOOST_TEST(batch_create_body("file-1", Api::chat, 3) ==
             R"({"input_file_id":"file-1","endpoint":"/v1/chat/completions","completion_window":"24h",)"
             R"("metadata":{"created_by":"gptq","gptq_lines":"3"}})");
}

// The frame of plain lines goes into the metadata and comes back from it.
BOOST_AUTO_TEST_CASE(the_input_frame_goes_round_through_the_metadata)
{
  const std::string body = batch_create_body("file-1", Api::chat, 3, InputFrame{ 12, 40 });
  const auto metadata = boost::json::parse(body).at("metadata");
  BOOST_TEST(metadata.at("gptq_input").as_string() == "12,40");
  const BatchStatus batch =
    parse_batch(R"({"id":"batch_1","status":"completed","metadata":)" + boost::json::serialize(metadata) + "}");
  BOOST_TEST_REQUIRE(batch.input_frame.has_value());
  BOOST_TEST(batch.input_frame->prefix == 12u);
  BOOST_TEST(batch.input_frame->suffix == 40u);
  for (const char* odd : { R"("x")", R"("1,")", R"("-1,2")", "7", "null" }) {
    const BatchStatus other =
      parse_batch(std::string(R"({"id":"b","status":"completed","metadata":{"gptq_input":)") + odd + "}}");
    BOOST_TEST(!other.input_frame.has_value(), odd);
  }
}

BOOST_AUTO_TEST_CASE(the_upload_form_is_exact)
{
  const Multipart form = batch_upload_form("requests.jsonl", 1);
  const std::string prefix = "multipart/form-data; boundary=";
  BOOST_TEST_REQUIRE(form.content_type.starts_with(prefix));
  const std::string boundary = form.content_type.substr(prefix.size());
  BOOST_TEST(boundary.size() == 40u);
  BOOST_TEST(boundary.starts_with("gptq-"));
  BOOST_TEST(boundary.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") ==
             std::string::npos);
  BOOST_TEST(form.head == "--" + boundary +
                            "\r\n"
                            "Content-Disposition: form-data; name=\"purpose\"\r\n"
                            "\r\n"
                            "batch\r\n"
                            "--" +
                            boundary +
                            "\r\n"
                            "Content-Disposition: form-data; name=\"file\"; filename=\"requests.jsonl\"\r\n"
                            "Content-Type: application/jsonl\r\n"
                            "\r\n");
  BOOST_TEST(form.tail == "\r\n--" + boundary + "--\r\n");
}

BOOST_AUTO_TEST_CASE(the_boundary_differs_per_seed_and_not_per_call)
{
  std::set<std::string> boundaries;
  for (std::uint64_t seed : { 0ULL, 1ULL, 2ULL, 3ULL, 1ULL << 32, ~0ULL }) {
    boundaries.insert(batch_upload_form("f", seed).content_type);
  }
  BOOST_TEST(boundaries.size() == 6u);
  BOOST_TEST(batch_upload_form("f", 42).content_type == batch_upload_form("g", 42).content_type);
}

BOOST_AUTO_TEST_CASE(the_filename_cannot_break_out_of_its_quotes)
{
  const Multipart form = batch_upload_form("a\"b\r\nc\\d é.jsonl", 7);
  BOOST_TEST(form.head.find("; filename=\"a%22b%0D%0Ac\\d é.jsonl\"\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(limits_hold_at_their_edges)
{
  check_batch_limits(0, 0);
  check_batch_limits(50'000, 200'000'000);
  BOOST_TEST(error_line([] { check_batch_limits(50'001, 10); }, 2) ==
             "batch: the input has 50001 lines, more than the Batch API's limit of 50000 in one batch: "
             "split it (split -l 50000) and submit each part");
  BOOST_TEST(error_line([] { check_batch_limits(40'000, 200'000'001); }, 2) ==
             "batch: the request file is 200.0 MB (200000001 bytes), more than the Batch API's limit of 200 MB: "
             "split the input (split -l 35999) and submit each part");
  BOOST_TEST(error_line([] { check_batch_limits(10, 450'000'000); }, 2) ==
             "batch: the request file is 450.0 MB (450000000 bytes), more than the Batch API's limit of 200 MB: "
             "split the input (split -l 4) and submit each part");
  BOOST_TEST(error_line([] { check_batch_limits(1, 1'000'000'000'000); }, 2).find("(split -l 1)") != std::string::npos);
  // Over both: the lines are named first.
  BOOST_TEST(error_line([] { check_batch_limits(60'000, 300'000'000); }, 2).find("60000 lines") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(polls_wait_longer_each_time_up_to_a_minute)
{
  using std::chrono::milliseconds;
  BOOST_TEST(batch_poll_delay(0).count() == 5'000);
  BOOST_TEST(batch_poll_delay(1).count() == 7'500);
  BOOST_TEST(batch_poll_delay(2).count() == 11'250);
  BOOST_TEST(batch_poll_delay(3).count() == 16'875);
  BOOST_TEST(batch_poll_delay(6).count() == 56'952);
  BOOST_TEST(batch_poll_delay(7).count() == 60'000);
  BOOST_TEST(batch_poll_delay(1'000'000).count() == 60'000);
  BOOST_TEST(batch_poll_delay(-1).count() == 5'000);
}

BOOST_AUTO_TEST_CASE(the_progress_text_says_the_status_and_counts)
{
  BatchStatus batch;
  batch.status = "validating";
  BOOST_TEST(batch_progress_text(batch) == "validating");
  batch.status = "in_progress";
  batch.counts = { 500, 117, 3 };
  BOOST_TEST(batch_progress_text(batch) == "in_progress 120/500 done, 3 failed");
  batch.counts = { 500, 500, 0 };
  batch.status = "completed";
  BOOST_TEST(batch_progress_text(batch) == "completed 500/500 done");
  batch.counts = { 0, 0, 2 };
  BOOST_TEST(batch_progress_text(batch) == "completed, 2 failed");
  batch.status = "odd\x1b[2J\nstatus";
  batch.counts = {};
  BOOST_TEST(batch_progress_text(batch) == "odd [2J status");
}

BOOST_AUTO_TEST_SUITE_END()
