#pragma once

#include <boost/json/string.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// The texts of messages (a piped file, perhaps hundreds of MB) are escaped
// straight into the body by every wire writer: the JSON tree holds a
// placeholder in the place of each, "<gptq text A:N>" for the Nth text, A
// chosen so that no other field holds the prefix.
class TextSlots {
public:
  explicit TextSlots(int attempt)
    : prefix_("<gptq text " + std::to_string(attempt) + ":")
  {
  }

  // Returns the placeholder that stands for `text`.
  boost::json::string hold(std::string_view text)
  {
    texts_.push_back({ text, false });
    return boost::json::string(prefix_ + std::to_string(texts_.size() - 1) + ">");
  }

  // Returns the placeholder that stands for the string whose escaped inside
  // is `json` (checked by the caller): it goes into the body as it is.
  boost::json::string hold_escaped(std::string_view json)
  {
    texts_.push_back({ json, true });
    return boost::json::string(prefix_ + std::to_string(texts_.size() - 1) + ">");
  }

  // Returns `skeleton` with the texts in their places, or nullopt when other
  // fields hold the prefix too (another attempt picks another). `placed` is
  // false when an extra field replaced the messages, and the placeholders
  // with them: the skeleton is then the body.
  std::optional<std::string> splice(const std::string& skeleton, bool placed) const;

private:
  std::string prefix_;
  struct Text {
    std::string_view text;
    bool escaped = false; // already the inside of a JSON string
  };
  std::vector<Text> texts_;
};

} // namespace gptq
