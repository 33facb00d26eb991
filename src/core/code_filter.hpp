#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace gptq {

// Passes on only the contents of the fenced code blocks of a Markdown text
// fed in pieces (`--code`): all blocks, in order, without their fence lines.
// The pieces may be split anywhere, even inside a fence line or a UTF-8
// sequence; the output is the same however the text is split.
//
// The rules, a simple subset of CommonMark's fenced code blocks:
// - Lines end with "\n". A "\r" before it is part of the line: code lines
//   keep it ("\r\n" stays "\r\n"), and around a fence it counts as trailing
//   white space.
// - An opening fence is a line of up to 3 spaces, then 3 or more backticks
//   or 3 or more tildes, then an optional info string ("```python",
//   "~~~ {.cpp}"), which for backticks may not contain a backtick (then the
//   line is prose, as "```js `x`" is inline code). More indentation, a tab
//   in the indentation or a fence after other text on its line is prose.
//   Only top-level fences count: none inside block quotes, and none indented
//   4 or more spaces in a list item.
// - The block closes at a line of up to 3 spaces, then at least as many of
//   the opening fence's character, then only spaces, tabs or "\r". Any other
//   line is code: one with a shorter fence, the other fence character, text
//   after the fence, inline backticks, or 4 spaces before a fence.
// - A fence indented by N spaces has up to N leading spaces removed from
//   each of its content lines, as CommonMark does (tabs are not expanded).
// - A block still open at the end of the text is code up to the end; a
//   closing fence without a final "\n" still closes its block.
// - Between blocks nothing is passed on; each block's content ends with the
//   line end of its last line, so consecutive blocks stay on separate lines.
//
// Code is passed on as soon as it is known to be code. Only the start of a
// line inside a block is held back, and only while it could still be a
// closing fence, that is while it is up to 3 spaces and fence characters,
// then possibly white space: "print(2" is passed on at once, "  ``" is held
// until the next byte shows whether it closes the block. Bytes are passed on
// as they arrive, so a UTF-8 sequence split between pieces may be passed on
// in two calls; the concatenated output is always intact.
class CodeFilter {
public:
  using Sink = std::function<void(std::string_view)>;

  // Feeds the next piece of the text and calls `out` with the code text it
  // makes known, in order; `out` is never called with an empty view.
  // Exceptions from `out` propagate, and the filter is not to be used after
  // one.
  void feed(std::string_view piece, const Sink& out);

  // Ends the text: passes on what is held of the last line of an
  // unterminated block (unless that line is its closing fence). The filter
  // starts afresh afterwards, except for found_code().
  void finish(const Sink& out);

  // True once an opening fence was seen, even of a block that turned out
  // empty (so the caller can say "no code in the reply" when false).
  bool found_code() const { return found_code_; }

private:
  // Where the filter is within the current line.
  enum class LineState {
    indent,      // at the start, reading up to 3 spaces
    fence,       // reading a run of fence characters
    after_fence, // outside a block: an opening fence's info string; inside:
                 // the white space after a possible closing fence
    rest,        // the rest of a line that is no fence: passed on inside a
                 // block, skipped outside
  };

  void read_inside(char c, const Sink& out);
  void read_outside(char c);
  // Reads `c`, the next character of a line that may still be a fence line
  // (state_ is not rest), inside or outside a block as in_block_ says.
  // Returns false when `c` shows that the line is no fence.
  bool read_fence_char(char c);
  // True when the line read so far is a whole fence of `min_run` or more
  // fence characters, with nothing but what may follow one.
  bool fence_complete(std::size_t min_run) const;
  void pass_held(const Sink& out);
  void start_line();

  bool in_block_ = false;
  char fence_char_ = 0;          // the open block's fence character, or outside
                                 // a block that of the opening fence being read
  std::size_t fence_length_ = 0; // the open block's opening fence length
  std::size_t fence_indent_ = 0; // spaces before the open block's opening fence
  LineState state_ = LineState::indent;
  std::size_t indent_ = 0; // spaces at the start of the current line
  std::size_t run_ = 0;    // fence characters after them
  std::string held_;       // inside a block: the current line so far, while
                           // it could still be the closing fence
  bool found_code_ = false;
};

} // namespace gptq
