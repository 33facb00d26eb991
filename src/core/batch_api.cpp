#include "batch_api.hpp"

#include "json_access.hpp"
#include "json_surrogates.hpp"
#include "response.hpp"
#include "text.hpp"

#include <boost/json/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>

namespace gptq {

namespace json = boost::json;

namespace {

// The longest piece of one of the server's messages kept in an error.
constexpr std::size_t max_message_bytes = 500;

[[noreturn]] void throw_bad(const std::string& message)
{
  throw Error(FailureKind::bad_response, ExitStatus::bad_response, "response", message);
}

// Returns the JSON value of `body`, `what` ("the batch") naming it in the
// error thrown when it is not a JSON object, or is an error object.
json::value parse_object(std::string_view body, std::string_view what, const Secrets& secrets)
{
  // A lone surrogate escape in the server's text must not fail the whole
  // object: it becomes U+FFFD, as in replies.
  const auto repaired = repair_lone_surrogates(body);
  const std::string_view text = repaired ? std::string_view(repaired->text) : body;
  json::parse_options options;
  options.max_depth = max_json_depth;
  json::stream_parser parser({}, options);
  boost::system::error_code ec;
  const std::size_t where = parser.write(text.data(), text.size(), ec);
  if (!ec) {
    parser.finish(ec);
  }
  if (ec) {
    if (trim(body).empty()) {
      throw_bad("the server sent an empty body instead of " + std::string(what));
    }
    const bool too_deep = ec == json::error::too_deep;
    throw_bad(
      std::string(what) +
      (too_deep ? " is JSON nested deeper than " + std::to_string(max_json_depth) + " levels" : " is not valid JSON") +
      " (at byte " + std::to_string(where) + " of " + std::to_string(body.size()) + "): " + secrets.excerpt(body, 80));
  }
  json::value value = parser.release();
  if (const auto* error = json_member(value, "error"); error && !error->is_null()) {
    if (auto message = describe_json_error(value)) {
      throw Error(
        FailureKind::bad_response, ExitStatus::bad_response, "api", secrets.excerpt(*message, max_message_bytes));
    }
  }
  if (!value.is_object()) {
    throw_bad(std::string(what) + " is not a JSON object");
  }
  return value;
}

// How a message names the JSON type of `value`.
std::string_view kind_name(const json::value& value)
{
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "true or false";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      break;
  }
  return "an object";
}

// Returns the member `key` of `object`, a string the app acts on: nullopt
// when it is missing or null (when `required` is false). Throws naming
// `what` and `key` when it is of another type, or required and missing,
// null or empty.
std::optional<std::string> string_member(const json::value& object,
                                         std::string_view what,
                                         std::string_view key,
                                         bool required)
{
  const auto* member = json_member(object, key);
  std::string name = "\"";
  name.append(key).append("\"");
  if (!member || member->is_null()) {
    if (required) {
      throw_bad(std::string(what) + " has no " + name);
    }
    return std::nullopt;
  }
  if (!member->is_string()) {
    throw_bad(std::string(what) + " has " + name + " as " + std::string(kind_name(*member)) + ", not a string");
  }
  if (required && member->get_string().empty()) {
    throw_bad(std::string(what) + " has an empty " + name);
  }
  return std::string(member->get_string());
}

// Returns the member `key` of `object`, an id the app puts into URL paths
// and prints, as string_member() does; an optional one that is empty reads
// as absent. Throws naming `what` and `key`, and showing the id redacted,
// escaped and cut, when it is not an id or holds a secret.
std::optional<std::string> id_member(const json::value& object,
                                     std::string_view what,
                                     std::string_view key,
                                     bool required,
                                     const Secrets& secrets)
{
  auto id = string_member(object, what, key, required);
  if (!id || id->empty()) {
    return std::nullopt;
  }
  const std::string shown = secrets.redact(*id);
  const auto start = std::string(what) + " has \"" + std::string(key) + "\" " + quoted(shown, 80);
  if (!is_batch_api_id(*id)) {
    throw_bad(start + ", which is not an id (" + std::string(batch_api_id_shape) + ")");
  }
  if (shown != *id) {
    throw_bad(start + ", which holds a secret");
  }
  return id;
}

// The member `key` of `object` when it is a whole number (negative ones as
// 0, huge ones as 2^52), else 0: the counts and times only inform the
// user, so an odd one is not worth a failure.
long long count_member(const json::value* object, std::string_view key)
{
  // Kept well below the largest long long, so that sums of counts cannot
  // overflow.
  constexpr long long most = 1LL << 52;
  if (!object) {
    return 0;
  }
  if (const auto* member = json_member(*object, key); member && member->is_uint64()) {
    return most;
  }
  return std::clamp(json_integer(*object, key).value_or(0), 0LL, most);
}

// Returns one error of errors.data as "line 2: message (code)", without
// what the server left out.
std::string describe_batch_error(const json::value& error, const Secrets& secrets)
{
  std::string text;
  if (const auto line = json_integer(error, "line")) {
    text = "line " + std::to_string(*line) + ": ";
  }
  text += secrets.excerpt(json_string(error, "message").value_or("(no message)"), max_message_bytes);
  if (const auto code = json_string(error, "code")) {
    text += " (" + secrets.excerpt(*code, 100) + ")";
  }
  return text;
}

// The errors of a failed batch: errors.data, or a lone string some
// compatible servers put in "errors".
std::vector<std::string> batch_errors(const json::value& batch, const Secrets& secrets)
{
  std::vector<std::string> errors;
  const auto* member = json_member(batch, "errors");
  if (member && member->is_string() && !trim(member->get_string()).empty()) {
    errors.push_back(secrets.excerpt(member->get_string(), max_message_bytes));
  }
  const auto* data = member ? json_member(*member, "data") : nullptr;
  if (data && data->is_array()) {
    for (const auto& error : data->get_array()) {
      if (error.is_object()) {
        errors.push_back(describe_batch_error(error, secrets));
      }
    }
  }
  return errors;
}

BatchStatus batch_of(const json::value& batch, std::string_view what, const Secrets& secrets)
{
  if (!batch.is_object()) {
    throw_bad(std::string(what) + " is " + std::string(kind_name(batch)) + ", not an object");
  }
  BatchStatus status;
  status.id = *id_member(batch, what, "id", true, secrets);
  status.status = *string_member(batch, what, "status", true);
  status.endpoint = string_member(batch, what, "endpoint", false).value_or("");
  status.input_file_id = id_member(batch, what, "input_file_id", false, secrets).value_or("");
  status.output_file_id = id_member(batch, what, "output_file_id", false, secrets);
  status.error_file_id = id_member(batch, what, "error_file_id", false, secrets);
  const auto* counts = json_member(batch, "request_counts");
  status.counts = { count_member(counts, "total"), count_member(counts, "completed"), count_member(counts, "failed") };
  status.created_at = count_member(&batch, "created_at");
  status.errors = batch_errors(batch, secrets);
  if (const auto* metadata = json_member(batch, "metadata")) {
    status.gptq_lines = json_string(*metadata, "gptq_lines");
    const auto frame = json_string(*metadata, "gptq_input");
    status.input_frame = frame ? parse_input_frame(*frame) : std::nullopt;
  }
  return status;
}

} // namespace

