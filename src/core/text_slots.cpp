#include "text_slots.hpp"

#include "json_text.hpp"

namespace gptq {

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
  std::size_t size = skeleton.size();
  for (const auto& text : texts_) {
    size += text.text.size() + text.text.size() / 8;
  }
  std::string body;
  body.reserve(size);
  std::size_t from = 0;
  for (std::size_t i = 0; i < texts_.size(); ++i) {
    const std::size_t quote = at[i] - 1; // the placeholder's opening quote
    body.append(skeleton, from, quote - from);
    if (texts_[i].escaped) {
      body += '"';
      body += texts_[i].text;
      body += '"';
    } else {
      append_json_string(body, texts_[i].text);
    }
    from = skeleton.find('"', at[i]) + 1;
  }
  body.append(skeleton, from);
  return body;
}

} // namespace gptq
