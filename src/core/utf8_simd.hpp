#pragma once

#include <optional>
#include <string_view>

namespace gptq {

// Returns whether all of `text` is well-formed UTF-8 (by the rules of
// find_invalid_utf8), checked 16 bytes at a time with SSSE3, or nullopt
// when this build or CPU has no SSSE3 and the caller must check byte by
// byte. It says only whether, not where: find_invalid_utf8 looks for the
// offset byte by byte once this says the text is malformed.
std::optional<bool> utf8_valid_simd(std::string_view text);

} // namespace gptq