bool is_batch_api_id(std::string_view id)
{
  if (id.empty() || id.size() > 256) {
    return false;
  }
  for (std::size_t start = 0;;) {
    const std::size_t slash = id.find('/', start);
    const std::string_view segment = id.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return false;
    }
    for (const char c : segment) {
      const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                           c == '_' || c == ':' || c == '-';
      if (!allowed) {
        return false;
      }
    }
    if (slash == std::string_view::npos) {
      return true;
    }
    start = slash + 1;
  }
}

bool BatchStatus::ended() const
{
  return status == "completed" || status == "failed" || status == "expired" || status == "cancelled";
}

BatchStatus parse_batch(std::string_view body, const Secrets& secrets)
{
  return batch_of(parse_object(body, "the batch", secrets), "the batch", secrets);
}

std::vector<BatchStatus> parse_batch_list(std::string_view body, const Secrets& secrets)
{
  const json::value list = parse_object(body, "the list of batches", secrets);
  const auto* data = json_member(list, "data");
  if (!data || !data->is_array()) {
    throw_bad("the list of batches has no \"data\" array");
  }
  std::vector<BatchStatus> batches;
  batches.reserve(data->get_array().size());
  for (const auto& batch : data->get_array()) {
    batches.push_back(batch_of(batch, "batch " + std::to_string(batches.size() + 1) + " of the list", secrets));
  }
  return batches;
}

std::string parse_file_id(std::string_view body, const Secrets& secrets)
{
  return *id_member(parse_object(body, "the file object", secrets), "the file object", "id", true, secrets);
}

