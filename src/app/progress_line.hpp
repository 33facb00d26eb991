#pragma once

#include <cstddef>
#include <string_view>

namespace gptq {

// Batch mode's progress line on a terminal (stderr), drawn over itself
// (batch_progress.hpp says with what bytes). While it is shown the
// interrupt handler knows, so that a signal leaves it in view, ended.
class ProgressLine {
public:
  // Draws on `fd`, which the caller has found to be a terminal.
  explicit ProgressLine(int fd)
    : fd_(fd)
  {
  }

  // Shows `text` in place of what the line showed. Write errors are
  // ignored: the progress line is only a courtesy.
  void draw(std::string_view text);

  // Erases the line, if shown. Call before anything else is written to
  // the terminal.
  void erase();

private:
  int fd_;
  std::size_t width_ = 0; // of the line shown; 0: none
};

} // namespace gptq
