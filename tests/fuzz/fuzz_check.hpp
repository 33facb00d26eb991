#pragma once

#include "text.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace gptq::fuzz {

// Stops the run when an invariant of the code under test does not hold:
// abort() is what libFuzzer reports as a crash, keeping the input.
inline void check(bool ok, const char* what)
{
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// True when `text` is fit for one line of a terminal message, as one_line()
// promises: valid UTF-8 without C0 controls (line breaks, escapes), DEL or
// C1 controls (U+0080..U+009F).
inline bool is_one_line(std::string_view text)
{
  if (find_invalid_utf8(text)) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u < 0x20 || u == 0x7F || (u == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0)) {
      return false;
    }
  }
  return true;
}

} // namespace gptq::fuzz
