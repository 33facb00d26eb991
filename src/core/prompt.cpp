#include "prompt.hpp"

#include "error.hpp"
#include "text.hpp"

#include <algorithm>
#include <cstdio>

namespace gptq {

void require_utf8(std::string_view text, const std::string& what)
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

namespace {

// A fence the content cannot close: one backtick more than its longest run.
std::string fence_for(const std::string& content)
{
  std::size_t longest = 0;
  std::size_t run = 0;
  for (const char c : content) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<std::size_t>(3, longest + 1), '`');
}

} // namespace

namespace {

bool is_whole_message(const std::vector<std::string>& words,
                      const std::optional<std::string_view>& stdin_text,
                      const std::vector<Attachment>& attachments)
{
  return stdin_text && !trim(*stdin_text).empty() && words.empty() && attachments.empty();
}

// The message of assemble_user_message in a string of its own.
std::string assemble(const std::vector<std::string>& words,
                     std::optional<std::string_view> stdin_text,
                     const std::vector<Attachment>& attachments)
{
  const bool has_stdin = stdin_text && !trim(*stdin_text).empty();
  std::string message;
  std::size_t size = has_stdin ? stdin_text->size() + 2 : 0;
  for (const auto& word : words) {
    size += word.size() + 1;
  }
  for (const auto& file : attachments) {
    size += file.name.size() + file.content.size() + 64;
  }
  message.reserve(size);
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) {
      message += ' ';
    }
    message += words[i];
  }
  require_utf8(message, "prompt");
  if (has_stdin) {
    require_utf8(*stdin_text, "stdin");
    if (!words.empty()) {
      message += "\n\n";
    }
    message += *stdin_text;
  }
  for (const auto& file : attachments) {
    require_utf8(file.content, "--file " + file.name);
    const std::string fence = fence_for(file.content);
    if (!message.empty()) {
      message += "\n\n";
    }
    message += "File: " + file.name + "\n" + fence + "\n" + file.content;
    if (!file.content.empty() && file.content.back() != '\n') {
      message += '\n';
    }
    message += fence;
  }
  if (trim(message).empty()) {
    throw Error(
      ExitStatus::usage, "", "the prompt is empty: give PROMPT words or pipe text to stdin (see 'gptq --help')");
  }
  return message;
}

} // namespace

std::optional<std::string> blank_stdin_warning(std::string_view stdin_text,
                                               bool have_words,
                                               bool have_files,
                                               bool as_file)
{
  if (!trim(stdin_text).empty()) {
    return std::nullopt;
  }
  std::string warning =
    std::string("stdin") + (as_file ? " (-f -)" : "") + (stdin_text.empty() ? " was empty" : " held only white space");
  if (as_file) {
    // An empty file adds nothing; one of white space is framed as any file.
    return warning +
           (stdin_text.empty() ? "; it adds nothing to the prompt" : "; the file it adds to the prompt has no text");
  }
  warning += "; only the ";
  warning += have_words && have_files ? "PROMPT words and --file files are"
             : have_words             ? "PROMPT words are"
                                      : "--file files are";
  return warning + " sent (use --no-stdin or </dev/null when that is meant)";
}

std::string assemble_user_message(const std::vector<std::string>& words,
                                  std::optional<std::string> stdin_text,
                                  const std::vector<Attachment>& attachments)
{
  if (is_whole_message(words, stdin_text, attachments)) {
    require_utf8(*stdin_text, "stdin");
    return std::move(*stdin_text); // the usual pipe: no copy
  }
  return assemble(words, stdin_text, attachments);
}

std::string_view user_message_view(const std::vector<std::string>& words,
                                   std::optional<std::string_view> stdin_text,
                                   const std::vector<Attachment>& attachments,
                                   std::string& storage)
{
  if (is_whole_message(words, stdin_text, attachments)) {
    require_utf8(*stdin_text, "stdin");
    return *stdin_text;
  }
  storage = assemble(words, stdin_text, attachments);
  return storage;
}

} // namespace gptq
