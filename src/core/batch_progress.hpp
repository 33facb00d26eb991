#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gptq {

// Where a batch (-L) is, for its progress line.
struct BatchProgress {
  std::size_t done = 0;   // lines written, failed ones included
  std::size_t failed = 0; // of those
  std::size_t total = 0;  // lines to send, 0 when unknown
  double seconds = 0;     // since the batch started
};

// Counts the lines of a batch's input that will be sent, as its bytes come
// in pieces: those with more than white space, as trim() sees it (which
// decides what batch mode skips), the last one too when the input does not
// end with a line break. The total of the progress line.
class SentLineCounter {
public:
  void feed(std::string_view bytes);
  std::size_t count() const { return count_ + (blank_ ? 0 : 1); }

private:
  std::size_t count_ = 0; // lines ended
  bool blank_ = true;     // the line being read has only white space so far
};

// Returns the text of the progress line: "gptq: DONE/TOTAL lines" ("gptq:
// DONE lines" when the total is unknown), then ", F failed, R/s" (the rate
// with one decimal), then ", MmSSs left" when the total is known, the rate
// is above 0 and lines are left.
std::string progress_text(const BatchProgress& progress);

// Returns the bytes that replace a progress line `width` characters wide on
// a terminal with `text`: "\r" and the text, and when the text is shorter,
// spaces over the rest and the text again, so that the cursor ends after
// it. No escape sequences, so that any terminal shows it alike.
std::string progress_redraw(std::string_view text, std::size_t width);

// Returns the bytes that erase a progress line `width` characters wide:
// "\r", spaces over it, "\r"; empty when `width` is 0 (no line shown).
std::string progress_erase(std::size_t width);

} // namespace gptq
