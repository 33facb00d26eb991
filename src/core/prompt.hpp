#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// A file given with -f.
struct Attachment {
  std::string name;    // as the user wrote it ("-" is "stdin")
  std::string content; // exactly the file's bytes
};

// Returns the user message: the PROMPT `words` joined by single spaces,
// then "\n\n" and `stdin_text` when both are present, or whichever one is
// present, then each attachment as "File: NAME" and its content in a code
// fence longer than any run of backticks inside it, a blank line between
// parts. Bytes pass through unchanged. Throws gptq::Error (usage) when the
// result is empty or only white space, or when the words, `stdin_text` or an
// attachment are not valid UTF-8 (naming it and the byte offset).
// `stdin_text` is taken by value so that a caller can move a large input in:
// alone, it becomes the message without a copy.
std::string assemble_user_message(const std::vector<std::string>& words,
                                  std::optional<std::string> stdin_text,
                                  const std::vector<Attachment>& attachments = {});

// Returns the same message as assemble_user_message, as a view: of
// `stdin_text` itself when that is the whole message (a large piped or
// mapped file is never copied), else of `storage`, which then holds the
// message. Throws as assemble_user_message does.
std::string_view user_message_view(const std::vector<std::string>& words,
                                   std::optional<std::string_view> stdin_text,
                                   const std::vector<Attachment>& attachments,
                                   std::string& storage);

// Returns the warning (after "gptq: warning: ") for a request sent although
// stdin, which was read, held nothing but white space (`stdin_text`): a
// pipe whose command printed nothing, as `git diff --cached | gptq "write a
// commit message"` with nothing staged, would otherwise get an answer made
// up from the words alone. It names what the prompt holds instead: the PROMPT
// words (`have_words`) and --file files (`have_files`), or with `as_file`
// (-f -) stdin as an empty file; and how to say that no stdin is meant.
// nullopt when `stdin_text` holds more than white space.
std::optional<std::string> blank_stdin_warning(std::string_view stdin_text,
                                               bool have_words,
                                               bool have_files,
                                               bool as_file);

// Throws gptq::Error (usage) naming `what` and the byte offset when `text` is
// not valid UTF-8: servers reject or garble such requests, so gptq refuses
// to send them.
void require_utf8(std::string_view text, const std::string& what);

} // namespace gptq
