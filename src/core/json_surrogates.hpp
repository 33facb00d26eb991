#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// Lone UTF-16 surrogate escapes in JSON text ("\ud83d" without its "\ude00"),
// which Boost.JSON rejects: a server that slices a reply by UTF-16 units
// sends the two halves of an emoji in two stream chunks, and a buggy one may
// send half a pair anywhere. A reply is never lost for them.

// A lone surrogate taken out of the edge of a string, because the string may
// go on in the next chunk: a high surrogate that ended it, or a low one that
// began it.
struct EdgeSurrogate {
  std::string path;   // the string's place: member names (as written in the text) and array indexes joined by '/', e.g.
                      // "choices/0/delta/content"
  std::uint16_t unit; // the surrogate, 0xD800-0xDFFF
};

// JSON text with its lone surrogates dealt with.
struct SurrogateRepair {
  std::string text;                 // the text, each lone surrogate replaced by \ufffd or taken out
  std::vector<EdgeSurrogate> edges; // the ones taken out, in the order of the text
};

// Returns true when `json` holds an escape of a surrogate (\uD800-\uDFFF),
// paired or not. Looks at backslashes only: cheap enough for every chunk.
bool has_surrogate_escape(std::string_view json);

// Returns `json` with every lone surrogate escape replaced by \ufffd (U+FFFD,
// the replacement character), except in a string that is the value of a
// member named one of `edge_keys`: there a high surrogate that ends the
// string, or a low one that begins it, is taken out and returned in `edges`
// for the caller to join with its other half. Returns nullopt when `json` has
// no lone surrogate, so that it is parsed as it is. Never throws but
// std::bad_alloc; text that is not JSON comes back as text that is not JSON.
std::optional<SurrogateRepair> repair_lone_surrogates(std::string_view json,
                                                      std::span<const std::string_view> edge_keys = {});

// Returns `text`, a piece of a streamed string whose edge surrogates
// (repair_lone_surrogates) were `low` (it began with one) and `high` (it
// ended with one), joined with `pending`, the high surrogate the previous
// piece of the same string ended with: a pair split across two pieces
// becomes its character, a half without its other becomes U+FFFD. Leaves in
// `pending` the high surrogate this piece ends with, for the next. Returns
// `text` itself when there is nothing to join, else a view of `scratch`,
// which holds the joined text.
std::string_view join_edge_surrogates(std::string_view text,
                                      std::optional<std::uint16_t> low,
                                      std::optional<std::uint16_t> high,
                                      std::optional<std::uint16_t>& pending,
                                      std::string& scratch);

// Appends the UTF-8 form of the code point `c` (at most U+10FFFF, not a
// surrogate) to `out`.
void append_utf8(std::string& out, char32_t c);

// U+FFFD in UTF-8: what a lone surrogate becomes.
inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

} // namespace gptq
