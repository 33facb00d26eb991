#include "batch_format.hpp"

#include "error.hpp"
#include "exit_status.hpp"
#include "json_access.hpp"
#include "json_text.hpp"
#include "prompt.hpp"
#include "response.hpp"
#include "text.hpp"

#include <boost/json/object.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <functional>

namespace gptq {

namespace json = boost::json;

namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD"; // U+FFFD
constexpr std::string_view jsonl_example = R"({"prompt": "...", "system": "...", "model": "..."})";

std::string line_phase(std::size_t line)
{
  return "line " + std::to_string(line);
}

std::string file_phase(const std::string& path, std::size_t line)
{
  return path + ":" + std::to_string(line);
}

// Files written on Windows end their lines in "\r\n"; the "\r" is not text.
std::string_view without_cr(std::string_view text)
{
  if (!text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
  }
  return text;
}

// Parses one line of JSON. Returns the value, or nullopt with `problem` set
// to where and why the text stopped being JSON.
std::optional<json::value> parse_json_line(std::string_view text, std::string& problem)
{
  json::stream_parser parser;
  boost::system::error_code ec;
  std::size_t used = parser.write(text.data(), text.size(), ec);
  if (!ec) {
    parser.finish(ec);
    used = text.size();
  }
  if (ec) {
    problem = "not valid JSON at byte " + std::to_string(used) + " (" + ec.message() + ")";
    return std::nullopt;
  }
  return parser.release();
}

// Calls `each(number, text)` for every physical line of `text`, numbered
// from 1, a last line without "\n" too.
template<typename F>
void for_each_line(std::string_view text, F each)
{
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const auto end = text.find('\n');
    if (end == std::string_view::npos) {
      each(number, without_cr(text));
      return;
    }
    each(number, without_cr(text.substr(0, end)));
    text.remove_prefix(end + 1);
  }
}

// `text`, whose first malformed UTF-8 byte is at `bad`, with each malformed
// byte as U+FFFD.
std::string replace_invalid_utf8(std::string_view text, std::optional<std::size_t> bad)
{
  std::string clean;
  clean.reserve(text.size() + 16);
  while (bad) {
    clean.append(text.substr(0, *bad));
    clean.append(replacement_character);
    text.remove_prefix(*bad + 1);
    bad = find_invalid_utf8(text);
  }
  clean.append(text);
  return clean;
}

// Appends `text` as a JSON string. Malformed UTF-8 would make the record
// invalid JSON for every reader after gptq, so each bad byte becomes U+FFFD;
// valid text (nearly always) is escaped without a copy.
void append_utf8_json_string(std::string& out, std::string_view text)
{
  const auto bad = find_invalid_utf8(text);
  if (!bad) {
    append_json_string(out, text);
    return;
  }
  append_json_string(out, replace_invalid_utf8(text, bad));
}

// The N of a custom_id "line-N" as batch_request_line writes it (N from 1,
// no sign, no leading zero); nullopt for anything else.
std::optional<std::size_t> line_of_custom_id(std::string_view id)
{
  constexpr std::string_view prefix = "line-";
  if (!id.starts_with(prefix)) {
    return std::nullopt;
  }
  id.remove_prefix(prefix.size());
  if (id.empty() || id.front() == '0') {
    return std::nullopt;
  }
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec != std::errc() || end != id.data() + id.size()) {
    return std::nullopt;
  }
  return n;
}

// A "line" member: a positive whole number.
std::optional<std::size_t> positive_line(const json::value& record)
{
  const auto* line = json_member(record, "line");
  if (!line) {
    return std::nullopt;
  }
  if (line->is_int64() && line->get_int64() > 0) {
    return static_cast<std::size_t>(line->get_int64());
  }
  if (line->is_uint64() && line->get_uint64() > 0) {
    return static_cast<std::size_t>(line->get_uint64());
  }
  return std::nullopt;
}

