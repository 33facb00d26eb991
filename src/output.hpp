#pragma once

#include <string_view>

namespace gptq {

// Writes the reply to a file descriptor (stdout) as it comes, unbuffered, and
// ends it with exactly one '\n'. Every write is checked: a failed write
// throws gptq::Error, since a reply that silently did not reach its file is
// the worst outcome for a script.
class ReplyWriter {
public:
  explicit ReplyWriter(int fd) : fd_(fd) {}

  // Writes `piece` in full. Throws gptq::Error: stdout_closed (with no
  // message: nothing is wrong that the user needs telling) when the reader
  // has gone away, as `gptq ... | head` does; internal naming the failure
  // otherwise (a full disk).
  void write(std::string_view piece);

  // Writes the final '\n' unless the text written so far already ends with
  // one. Throws like write().
  void finish();

  // True once any byte was written.
  bool started() const { return started_; }

private:
  int fd_;
  bool started_ = false;
  bool ends_with_newline_ = false;
};

} // namespace gptq
