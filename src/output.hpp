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

  // Writes `piece` in full. Throws gptq::Error (internal) naming the failure.
  void write(std::string_view piece);

  // Writes the final '\n' unless the text written so far already ends with
  // one. Throws like write().
  void finish();

private:
  int fd_;
  bool ends_with_newline_ = false;
};

} // namespace gptq
