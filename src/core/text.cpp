#include "text.hpp"

#include "utf8_simd.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include <algorithm>

namespace gptq {

namespace {

// Returns the length of the well-formed UTF-8 sequence starting at `i`, or 0
// when the bytes there are malformed (Unicode Table 3-7).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i)
{
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    return 1;
  }
  std::size_t len;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) {
      lo = 0xA0; // no overlong forms
    } else if (b0 == 0xED) {
      hi = 0x9F; // no surrogates
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) {
      lo = 0x90;
    } else if (b0 == 0xF4) {
      hi = 0x8F; // nothing above U+10FFFF
    }
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  if (byte(i + 1) < lo || byte(i + 1) > hi) {
    return 0;
  }
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return len;
}

} // namespace

std::optional<std::size_t> find_invalid_utf8(std::string_view text)
{
  // Almost all text is valid: the vector check says so at about ten times
  // the speed of the byte loop, which then only runs to name the offset.
  if (utf8_valid_simd(text).value_or(false)) {
    return std::nullopt;
  }
  return find_invalid_utf8_bytewise(text);
}

std::optional<std::size_t> find_invalid_utf8_bytewise(std::string_view text)
{
  std::size_t i = 0;
  while (i < text.size()) {
    // ASCII runs are the common case; skip them eight bytes at a time.
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      std::uint64_t word;
      while (i + sizeof word <= text.size() &&
             (std::memcpy(&word, text.data() + i, sizeof word), (word & 0x8080808080808080u) == 0)) {
        i += sizeof word;
      }
      continue;
    }
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      return i;
    }
    i += len;
  }
  return std::nullopt;
}

std::string one_line(std::string_view text, std::size_t max_bytes)
{
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 3);
  bool pending_space = false;
  bool cut = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    std::string_view piece;
    if (c < 0x20 || c == 0x7F || c == ' ') {
      pending_space = !out.empty();
      ++i;
      continue;
    }
    if (c < 0x80) {
      piece = text.substr(i, 1);
    } else {
      len = utf8_sequence_length(text, i);
      // C1 control characters (U+0080..U+009F) can act as escapes too.
      if (len == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
        pending_space = !out.empty();
        i += 2;
        continue;
      }
      piece = len == 0 ? std::string_view("?") : text.substr(i, len);
      len = len == 0 ? 1 : len;
    }
    if (out.size() + (pending_space ? 1 : 0) + piece.size() > max_bytes) {
      cut = true;
      break;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    out += piece;
    i += len;
  }
  if (cut) {
    out += "...";
  }
  return out;
}

std::string escape_controls(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : utf8_sequence_length(text, i);
    const bool c1 = len == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F || len == 0 || c1) {
      // Each byte of a C1 control or a malformed sequence on its own.
      constexpr char hex[] = "0123456789ABCDEF";
      for (std::size_t k = 0; k < (c1 ? 2 : 1); ++k) {
        const auto b = static_cast<unsigned char>(text[i + k]);
        out += "\\x";
        out += hex[b >> 4];
        out += hex[b & 0xF];
      }
      len = c1 ? 2 : 1;
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string Quote::operator()(std::string_view text, std::size_t max_bytes) const
{
  std::size_t end = 0;
  while (end < text.size()) {
    const auto c = static_cast<unsigned char>(text[end]);
    const std::size_t len = std::max<std::size_t>(1, c < 0x80 ? 1 : utf8_sequence_length(text, end));
    if (end + len > max_bytes) {
      break;
    }
    end += len;
  }
  std::string out(1, '\'');
  out += escape_controls(text.substr(0, end));
  out += end < text.size() ? "...'" : "'";
  return out;
}

std::string redact(std::string text, std::string_view secret)
{
  if (secret.empty()) {
    return text;
  }
  std::size_t pos = 0;
  while ((pos = text.find(secret, pos)) != std::string::npos) {
    text.replace(pos, secret.size(), redacted_mask);
    pos += redacted_mask.size();
  }
  return text;
}

std::string size_text(std::size_t bytes)
{
  char buffer[32];
  if (bytes >= (std::size_t{ 1 } << 20)) {
    std::snprintf(buffer, sizeof buffer, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  } else if (bytes >= 1024) {
    std::snprintf(buffer, sizeof buffer, "%zu KiB", bytes / 1024);
  } else {
    std::snprintf(buffer, sizeof buffer, "%zu bytes", bytes);
  }
  return buffer;
}

std::string_view trim(std::string_view text)
{
  constexpr std::string_view space = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(space);
  return text.substr(first, last - first + 1);
}

} // namespace gptq
