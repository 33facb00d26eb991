#pragma once

#include "chat_request.hpp"

#include <boost/json/string.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// The texts of messages (a piped file, perhaps hundreds of MB) are escaped
// straight into the body by every wire writer, and attachments encoded
// straight into it: the JSON tree holds a placeholder in the place of each,
// "<gptq text A:N>" for the Nth text, A chosen so that no other field holds
// the prefix.
class TextSlots {
public:
  // With `short_payloads` (--dry-run) each payload is written as its first
  // bytes and its size.
  explicit TextSlots(int attempt, bool short_payloads = false)
    : prefix_("<gptq text " + std::to_string(attempt) + ":")
    , short_payloads_(short_payloads)
  {
  }

  // Returns the placeholder that stands for `text`.
  boost::json::string hold(std::string_view text)
  {
    texts_.push_back({ text, Kind::text });
    return boost::json::string(prefix_ + std::to_string(texts_.size() - 1) + ">");
  }

  // Returns the placeholder that stands for the string whose escaped inside
  // is `json` (checked by the caller): it goes into the body as it is.
  boost::json::string hold_escaped(std::string_view json)
  {
    texts_.push_back({ json, Kind::escaped });
    return boost::json::string(prefix_ + std::to_string(texts_.size() - 1) + ">");
  }

  // Returns the placeholder that stands for `payload`, which must outlive
  // the splice: a string is written as JSON text, bytes as their base64.
  // Shortened are bytes, a data: URL, and a string that is base64 itself
  // (`base64_string`: an audio part's data).
  boost::json::string hold(const Payload& payload, bool base64_string = false);

  // Returns `skeleton` with the texts in their places, or nullopt when other
  // fields hold the prefix too (another attempt picks another). `placed` is
  // false when an extra field replaced the messages, and the placeholders
  // with them: the skeleton is then the body.
  std::optional<std::string> splice(const std::string& skeleton, bool placed) const;

private:
  enum class Kind {
    text,
    escaped,     // already the inside of a JSON string
    base64,      // `head`, then the base64 of `text`
    payload,     // a string payload: text, but shortened when it is a data: URL
    base64_text, // a string payload that is base64: text, but shortened
  };
  struct Text {
    std::string_view text;
    Kind kind = Kind::text;
    std::string_view head = {};
  };
  void write(std::string& body, const Text& text) const;

  std::string prefix_;
  bool short_payloads_ = false;
  std::vector<Text> texts_;
};

} // namespace gptq