// The result of the reply `decode` makes (or the failure it throws).
BatchResult completion_result_of(const std::function<Reply(const Secrets&)>& decode, const Secrets& secrets)
{
  BatchResult result;
  Reply reply;
  try {
    reply = decode(secrets);
  } catch (const Error& e) {
    result.status = static_cast<int>(e.status());
    result.message = e.what();
    return result;
  }
  result.finish_reason = reply.finish_reason;
  if (const auto problem = unusable_reply(reply.refusal, !reply.content.empty(), reply.finish_reason, secrets)) {
    result.status = static_cast<int>(problem->status());
    // A line's message has no phase to say what "refusal" means.
    result.message =
      (problem->kind() == FailureKind::refusal ? "the model refused: " : "") + std::string(problem->what());
  } else {
    result.output = std::move(reply.content);
  }
  return result;
}

// The result of a response with a 2xx status: the reply, checked as
// ReplyHandler checks a whole reply (a refusal or no text is a failure).
BatchResult success_result(const json::value* body)
{
  // The documented body is the completion object, decoded as it is; a body
  // given as a string holding the JSON text is decoded the same way.
  if (body && !body->is_string()) {
    return completion_result_of([&](const Secrets& secrets) { return decode_reply_object(*body, secrets); }, {});
  }
  return completion_result(body ? std::string_view(body->get_string()) : std::string_view());
}

} // namespace

LineResult answered_line(std::size_t line, std::optional<std::string_view> input, std::string_view output, bool jsonl)
{
  return { jsonl ? jsonl_result(line, input, output) : plain_result(output), "", ExitStatus::ok };
}

LineResult failed_line(std::size_t line,
                       std::optional<std::string_view> input,
                       const Error& failure,
                       bool jsonl,
                       const Secrets& secrets)
{
  const bool names_line = failure.phase().empty() || failure.kind() == FailureKind::input;
  const std::string message = secrets.redact(names_line ? failure.what() : failure.phase() + ": " + failure.what());
  return { jsonl ? jsonl_error(line, input, static_cast<int>(failure.status()), message) : "\n",
           "gptq: line " + std::to_string(line) + ": " + message + "\n",
           failure.status() };
}

BatchResult completion_result(std::string_view text, const Secrets& secrets)
{
  return completion_result_of([&](const Secrets& redacted) { return decode_reply(text, redacted); }, secrets);
}

// The item of a line that is not blank, with its number and input (valid
// UTF-8); nullopt for a blank line. Both input formats start here.
static std::optional<BatchItem> start_item(std::size_t line, std::string_view text)
{
  text = without_cr(text);
  if (trim(text).empty()) {
    return std::nullopt;
  }
  BatchItem item;
  item.line = line;
  item.input = std::string(text);
  try {
    require_utf8(item.input, line_phase(line));
  } catch (const Error& e) {
    throw Error(FailureKind::input, e.status(), e.phase(), e.what());
  }
  return item;
}

std::optional<BatchItem> parse_plain_line(std::size_t line, std::string_view text)
{
  auto item = start_item(line, text);
  if (item) {
    item->prompt = item->input;
  }
  return item;
}

