#include "text_slots.hpp"

#include "json_text.hpp"
#include "media.hpp"
#include "text.hpp"

#include <algorithm>

namespace gptq {

namespace {

// The first characters of a shortened payload: enough to tell what it is.
constexpr std::size_t shown_bytes = 12; // 16 base64 characters

} // namespace

boost::json::string TextSlots::hold(const Payload& payload, bool base64_string)
{
  if (const auto* bytes = std::get_if<Base64Bytes>(&payload)) {
    texts_.push_back({ bytes->bytes, Kind::base64, bytes->head });
  } else {
    texts_.push_back({ std::get<std::string>(payload), base64_string ? Kind::base64_text : Kind::payload });
  }
  return boost::json::string(prefix_ + std::to_string(texts_.size() - 1) + ">");
}

void TextSlots::write(std::string& body, const Text& text) const
{
  switch (text.kind) {
    case Kind::text:
      append_json_string(body, text.text);
      return;
    case Kind::escaped:
      body += '"';
      body += text.text;
      body += '"';
      return;
    case Kind::base64:
      body += '"';
      body += text.head;
      if (short_payloads_ && base64_size(text.text.size()) > 2 * base64_size(shown_bytes)) {
        append_base64(body, text.text.substr(0, shown_bytes));
        body += "...(" + size_text(text.text.size()) + ")";
      } else {
        append_base64(body, text.text);
      }
      body += '"';
      return;
    case Kind::payload:
    case Kind::base64_text: {
      // A data: URL or base64 that a thread holds: shortened after its head;
      // an http(s) URL never.
      const bool data_url = text.text.starts_with("data:");
      const auto comma = data_url ? text.text.find(',') : std::string_view::npos;
      const std::size_t head = comma == std::string_view::npos ? 0 : comma + 1;
      const bool shortened = data_url || text.kind == Kind::base64_text;
      if (short_payloads_ && shortened && text.text.size() > head + 2 * base64_size(shown_bytes)) {
        // As bytes encoded now are shown: the first characters and the
        // size of what they encode.
        const std::string_view encoded = text.text.substr(head);
        const std::size_t padding = encoded.size() - std::min(encoded.size(), encoded.find_last_not_of('=') + 1);
        append_json_string(body,
                           std::string(text.text.substr(0, head + base64_size(shown_bytes))) + "...(" +
                             size_text(encoded.size() / 4 * 3 - std::min<std::size_t>(padding, 2)) + ")");
      } else {
        append_json_string(body, text.text);
      }
      return;
    }
  }
}

std::optional<std::string> TextSlots::splice(const std::string& skeleton, bool placed) const
{
  if (!placed || texts_.empty()) {
    return skeleton;
  }
  std::vector<std::size_t> at;
  for (auto p = skeleton.find(prefix_); p != std::string::npos; p = skeleton.find(prefix_, p + prefix_.size())) {
    at.push_back(p);
  }
  // The placeholders stand in the messages in the order they were made:
  // with no other occurrence, the Nth found is the Nth text's.
  if (at.size() != texts_.size()) {
    return std::nullopt;
  }
  // Room for all, reserved once: an attachment's encoding is never moved.
  std::size_t size = skeleton.size();
  for (const auto& text : texts_) {
    size += text.kind == Kind::base64 ? text.head.size() + base64_size(text.text.size()) + 2
                                      : text.text.size() + text.text.size() / 8;
  }
  std::string body;
  body.reserve(size);
  std::size_t from = 0;
  for (std::size_t i = 0; i < texts_.size(); ++i) {
    const std::size_t quote = at[i] - 1; // the placeholder's opening quote
    body.append(skeleton, from, quote - from);
    write(body, texts_[i]);
    from = skeleton.find('"', at[i]) + 1;
  }
  body.append(skeleton, from);
  return body;
}

} // namespace gptq
