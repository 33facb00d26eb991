#include "chat_stream.hpp"

#include "error.hpp"
#include "json_access.hpp"
#include "text.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>

namespace gptq {

namespace json = boost::json;

namespace {

// Returns the member `key` of `v` when it is a string, as a view into `v`:
// a content piece goes on to be written without a copy of its own.
std::optional<std::string_view> string_member(const json::value& v, std::string_view key)
{
  const auto* m = json_member(v, key);
  if (m && m->is_string()) {
    return std::string_view(m->get_string());
  }
  return std::nullopt;
}

} // namespace

// A stream has thousands of chunks: each is parsed by the same parser into
// memory that is reset, not freed, after it, so that a chunk of ordinary size
// costs no allocation at all.
struct ChatStreamDecoder::Json {
  unsigned char first_block[16 * 1024];
  json::monotonic_resource memory{first_block, sizeof first_block};
  json::parser parser;

  // Returns the chunk parsed, in `memory`: valid until the next call.
  json::value parse(std::string_view data, boost::system::error_code& ec)
  {
    memory.release();
    parser.reset(&memory);
    parser.write(data, ec);
    if (ec) {
      return nullptr;
    }
    return parser.release();
  }
};

ChatStreamDecoder::ChatStreamDecoder(TextSink on_content, TextSink on_reasoning, Secrets secrets)
  : on_content_(std::move(on_content))
  , on_reasoning_(std::move(on_reasoning))
  , secrets_(std::move(secrets))
  , json_(std::make_unique<Json>())
{
}

ChatStreamDecoder::~ChatStreamDecoder() = default;

void ChatStreamDecoder::on_event(const SseEvent& event)
{
  if (done_) {
    return;
  }
  const std::string_view data = trim(event.data);
  if (data == "[DONE]") {
    done_ = true;
    return;
  }
  // Keep-alive events some servers send as data.
  if (data.empty() || data == "ping" || event.type == "ping") {
    return;
  }
  boost::system::error_code ec;
  const json::value chunk = json_->parse(data, ec);
  if (ec || !chunk.is_object()) {
    throw Error(ExitStatus::bad_response, "stream", "a chunk is not a JSON object: " + secrets_.excerpt(data, 80));
  }
  if (json_member(chunk, "error") || event.type == "error") {
    throw Error(ExitStatus::bad_response,
                "api",
                "error in the stream: " +
                  secrets_.excerpt(describe_json_error(chunk).value_or(std::string(data)), 500));
  }
  if (auto usage = usage_of(chunk)) {
    usage_ = usage;
  }
  const auto* choices = json_member(chunk, "choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) {
    return; // the usage chunk, or a chunk with nothing for us
  }
  // Only the first choice is printed; with n > 1 chunks of other indexes
  // interleave and are skipped.
  const json::value* first = nullptr;
  for (const auto& choice : choices->get_array()) {
    const auto index = json_integer(choice, "index");
    if (!index || *index == 0) {
      first = &choice;
      break;
    }
  }
  if (!first) {
    return;
  }
  if (const auto* delta = json_member(*first, "delta")) {
    for (const char* key : {"reasoning_content", "reasoning"}) {
      if (auto text = string_member(*delta, key); text && !text->empty()) {
        on_reasoning_(*text);
      }
    }
    if (auto refusal = string_member(*delta, "refusal")) {
      refusal_ += *refusal;
    }
    if (auto content = string_member(*delta, "content"); content && !content->empty()) {
      on_content_(*content);
    }
  }
  if (auto reason = json_string(*first, "finish_reason")) {
    finish_reason_ = *reason;
  }
}

} // namespace gptq
