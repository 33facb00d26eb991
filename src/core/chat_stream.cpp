#include "chat_stream.hpp"

#include "error.hpp"
#include "json_access.hpp"
#include "stream_json.hpp"
#include "text.hpp"

#include <boost/json/error.hpp>

namespace gptq {

namespace json = boost::json;

namespace {

// The text fields of a delta, in the order their text is given out; the
// index of each is its place in pending_high_.
constexpr std::string_view delta_fields[] = { "reasoning_content", "reasoning", "refusal", "content" };
constexpr std::size_t refusal_field = 2;
constexpr std::size_t content_field = 3;

} // namespace

struct ChatStreamDecoder::Json : StreamJson {
  Json()
    : StreamJson(delta_fields)
  {
  }
};

ChatStreamDecoder::ChatStreamDecoder(Secrets secrets)
  : secrets_(std::move(secrets))
  , json_(std::make_unique<Json>())
{
}

ChatStreamDecoder::~ChatStreamDecoder() = default;

ReplyDelta ChatStreamDecoder::decode(const SseEvent& event)
{
  if (done_) {
    return {};
  }
  const std::string_view data = trim(event.data);
  ReplyDelta delta;
  if (!data.empty() && data != "[DONE]") {
    delta.json = event.data;
  }
  if (event.error) {
    // llama.cpp's `error: {"code":400,"message":...,"type":...}`: the error
    // object itself, not wrapped in {"error": ...}.
    boost::system::error_code ec;
    const json::value& error = json_->parse(trim(*event.error), ec);
    std::optional<std::string> message;
    if (!ec && error.is_object()) {
      message = json_member(error, "error") ? describe_json_error(error)
                                            : describe_json_error(json::object{ { "error", error } });
    }
    delta.error.emplace(FailureKind::bad_response,
                        ExitStatus::bad_response,
                        "api",
                        "error in the stream: " + one_line(message.value_or(*event.error), 500));
    return delta;
  }
  if (data == "[DONE]") {
    done_ = true;
    delta = finish();
    delta.done = true;
    return delta;
  }
  // Keep-alive events some servers send as data.
  if (data.empty() || data == "ping" || event.type == "ping") {
    return delta;
  }
  ReplyDelta said = decode_chunk(data, event.type);
  said.json = delta.json;
  return said;
}

// Decodes the JSON of one event that is not a keep-alive.
ReplyDelta ChatStreamDecoder::decode_chunk(std::string_view data, std::string_view type)
{
  ReplyDelta delta;
  boost::system::error_code ec;
  const json::value& chunk = json_->parse(data, ec);
  if (ec == json::error::too_deep) {
    delta.error.emplace(FailureKind::bad_response,
                        ExitStatus::bad_response,
                        "stream",
                        "a chunk is nested deeper than " + std::to_string(max_json_depth) +
                          " levels: " + one_line(data, 80));
    return delta;
  }
  if (ec || !chunk.is_object()) {
    delta.error.emplace(FailureKind::bad_response,
                        ExitStatus::bad_response,
                        "stream",
                        "a chunk is not a JSON object: " + secrets_.excerpt(data, 80));
    return delta;
  }
  if (json_member(chunk, "error") || type == "error") {
    delta.error.emplace(FailureKind::bad_response,
                        ExitStatus::bad_response,
                        "api",
                        "error in the stream: " +
                          secrets_.excerpt(describe_json_error(chunk).value_or(std::string(data)), 500));
    return delta;
  }
  if (auto usage = usage_of(chunk)) {
    usage_ = std::move(usage);
    delta.usage = &*usage_;
  }
  const auto* choices = json_member(chunk, "choices");
  if (!choices || !choices->is_array()) {
    return delta; // a chunk with nothing for us
  }
  // Only the first choice is printed; with n > 1 chunks of other indexes
  // interleave and are skipped.
  std::size_t position = 0;
  for (const auto& choice : choices->get_array()) {
    const auto index = json_integer(choice, "index");
    if (!index || *index == 0) {
      decode_choice(choice, position, delta);
      break;
    }
    ++position;
  }
  return delta;
}

// Takes the text and the finish_reason of the first choice, at `position`
// in the chunk's choices.
void ChatStreamDecoder::decode_choice(const json::value& choice, std::size_t position, ReplyDelta& delta)
{
  if (const auto* text = json_member(choice, "delta")) {
    const std::string path = json_->edges.empty() ? std::string() : "choices/" + std::to_string(position) + "/delta/";
    for (std::size_t field = 0; field < std::size(delta_fields); ++field) {
      if (auto piece = delta_text(*text, field, path, json_->edges); piece && !piece->empty()) {
        put(delta, field, *piece);
      }
    }
  }
  if (auto reason = json_string(choice, "finish_reason")) {
    finish_reason_ = std::move(*reason);
    delta.finish_reason = *finish_reason_;
  }
}

ReplyDelta ChatStreamDecoder::finish()
{
  ReplyDelta delta;
  for (std::size_t field = 0; field < pending_high_.size(); ++field) {
    if (pending_high_[field]) {
      pending_high_[field].reset();
      put(delta, field, replacement_character);
    }
  }
  return delta;
}

// Returns the text of the delta's field, joined with the high surrogate the
// last chunk's text of that field ended with, if this one begins with its
// low half; nullopt when the field is not a string.
std::optional<std::string_view> ChatStreamDecoder::delta_text(const json::value& delta,
                                                              std::size_t field,
                                                              std::string_view path,
                                                              const std::vector<EdgeSurrogate>& edges)
{
  const auto* member = json_member(delta, delta_fields[field]);
  if (!member || !member->is_string()) {
    return std::nullopt;
  }
  const std::string_view text = member->get_string();
  std::optional<std::uint16_t> low;
  std::optional<std::uint16_t> high;
  for (const auto& edge : edges) {
    if (edge.path.size() == path.size() + delta_fields[field].size() && edge.path.starts_with(path) &&
        edge.path.ends_with(delta_fields[field])) {
      (edge.unit >= 0xDC00 ? low : high) = edge.unit;
    }
  }
  return join_edge_surrogates(text, low, high, pending_high_[field], joined_[field]);
}

void ChatStreamDecoder::put(ReplyDelta& delta, std::size_t field, std::string_view text)
{
  if (field == content_field) {
    delta.content = text;
  } else if (field == refusal_field) {
    delta.refusal = text;
  } else if (delta.reasoning.empty()) {
    delta.reasoning = text;
  } else {
    reasoning_.assign(delta.reasoning);
    reasoning_ += text;
    delta.reasoning = reasoning_;
  }
}

} // namespace gptq
