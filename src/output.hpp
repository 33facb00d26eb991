#pragma once

#include <string>
#include <string_view>

namespace gptq {

// Writes the reply to a file descriptor (stdout) as it comes, unbuffered, and
// ends it with exactly one '\n'. Every write is checked: a failed write
// throws gptq::Error, since a reply that silently did not reach its file is
// the worst outcome for a script.
//
// Between hold() and release() the pieces are gathered and go out together
// in one write(2): the pieces of a reply decoded from one network read cost
// one system call, not one each, and still reach the file before the next
// read.
class ReplyWriter {
public:
  explicit ReplyWriter(int fd) : fd_(fd) {}

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

  // Writes the final '\n' unless the text so far already ends with one.
  // Throws like write().
  void finish();

  // True once any byte was written, or is kept to be written.
  bool started() const { return started_ || !pending_.empty(); }

private:
  void write_out(std::string_view bytes);

  int fd_;
  bool started_ = false;           // a write succeeded
  bool ends_with_newline_ = false; // the last byte written was '\n'
  bool held_ = false;
  std::string pending_; // kept since hold(); its capacity is reused
};

} // namespace gptq
