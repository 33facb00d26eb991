#pragma once

#include "chat_request.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// A conversation kept in a file the user names (-C, --thread): JSON Lines of
// Chat Completions messages, {"role": ..., "content": ...}, one a line, read
// whole and only ever appended to. Only role and content are sent; other
// fields of a line stay in the file as they are.
//
// The texts of its messages are views into the file's text (which it holds,
// or which its caller keeps) and the lines parsed from it: a Thread is
// moved, never copied, and must outlive the requests made from it.
class Thread {
public:
  Thread() = default;
  Thread(Thread&&) = default;
  Thread& operator=(Thread&&) = default;
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;

  // Every message of the file, in order, the system lines included.
  const std::vector<Message>& messages() const { return messages_; }
  // False when the file is not empty and its last line has no newline (a
  // valid line: it is complete, and the newline is written before appending).
  bool ends_in_newline() const { return ends_in_newline_; }

private:
  friend Thread parse_thread(std::string text, std::string_view path);
  friend Thread parse_thread_in_place(std::string_view text, std::string_view path);

  // The file's text when the Thread holds it, which the messages of lines as
  // gptq writes them view; held where moving the Thread does not move it.
  std::unique_ptr<const std::string> text_;
  std::vector<boost::json::value> lines_; // the parsed lines the messages view
  std::vector<Message> messages_;
  bool ends_in_newline_ = true;
};

// Parses the text of a thread file. Blank lines are skipped. Throws
// gptq::Error (usage, phase "--thread") naming `path` and the line when the
// text is not UTF-8, or a line is not a JSON object (a torn last line among
// them), has no role of system, user or assistant, or no content that is a
// string or a list of known parts (text, image_url, file, input_audio).
Thread parse_thread(std::string text, std::string_view path);

// As parse_thread, for `text` that the caller keeps as long as the Thread
// (a mapped file): its messages view it.
Thread parse_thread_in_place(std::string_view text, std::string_view path);

// Returns the user or assistant message of `line` when it is a line as gptq
// writes them, {"role":"user"|"assistant","content":"..."}, with its content
// as EscapedText, checked as a JSON parser would check it; nullopt for any
// other line (parse_thread then parses it whole). `line` must be UTF-8.
std::optional<Message> written_line(std::string_view line);

// Returns the messages of `thread` to send before the new user message: the
// system message that holds (the last system line), unless `system_given`
// (-s or a role's, which the request carries itself), then the user and
// assistant messages in order; only the last `tail` turns of them when
// `tail` is set (a turn starts at a user message).
std::vector<Message> thread_messages(const Thread& thread, bool system_given, std::optional<long long> tail);

// True when the system message of a run with `thread` is the thread's own:
// it has one, and none was chosen for the run (-s, a role's). A default
// system message (a profile's, the config's top level) yields to it; with
// none in the thread, the default is sent and kept in the file.
bool thread_system_holds(const Thread& thread, bool system_chosen);

// Returns the text of the system message that holds in `thread` (its last
// system line, when that is plain text), or nullopt.
std::optional<std::string_view> thread_system(const Thread& thread);

// Returns the bytes to append to the file of `thread` after a reply: the
// newline its last line lacks, a system line when `system` is set and is not
// the one that holds already (it takes over from then on), then the user
// message and the reply, a line each. Reasoning is never stored: only the
// reply's text is given.
// With `user_is_line`, `user_message` is the user message's whole line as
// chat_message_json writes it (a message with attachments, kept as sent).
std::string thread_addition(const Thread& thread,
                            const std::optional<std::string>& system,
                            std::string_view user_message,
                            std::string_view reply,
                            bool user_is_line = false);

// True when `error_text` (an API error as gptq tells it) says the request
// did not fit the model's context ("context_length_exceeded", "maximum
// context length", "context window"...): of a -C run, the thread grew too
// long, and --thread-tail is the way out.
bool says_context_is_full(std::string_view error_text);

} // namespace gptq
