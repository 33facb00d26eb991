#include "prompt.hpp"

#include "error.hpp"
#include "text.hpp"

#include <cstdio>

namespace gptq {

void require_utf8(const std::string& text, const std::string& what)
{
  const auto bad = find_invalid_utf8(text);
  if (!bad) {
    return;
  }
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[*bad])));
  throw Error(ExitStatus::usage,
              what,
              "invalid UTF-8 at byte " + std::to_string(*bad) + " (" + byte +
                "); convert the text to UTF-8 first, e.g. with iconv");
}

std::string assemble_user_message(const std::vector<std::string>& words,
                                  const std::optional<std::string>& stdin_text)
{
  std::string message;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) {
      message += ' ';
    }
    message += words[i];
  }
  require_utf8(message, "prompt");
  if (stdin_text && !trim(*stdin_text).empty()) {
    require_utf8(*stdin_text, "stdin");
    if (!words.empty()) {
      message += "\n\n";
    }
    message += *stdin_text;
  }
  if (trim(message).empty()) {
    throw Error(ExitStatus::usage,
                "",
                "the prompt is empty: give PROMPT words or pipe text to stdin (see 'gptq --help')");
  }
  return message;
}

} // namespace gptq
