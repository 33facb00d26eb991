#include "responses_stream.hpp"

#include "error.hpp"
#include "json_access.hpp"
#include "stream_json.hpp"
#include "text.hpp"

#include <boost/json/error.hpp>
#include <boost/json/object.hpp>

namespace gptq {

namespace json = boost::json;

namespace {

enum Field : std::size_t { content_field, reasoning_field, refusal_field };

// The events whose `delta` is text, and of which kind.
std::optional<Field> delta_field(std::string_view type)
{
  if (type == "response.output_text.delta") {
    return content_field;
  }
  if (type == "response.reasoning_summary_text.delta" || type == "response.reasoning_text.delta") {
    return reasoning_field;
  }
  if (type == "response.refusal.delta") {
    return refusal_field;
  }
  return std::nullopt;
}

constexpr std::string_view edge_keys[] = { "delta" };

} // namespace

struct ResponsesStreamDecoder::Json : StreamJson {
  Json()
    : StreamJson(edge_keys)
  {
  }
};

ResponsesStreamDecoder::ResponsesStreamDecoder(Secrets secrets)
  : secrets_(std::move(secrets))
  , json_(std::make_unique<Json>())
{
}

ResponsesStreamDecoder::~ResponsesStreamDecoder() = default;

ReplyDelta ResponsesStreamDecoder::failure(std::string_view phase, std::string message) const
{
  ReplyDelta delta;
  delta.error.emplace(FailureKind::bad_response, ExitStatus::bad_response, std::string(phase), message);
  return delta;
}

ReplyDelta ResponsesStreamDecoder::decode(const SseEvent& event)
{
  if (done_) {
    return {};
  }
  const std::string_view data = trim(event.data);
  if (event.error) {
    return failure("api", "error in the stream: " + secrets_.excerpt(trim(*event.error), 500));
  }
  if (data == "[DONE]") {
    done_ = true;
    ReplyDelta delta = finish();
    delta.done = true;
    return delta;
  }
  if (data.empty() || data == "ping" || event.type == "ping") {
    return {};
  }
  ReplyDelta delta = decode_object(data, event.type);
  delta.json = event.data;
  return delta;
}

ReplyDelta ResponsesStreamDecoder::decode_object(std::string_view data, std::string_view event_type)
{
  boost::system::error_code ec;
  const json::value& event = json_->parse(data, ec);
  if (ec == json::error::too_deep) {
    return failure(
      "stream", "an event is nested deeper than " + std::to_string(max_json_depth) + " levels: " + one_line(data, 80));
  }
  if (ec || !event.is_object()) {
    return failure("stream", "an event is not a JSON object: " + secrets_.excerpt(data, 80));
  }
  const std::string type = json_string(event, "type").value_or(std::string(event_type));
  ReplyDelta delta;
  if (const auto field = delta_field(type)) {
    const auto* text = json_member(event, "delta");
    if (text && text->is_string()) {
      const std::string_view piece = joined(*field, text->get_string());
      (*field == content_field ? delta.content : *field == reasoning_field ? delta.reasoning : delta.refusal) = piece;
    }
    return delta;
  }
  if (type == "error" || type == "response.failed") {
    // A bare error event holds the error's fields itself; response.failed
    // holds them in response.error.
    const auto* response = json_member(event, "response");
    const json::value* error = response ? json_member(*response, "error") : json_member(event, "error");
    json::object fields;
    if (error && error->is_object()) {
      fields = error->get_object();
    } else if (!error) {
      fields = event.get_object();
      fields.erase("type");
      fields.erase("sequence_number");
    }
    const auto message = describe_json_error(json::object{ { "error", std::move(fields) } });
    return failure("api",
                   std::string(type == "error" ? "error in the stream: " : "the response failed: ") +
                     secrets_.excerpt(message.value_or(std::string(data)), 500));
  }
  if (type == "response.completed" || type == "response.incomplete") {
    end_reply(event, delta);
  }
  return delta;
}

// Takes the end of the reply: why it ended and its usage; the stream is
// then done.
void ResponsesStreamDecoder::end_reply(const json::value& event, ReplyDelta& delta)
{
  static const json::value none;
  const auto* response = json_member(event, "response");
  const json::value& r = response ? *response : none;
  if (json_string(event, "type") == "response.completed") {
    finish_reason_ = "stop";
  } else {
    const auto* details = json_member(r, "incomplete_details");
    finish_reason_ = (details ? json_string(*details, "reason") : std::nullopt).value_or("incomplete");
  }
  if (auto usage = usage_of(r)) {
    usage_ = std::move(usage);
  }
  // What was held back comes out before the end.
  ReplyDelta held = finish();
  delta.content = held.content;
  delta.reasoning = held.reasoning;
  delta.refusal = held.refusal;
  delta.finish_reason = *finish_reason_;
  delta.usage = usage_ ? &*usage_ : nullptr;
  delta.done = true;
  done_ = true;
}

ReplyDelta ResponsesStreamDecoder::finish()
{
  ReplyDelta delta;
  for (std::size_t field = 0; field < pending_high_.size(); ++field) {
    if (pending_high_[field]) {
      pending_high_[field].reset();
      joined_[field] = replacement_character;
      (field == content_field     ? delta.content
       : field == reasoning_field ? delta.reasoning
                                  : delta.refusal) = joined_[field];
    }
  }
  return delta;
}

// Returns `text`, joined with the high surrogate the last delta of the same
// kind ended with, if this one begins with its low half; a high surrogate
// that ends it is held for the next.
std::string_view ResponsesStreamDecoder::joined(std::size_t field, std::string_view text)
{
  std::optional<std::uint16_t> low;
  std::optional<std::uint16_t> high;
  for (const auto& edge : json_->edges) {
    if (edge.path == "delta") {
      (edge.unit >= 0xDC00 ? low : high) = edge.unit;
    }
  }
  return join_edge_surrogates(text, low, high, pending_high_[field], joined_[field]);
}

} // namespace gptq
