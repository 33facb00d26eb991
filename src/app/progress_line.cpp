#include "progress_line.hpp"

#include "batch_progress.hpp"
#include "interrupt.hpp"

#include <string>

#include <unistd.h>

namespace gptq {

void ProgressLine::draw(std::string_view text)
{
  const std::string line = progress_redraw(text, width_);
  width_ = text.size();
  set_progress_line_open(true);
  [[maybe_unused]] const auto n = ::write(fd_, line.data(), line.size());
}

void ProgressLine::erase()
{
  if (width_ == 0) {
    return;
  }
  const std::string blank = progress_erase(width_);
  [[maybe_unused]] const auto n = ::write(fd_, blank.data(), blank.size());
  width_ = 0;
  set_progress_line_open(false);
}

} // namespace gptq