std::string batch_create_body(std::string_view input_file_id,
                              Api api,
                              std::size_t lines,
                              std::optional<InputFrame> frame)
{
  json::object body;
  body["input_file_id"] = input_file_id;
  body["endpoint"] = api == Api::responses ? "/v1/responses" : "/v1/chat/completions";
  body["completion_window"] = "24h";
  json::object metadata;
  metadata["created_by"] = "gptq";
  metadata["gptq_lines"] = std::to_string(lines);
  if (frame) {
    metadata["gptq_input"] = input_frame_text(*frame);
  }
  body["metadata"] = std::move(metadata);
  return json::serialize(body);
}

namespace {

// SplitMix64: a well-mixed step from any seed, so that nearby seeds give
// unrelated boundaries.
std::uint64_t mix(std::uint64_t& state)
{
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string boundary_of(std::uint64_t seed)
{
  static constexpr std::string_view alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string boundary = "gptq-";
  std::uint64_t state = seed;
  std::uint64_t bits = 0;
  for (int i = 0; i < 35; ++i) {
    if (i % 8 == 0) {
      bits = mix(state);
    }
    boundary += alphabet[bits % alphabet.size()];
    bits /= alphabet.size();
  }
  return boundary;
}

// `filename` as a quoted-string of Content-Disposition may hold it: '"', CR
// and LF percent-encoded, as browsers (and the HTML standard) do.
std::string form_filename(std::string_view filename)
{
  std::string out;
  for (const char c : filename) {
    switch (c) {
      case '"':
        out += "%22";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A size in megabytes of 10^6 bytes, as the Batch API states its limit.
std::string megabytes(std::uint64_t bytes)
{
  const std::uint64_t tenths = (bytes + 50'000) / 100'000;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MB";
}

} // namespace

Multipart batch_upload_form(std::string_view filename, std::uint64_t seed)
{
  const std::string boundary = boundary_of(seed);
  Multipart form;
  form.content_type = "multipart/form-data; boundary=" + boundary;
  form.head = "--" + boundary +
              "\r\n"
              "Content-Disposition: form-data; name=\"purpose\"\r\n"
              "\r\n"
              "batch\r\n"
              "--" +
              boundary +
              "\r\n"
              "Content-Disposition: form-data; name=\"file\"; filename=\"" +
              form_filename(filename) +
              "\"\r\n"
              "Content-Type: application/jsonl\r\n"
              "\r\n";
  form.tail = "\r\n--" + boundary + "--\r\n";
  return form;
}

void check_batch_limits(std::size_t lines, std::uint64_t bytes)
{
  if (lines > batch_max_lines) {
    throw Error(ExitStatus::usage,
                "batch",
                "the input has " + std::to_string(lines) + " lines, more than the Batch API's limit of " +
                  std::to_string(batch_max_lines) + " in one batch: split it (split -l " +
                  std::to_string(batch_max_lines) + ") and submit each part");
  }
  if (bytes > batch_max_bytes) {
    // Lines per part that keep each part's file under the limit, with a
    // tenth to spare for lines longer than the average.
    const auto fitting =
      static_cast<double>(lines) * static_cast<double>(batch_max_bytes) / static_cast<double>(bytes) * 0.9;
    const auto per_part = std::clamp<std::size_t>(static_cast<std::size_t>(fitting), 1, batch_max_lines);
    throw Error(ExitStatus::usage,
                "batch",
                "the request file is " + megabytes(bytes) + " (" + std::to_string(bytes) +
                  " bytes), more than the Batch API's limit of 200 MB: split the input (split -l " +
                  std::to_string(per_part) + ") and submit each part");
  }
}

std::chrono::milliseconds batch_poll_delay(int poll)
{
  constexpr long long first = 5'000, most = 60'000;
  long long delay = first;
  for (int i = 0; i < poll && delay < most; ++i) {
    delay = delay * 3 / 2;
  }
  return std::chrono::milliseconds(std::min(delay, most));
}

std::string batch_progress_text(const BatchStatus& batch)
{
  std::string text = one_line(batch.status, 40);
  const auto& counts = batch.counts;
  if (counts.total > 0) {
    text.append(" ")
      .append(std::to_string(counts.completed + counts.failed))
      .append("/")
      .append(std::to_string(counts.total))
      .append(" done");
  }
  if (counts.failed > 0) {
    text.append(", ").append(std::to_string(counts.failed)).append(" failed");
  }
  return text;
}

} // namespace gptq
