#pragma once

#include <string>
#include <string_view>

namespace gptq {

// Writes the reply to a file descriptor (stdout) as it comes, unbuffered, and
// ends it with exactly one '\n'. Every write is checked: a failed write
// throws gptq::Error, since a reply that silently did not reach its file is
// the worst outcome for a script.
//
// With Ending::one_newline, line ends after the last line of text are dropped
// too, so that a reply ending in "\n\n" gives one line end, not a blank line
// (an editor that replaces a selection with the reply would keep it). Only
// the second and later line ends of a run are held back, until more text
// comes: a reader sees every line as soon as it is complete.
//
// Between hold() and release() the pieces are gathered and go out together
// in one write(2): the pieces of a reply decoded from one network read cost
// one system call, not one each, and still reach the file before the next
// read.
class ReplyWriter {
public:
  enum class Ending {
    keep_blank_lines, // the text as written, plus '\n' if it does not end in one
    one_newline,      // also without the blank lines at its end
  };

  explicit ReplyWriter(int fd, Ending ending = Ending::keep_blank_lines)
    : fd_(fd)
    , ending_(ending)
  {
  }

  // Writes `piece` in full, or keeps it while held. Throws gptq::Error:
  // stdout_closed (with no message: nothing is wrong that the user needs
  // telling) when the reader has gone away, as `gptq ... | head` does;
  // internal naming the failure otherwise (a full disk).
  void write(std::string_view piece);

  // Keeps what write() is given, until release().
  void hold() { held_ = true; }

  // Writes what is kept, in one write(2) as far as the file takes it, and
  // goes on holding if it was. Throws like write(); what was kept is
  // dropped either way.
  void flush();

  // Writes what is kept, like flush(), and writes at once from then on.
  // Throws like write().
  void release()
  {
    held_ = false;
    flush();
  }

  // Writes the final '\n' unless the text so far already ends with one, and
  // drops the line ends held back (Ending::one_newline). Throws like write().
  void finish();

  // True once any byte was written, or is kept to be written.
  bool started() const { return started_ || !pending_.empty(); }

private:
  void emit(std::string_view piece);
  void write_out(std::string_view bytes);
  // True when the last byte written or kept is '\n'.
  bool at_line_end() const { return pending_.empty() ? ends_with_newline_ : pending_.back() == '\n'; }

  int fd_;
  Ending ending_;
  std::string trailing_;           // Ending::one_newline: "\r" and "\n" held back after a line end
  bool started_ = false;           // a write succeeded
  bool ends_with_newline_ = false; // the last byte written was '\n'
  bool held_ = false;
  std::string pending_; // kept since hold(); its capacity is reused
};

} // namespace gptq