std::optional<BatchItem> parse_jsonl_line(std::size_t line, std::string_view text)
{
  auto started = start_item(line, text);
  if (!started) {
    return std::nullopt;
  }
  BatchItem& item = *started;
  text = item.input;
  const std::string phase = line_phase(line);
  std::string problem;
  const auto parsed = parse_json_line(text, problem);
  if (!parsed) {
    throw Error(FailureKind::input,
                ExitStatus::usage,
                phase,
                problem + "; expected one JSON object per line, like " + std::string(jsonl_example));
  }
  const auto* object = parsed->if_object();
  if (!object) {
    throw Error(FailureKind::input,
                ExitStatus::usage,
                phase,
                "not a JSON object; expected one per line, like " + std::string(jsonl_example));
  }
  bool has_prompt = false;
  for (const auto& member : *object) {
    const std::string_view key = member.key();
    const json::value& value = member.value();
    if (key == "prompt") {
      if (!value.is_string()) {
        throw Error(FailureKind::input,
                    ExitStatus::usage,
                    phase,
                    "\"prompt\" must be a string, not " + one_line(to_json_text(value), 60));
      }
      item.prompt = std::string(value.get_string());
      has_prompt = true;
    } else if (key == "system") {
      if (!value.is_string()) {
        throw Error(FailureKind::input,
                    ExitStatus::usage,
                    phase,
                    "\"system\" must be a string, not " + one_line(to_json_text(value), 60));
      }
      item.system = std::string(value.get_string());
    } else if (key == "files") {
      const auto* files = value.if_array();
      const bool strings =
        files && std::all_of(files->begin(), files->end(), [](const json::value& f) { return f.is_string(); });
      if (!strings) {
        throw Error(FailureKind::input,
                    ExitStatus::usage,
                    phase,
                    "\"files\" must be a list of file names, not " + one_line(to_json_text(value), 60));
      }
      for (const auto& file : *files) {
        item.files.emplace_back(file.get_string());
      }
    } else {
      item.fields.emplace_back(std::string(key), to_json_text(value));
    }
  }
  if (!has_prompt) {
    throw Error(FailureKind::input,
                ExitStatus::usage,
                phase,
                "the object has no \"prompt\"; expected one like " + std::string(jsonl_example));
  }
  // A blank line is skipped, but a record asked for a request: an empty
  // prompt there is a mistake in the file, not a gap to skip.
  if (trim(item.prompt).empty()) {
    throw Error(FailureKind::input, ExitStatus::usage, phase, "the \"prompt\" is empty");
  }
  return started;
}

