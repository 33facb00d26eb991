#include "batch_progress.hpp"

#include <cstdio>

namespace gptq {

void SentLineCounter::feed(std::string_view bytes)
{
  // Locals, so that the loop over every byte of the input stays in registers.
  std::size_t count = count_;
  bool blank = blank_;
  for (const char c : bytes) {
    if (c == '\n') {
      count += blank ? 0 : 1;
      blank = true;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') {
      blank = false;
    }
  }
  count_ = count;
  blank_ = blank;
}

std::string progress_text(const BatchProgress& progress)
{
  const auto [done, failed, total, seconds] = progress;
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  // snprintf, not streams: the numbers stay in the "C" locale's format.
  char text[160];
  int n = total ? std::snprintf(text, sizeof text, "gptq: %zu/%zu lines", done, total)
                : std::snprintf(text, sizeof text, "gptq: %zu lines", done);
  n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ", %zu failed, %.1f/s", failed, rate);
  if (total && rate > 0 && done < total) {
    const auto left = static_cast<long>(static_cast<double>(total - done) / rate);
    std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ", %ldm%02lds left", left / 60, left % 60);
  }
  return text;
}

std::string progress_redraw(std::string_view text, std::size_t width)
{
  std::string line(1, '\r');
  line += text;
  if (text.size() < width) {
    line.append(width - text.size(), ' ');
    line += '\r';
    line += text;
  }
  return line;
}

std::string progress_erase(std::size_t width)
{
  if (width == 0) {
    return {};
  }
  // Appended, not "\r" + string: GCC 12 warns falsely (-Wrestrict) on that.
  std::string blank(1, '\r');
  blank.append(width, ' ');
  blank += '\r';
  return blank;
}

} // namespace gptq
