#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// Returns the offset of the first byte of `text` that is not part of a
// well-formed UTF-8 sequence (overlong forms, surrogates and code points
// above U+10FFFF count as malformed), or nullopt when all of it is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

// The same as find_invalid_utf8, byte by byte, without the vector check
// (utf8_simd.hpp) that find_invalid_utf8 tries first; the tests hold the
// two against each other.
std::optional<std::size_t> find_invalid_utf8_bytewise(std::string_view text);

// Returns `text` made safe for one line of a terminal message: control
// characters and line breaks become spaces, runs of white space collapse to
// one, malformed UTF-8 bytes become '?', and the result is cut to at most
// `max_bytes` bytes (on a character boundary) with "..." appended when cut.
// Servers write what they like into error bodies; this keeps their text from
// breaking the one-line rule or sending escape sequences to the terminal.
std::string one_line(std::string_view text, std::size_t max_bytes = 300);

// Returns `text` with what a terminal would act on made visible, for
// messages that show what the user typed or named (paths, URLs, values):
// line breaks and tabs as \n, \r, \t, other control characters (C0, DEL,
// C1) and bytes that are not UTF-8 as \xHH. Everything else, well-formed
// UTF-8 included, is kept, so the text stays one line and shows what it is.
std::string escape_controls(std::string_view text);

// quoted(text, max_bytes) returns escape_controls(`text`) between single
// quotes, cut to at most `max_bytes` bytes of text (on a character boundary)
// with "..." appended when cut: how a message quotes user input.
// An object, not a function: for a std::string argument, argument-dependent
// lookup would also find std::quoted (when <iomanip> is in, as GCC 14's
// headers bring it in with others), a better match for a std::string that
// returns a stream manipulator. A name found as an object gets no such lookup.
struct Quote {
  std::string operator()(std::string_view text, std::size_t max_bytes = 1024) const;
};
inline constexpr Quote quoted{};

// What stands for a secret wherever one is left out of a message.
inline constexpr std::string_view redacted_mask = "[REDACTED]";

// Returns `text` with every occurrence of `secret` replaced by
// redacted_mask. An empty `secret` returns `text` unchanged.
std::string redact(std::string text, std::string_view secret);

// Returns `text` without leading and trailing ASCII white space.
std::string_view trim(std::string_view text);

// A size as messages show it: "12 bytes", "340 KiB", "1.2 MiB".
std::string size_text(std::size_t bytes);

} // namespace gptq