std::string plain_result(std::string_view reply)
{
  std::string out;
  out.reserve(reply.size() + 1);
  for (std::size_t i = 0; i < reply.size(); ++i) {
    const char c = reply[i];
    if (c == '\r') {
      out += ' ';
      if (i + 1 < reply.size() && reply[i + 1] == '\n') {
        ++i; // "\r\n" is one break
      }
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  out.resize(trim(out).empty() ? 0 : out.find_last_not_of(" \t\r\n\f\v") + 1);
  out += '\n';
  return out;
}

namespace {

// The start of a --jsonl record, `{"line":N` and its "input" when known,
// with room for `more` bytes after it.
std::string jsonl_record_start(std::size_t line, std::optional<std::string_view> input, std::size_t more)
{
  std::string out;
  out.reserve(input.value_or("").size() + more);
  out += "{\"line\":";
  out += std::to_string(line);
  if (input) {
    out += ",\"input\":";
    append_utf8_json_string(out, *input);
  }
  return out;
}

} // namespace

std::string jsonl_result(std::size_t line, std::optional<std::string_view> input, std::string_view output)
{
  std::string out = jsonl_record_start(line, input, output.size() + 48);
  out += ",\"output\":";
  append_utf8_json_string(out, output);
  out += "}\n";
  return out;
}

std::string jsonl_error(std::size_t line, std::optional<std::string_view> input, int status, std::string_view message)
{
  std::string out = jsonl_record_start(line, input, message.size() + 64);
  out += ",\"error\":{\"status\":";
  out += std::to_string(status);
  out += ",\"message\":";
  append_utf8_json_string(out, message);
  out += "}}\n";
  return out;
}

std::map<std::size_t, ResumedRecord> resumed_records(std::string_view text, const std::string& path)
{
  std::map<std::size_t, ResumedRecord> records;
  // A record that is not JSON is an error unless it is the last one: a run
  // that was interrupted (Ctrl-C ends the line it cut; a kill does not) or
  // a full disk leaves its last record cut short.
  std::optional<Error> cut;
  for_each_line(text, [&](std::size_t number, std::string_view record_text) {
    if (trim(record_text).empty()) {
      return;
    }
    if (cut) {
      throw *cut;
    }
    const auto bad = [&](const std::string& what) {
      return Error(ExitStatus::usage,
                   file_phase(path, number),
                   what + "; --resume expects the output of gptq --jsonl, one {\"line\": N, \"input\": ..., "
                          "\"output\": ...} or {..., \"error\": ...} per line");
    };
    std::string problem;
    const auto record = parse_json_line(record_text, problem);
    if (!record) {
      cut = bad(problem);
      return;
    }
    if (!record->is_object()) {
      throw bad("not a JSON object");
    }
    const auto line = positive_line(*record);
    if (!line) {
      throw bad("no positive \"line\" number");
    }
    // Without its input a record cannot be checked against the line it
    // would answer, and an answer to another input is worse than none.
    const auto input = json_string(*record, "input");
    if (!input) {
      throw bad("no \"input\" string");
    }
    ResumedRecord resumed;
    resumed.record = number;
    resumed.input = std::string(*input);
    if (const auto* output = json_member(*record, "output")) {
      if (!output->is_string()) {
        throw bad("\"output\" is not a string");
      }
      resumed.output = std::string(output->get_string());
    } else if (!json_member(*record, "error")) {
      throw bad("neither \"output\" nor \"error\"");
    }
    const auto [at, added] = records.try_emplace(*line, std::move(resumed));
    if (!added) {
      throw Error(ExitStatus::usage,
                  "--resume",
                  "records " + file_phase(path, at->second.record) + " and " + file_phase(path, number) +
                    " are both for line " + std::to_string(*line) +
                    "; --resume takes the --jsonl output of one run, which has one record per line");
    }
  });
  return records;
}

bool is_recorded_input(std::string_view recorded, std::string_view text)
{
  const auto holds = [&](std::string_view input) {
    if (recorded == input) {
      return true;
    }
    const auto bad = find_invalid_utf8(input);
    return bad && recorded == replace_invalid_utf8(input, bad);
  };
  // An item's input is the line without its "\r"; the record of a line
  // that could not make an item holds the line as read, "\r" and all.
  return holds(without_cr(text)) || holds(text);
}

// The Batch API's file formats, as OpenAI documents them: the request input
// object {"custom_id", "method", "url", "body"} and the request output object
// {"id", "custom_id", "response": {"status_code", "request_id", "body"} or
// null, "error": {"code", "message"} or null}
// (https://platform.openai.com/docs/api-reference/batch/request-input and
// .../batch/request-output), with the examples of the Batch API guide
// (https://platform.openai.com/docs/guides/batch): output lines in any
// order, and expired requests in the error file as "response": null with
// "error": {"code": "batch_expired", ...}.

std::string batch_request_line(std::size_t line, std::string_view body_json, Api api)
{
  std::string out;
  out.reserve(body_json.size() + 96);
  out += R"({"custom_id":"line-)";
  out += std::to_string(line);
  out += R"(","method":"POST","url":"/v1)";
  out += endpoint_path(api);
  out += R"(","body":)";
  out += body_json;
  out += "}\n";
  return out;
}

