#include "code_filter.hpp"

#include <algorithm>

namespace gptq {

namespace {

// White space allowed after a closing fence; "\r" is there for CRLF lines.
bool is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

} // namespace

void CodeFilter::feed(std::string_view piece, const Sink& out)
{
  std::size_t i = 0;
  while (i < piece.size()) {
    if (state_ == LineState::rest) {
      // The bulk of the text: whole runs up to the next line end at once.
      const std::size_t end = piece.find('\n', i);
      const std::size_t stop = end == std::string_view::npos ? piece.size() : end + 1;
      if (in_block_) {
        out(piece.substr(i, stop - i));
      }
      if (end != std::string_view::npos) {
        start_line();
      }
      i = stop;
      continue;
    }
    const char c = piece[i++];
    if (in_block_) {
      read_inside(c, out);
    } else {
      read_outside(c);
    }
  }
}

void CodeFilter::finish(const Sink& out)
{
  if (in_block_) {
    if (!fence_complete(fence_length_) && state_ != LineState::rest) {
      pass_held(out);
    }
  } else if (fence_complete(3)) {
    found_code_ = true; // an opening fence ends the text: an empty block
  }
  in_block_ = false;
  held_.clear();
  start_line();
}

void CodeFilter::read_inside(char c, const Sink& out)
{
  if (c == '\n') {
    if (fence_complete(fence_length_)) {
      in_block_ = false;
      held_.clear();
    } else {
      held_ += c;
      pass_held(out);
    }
    start_line();
    return;
  }
  held_ += c;
  if (!read_fence_char(c)) {
    // This line can no longer close the block: it is code.
    pass_held(out);
    state_ = LineState::rest;
  }
}

void CodeFilter::read_outside(char c)
{
  if (c == '\n') {
    if (fence_complete(3)) {
      in_block_ = true;
      fence_length_ = run_;
      fence_indent_ = indent_;
      found_code_ = true;
    }
    start_line();
    return;
  }
  if (!read_fence_char(c)) {
    state_ = LineState::rest;
  }
}

bool CodeFilter::read_fence_char(char c)
{
  // Inside a block only its own fence character, as many times as it was
  // opened with and followed by blanks alone, closes it; outside, either
  // character three times opens one, and an info string may follow.
  switch (state_) {
    case LineState::indent:
      if (c == ' ' && indent_ < 3) {
        ++indent_;
        return true;
      }
      if (in_block_ ? c == fence_char_ : c == '`' || c == '~') {
        fence_char_ = c;
        run_ = 1;
        state_ = LineState::fence;
        return true;
      }
      return false;
    case LineState::fence:
      if (c == fence_char_) {
        ++run_;
        return true;
      }
      if (in_block_ ? run_ >= fence_length_ && is_blank(c) : run_ >= 3) {
        state_ = LineState::after_fence; // outside, c starts the info string
        return true;
      }
      return false;
    case LineState::after_fence:
      // A backtick fence's info string may not hold a backtick.
      return in_block_ ? is_blank(c) : !(fence_char_ == '`' && c == '`');
    case LineState::rest:
      break;
  }
  return false;
}

bool CodeFilter::fence_complete(std::size_t min_run) const
{
  return state_ == LineState::after_fence || (state_ == LineState::fence && run_ >= min_run);
}

void CodeFilter::pass_held(const Sink& out)
{
  // held_ starts with the line's indent_ spaces, of which the block's own
  // indentation is not code.
  const std::string_view code = std::string_view(held_).substr(std::min(indent_, fence_indent_));
  if (!code.empty()) {
    out(code);
  }
  held_.clear();
}

void CodeFilter::start_line()
{
  state_ = LineState::indent;
  indent_ = 0;
  run_ = 0;
}

} // namespace gptq