namespace {

// A line of a Batch API output or error file, checked as parse_batch_record
// says: its input line and the record, whose "error" is a non-null object or
// whose "response" is an object with an HTTP status_code.
struct CheckedRecord {
  std::size_t line = 0;
  json::value record;
};

std::optional<CheckedRecord> check_batch_record(std::string_view record_text,
                                                const std::string& path,
                                                std::size_t number,
                                                ResultsFrom from)
{
  if (trim(record_text).empty()) {
    return std::nullopt;
  }
  const auto bad = [&](const std::string& what) {
    if (from == ResultsFrom::provider) {
      return Error(FailureKind::bad_response,
                   ExitStatus::bad_response,
                   file_phase(path, number),
                   what + "; not a line of a Batch API output file for gptq's requests");
    }
    return Error(ExitStatus::usage,
                 file_phase(path, number),
                 what + "; --from-batch expects a Batch API output or error file of requests made with "
                        "--emit-batch, one {\"custom_id\": \"line-N\", \"response\": ..., \"error\": ...} per line");
  };
  std::string problem;
  auto record = parse_json_line(record_text, problem);
  if (!record) {
    throw bad(problem);
  }
  if (!record->is_object()) {
    throw bad("not a JSON object");
  }
  const auto* id = json_member(*record, "custom_id");
  if (!id || !id->is_string()) {
    throw bad("no \"custom_id\" string");
  }
  const auto line = line_of_custom_id(id->get_string());
  if (!line) {
    throw bad("custom_id \"" + one_line(id->get_string(), 80) + "\" is not one gptq wrote (\"line-N\")");
  }
  const auto* error = json_member(*record, "error");
  const auto* response = json_member(*record, "response");
  if (!(error && !error->is_null())) {
    if (!response || !response->is_object()) {
      throw bad("neither a \"response\" nor an \"error\" object");
    }
    const auto status_code = json_integer(*response, "status_code");
    if (!status_code || *status_code < 100 || *status_code > 999) {
      throw bad("the response has no HTTP \"status_code\"");
    }
  }
  return CheckedRecord{ *line, std::move(*record) };
}

// The result of a checked record.
BatchResult result_of(const json::value& record)
{
  const auto* error = json_member(record, "error");
  BatchResult result;
  if (error && !error->is_null()) {
    // A request the batch did not run (expired, cancelled, ...): not a
    // server's answer, so no HTTP status maps it; like a refused request.
    result.status = static_cast<int>(ExitStatus::rejected);
    result.message =
      one_line(describe_json_error(json::object{ { "error", *error } }).value_or(to_json_text(*error)), 500);
    return result;
  }
  const auto& response = record.at("response");
  const int code = static_cast<int>(*json_integer(response, "status_code"));
  const auto* body = json_member(response, "body");
  if (code >= 200 && code < 300) {
    return success_result(body);
  }
  HttpResponse http;
  http.status = code;
  if (body && !body->is_null()) {
    http.body = body->is_string() ? std::string(body->get_string()) : to_json_text(*body);
  }
  result.status = static_cast<int>(exit_status_for_http(code));
  result.message = describe_error_response(http);
  return result;
}

} // namespace

std::optional<std::pair<std::size_t, BatchResult>> parse_batch_record(std::string_view record_text,
                                                                      const std::string& path,
                                                                      std::size_t number,
                                                                      ResultsFrom from)
{
  const auto checked = check_batch_record(record_text, path, number, from);
  if (!checked) {
    return std::nullopt;
  }
  return std::pair{ checked->line, result_of(checked->record) };
}

std::optional<std::size_t> batch_record_line(std::string_view record_text,
                                             const std::string& path,
                                             std::size_t number,
                                             ResultsFrom from)
{
  const auto checked = check_batch_record(record_text, path, number, from);
  return checked ? std::optional(checked->line) : std::nullopt;
}

Error batch_duplicate_error(const std::string& first_path,
                            std::size_t first,
                            const std::string& path,
                            std::size_t again,
                            std::size_t line,
                            ResultsFrom from)
{
  const std::string where =
    first_path == path ? "on line " + std::to_string(first) : "in " + file_phase(first_path, first);
  const std::string twice = "custom_id \"line-" + std::to_string(line) + "\" is " + where + " too";
  if (from == ResultsFrom::provider) {
    return Error(FailureKind::bad_response,
                 ExitStatus::bad_response,
                 file_phase(path, again),
                 twice + "; the Batch API gives each request one result");
  }
  return Error(ExitStatus::usage,
               file_phase(path, again),
               twice + "; a batch gives each request one result, so this file joins two batches' results");
}

std::map<std::size_t, BatchResult> parse_batch_output(std::string_view text, const std::string& path)
{
  std::map<std::size_t, BatchResult> results;
  std::map<std::size_t, std::size_t> seen; // input line -> the file's line with its result
  for_each_line(text, [&](std::size_t number, std::string_view record_text) {
    auto record = parse_batch_record(record_text, path, number);
    if (!record) {
      return;
    }
    const auto [at, added] = seen.try_emplace(record->first, number);
    if (!added) {
      throw batch_duplicate_error(path, at->second, path, number, record->first);
    }
    results.emplace(record->first, std::move(record->second));
  });
  return results;
}

std::optional<InputFrame> find_input_frame(const std::function<std::string(const std::string&)>& message_for)
{
  const std::string one = message_for("x");
  const std::string two = message_for("yy");
  const auto prefix =
    static_cast<std::size_t>(std::mismatch(one.begin(), one.end(), two.begin(), two.end()).first - one.begin());
  if (two.size() != one.size() + 1 || prefix >= one.size() ||
      std::string_view(one).substr(prefix + 1) != std::string_view(two).substr(prefix + 2)) {
    return std::nullopt;
  }
  return InputFrame{ prefix, one.size() - prefix - 1 };
}

std::string input_frame_text(InputFrame frame)
{
  return std::to_string(frame.prefix) + "," + std::to_string(frame.suffix);
}

std::optional<InputFrame> parse_input_frame(std::string_view text)
{
  const auto number = [](std::string_view digits) -> std::optional<std::size_t> {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    return n;
  };
  const auto comma = text.find(',');
  if (comma == std::string_view::npos) {
    return std::nullopt;
  }
  const auto prefix = number(text.substr(0, comma));
  const auto suffix = number(text.substr(comma + 1));
  if (!prefix || !suffix) {
    return std::nullopt;
  }
  return InputFrame{ *prefix, *suffix };
}

std::optional<std::size_t> batch_request_line_number(std::string_view request_line)
{
  // A line as batch_request_line writes it begins with its custom_id: read
  // there, a 100 MB input file is indexed without parsing every body.
  constexpr std::string_view written = R"({"custom_id":")";
  if (request_line.starts_with(written)) {
    const auto end = request_line.find('"', written.size());
    const auto line = end == std::string_view::npos || !request_line.substr(end + 1).starts_with(",")
                        ? std::nullopt
                        : line_of_custom_id(request_line.substr(written.size(), end - written.size()));
    if (line) {
      return line;
    }
  }
  std::string problem;
  const auto request = parse_json_line(request_line, problem);
  if (!request || !request->is_object()) {
    return std::nullopt;
  }
  const auto id = json_string(*request, "custom_id");
  return id ? line_of_custom_id(*id) : std::nullopt;
}

namespace {

// The text of a message's content: the string, or its first text part
// (chat's "text", the Responses API's "input_text").
std::optional<std::string_view> content_text(const json::value* content)
{
  if (!content) {
    return std::nullopt;
  }
  if (content->is_string()) {
    return std::string_view(content->get_string());
  }
  if (!content->is_array()) {
    return std::nullopt;
  }
  for (const auto& part : content->get_array()) {
    const auto type = json_string(part, "type");
    const auto* text = json_member(part, "text");
    if (type && (*type == "text" || *type == "input_text") && text && text->is_string()) {
      return std::string_view(text->get_string());
    }
  }
  return std::nullopt;
}

// The text of the last user message of a request body: chat's "messages",
// or the Responses API's "input" (a string, or a list of messages).
std::optional<std::string_view> last_user_text(const json::value& body)
{
  const auto* input = json_member(body, "input");
  if (input && input->is_string()) {
    return std::string_view(input->get_string());
  }
  const auto* messages = json_member(body, "messages");
  const auto* list = messages && messages->is_array() ? messages : input;
  if (!list || !list->is_array()) {
    return std::nullopt;
  }
  const auto& items = list->get_array();
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    const auto role = json_string(*it, "role");
    if (role && *role == "user") {
      return content_text(json_member(*it, "content"));
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> batch_request_input(std::string_view request_line, InputFrame frame)
{
  std::string problem;
  const auto request = parse_json_line(request_line, problem);
  if (!request || !request->is_object()) {
    return std::nullopt;
  }
  const auto* body = json_member(*request, "body");
  const auto text = body && body->is_object() ? last_user_text(*body) : std::nullopt;
  if (!text || text->size() < frame.prefix || text->size() - frame.prefix < frame.suffix) {
    return std::nullopt;
  }
  return std::string(text->substr(frame.prefix, text->size() - frame.prefix - frame.suffix));
}

} // namespace gptq
