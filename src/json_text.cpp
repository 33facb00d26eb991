#include "json_text.hpp"

#include <boost/json/serialize.hpp>

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace gptq {

namespace {

// The bytes a JSON string must escape: control characters, '"' and '\\'.
constexpr bool needs_escape(unsigned char c)
{
  return c < 0x20 || c == '"' || c == '\\';
}

// For eight bytes read from memory (little-endian: the first byte lowest),
// a mask whose lowest set bit is the high bit of the first byte that needs
// escaping; 0 when none does. (The bit tricks may also flag bytes after the
// first flagged one, never before it.)
constexpr std::uint64_t escape_mask(std::uint64_t word)
{
  constexpr std::uint64_t ones = 0x0101010101010101u;
  constexpr std::uint64_t highs = 0x8080808080808080u;
  const auto zero_bytes = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  const std::uint64_t below_space = (word - 0x20 * ones) & ~word & highs;
  return below_space | zero_bytes(word ^ ('"' * ones)) | zero_bytes(word ^ ('\\' * ones));
}

// How a byte is written in a JSON string: itself, or its escape.
struct Escape {
  char text[7];
  unsigned char length;
};
static_assert(sizeof(Escape) == 8);

constexpr std::array<Escape, 256> make_escapes()
{
  constexpr char hex[] = "0123456789abcdef";
  std::array<Escape, 256> table{};
  for (int c = 0; c < 256; ++c) {
    Escape& e = table[static_cast<std::size_t>(c)];
    const char simple = c == '"' ? '"' : c == '\\' ? '\\' : c == '\b' ? 'b' : c == '\f' ? 'f' : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;
    if (simple) {
      e = {{'\\', simple}, 2};
    } else if (c < 0x20) {
      e = {{'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]}, 6};
    } else {
      e = {{static_cast<char>(c)}, 1};
    }
  }
  return table;
}

constexpr std::array<Escape, 256> escapes = make_escapes();

void write(const boost::json::value& value, std::string& out)
{
  switch (value.kind()) {
  case boost::json::kind::object: {
    out += '{';
    bool first = true;
    for (const auto& member : value.get_object()) {
      if (!first) {
        out += ',';
      }
      first = false;
      append_json_string(out, member.key());
      out += ':';
      write(member.value(), out);
    }
    out += '}';
    break;
  }
  case boost::json::kind::array: {
    out += '[';
    bool first = true;
    for (const auto& element : value.get_array()) {
      if (!first) {
        out += ',';
      }
      first = false;
      write(element, out);
    }
    out += ']';
    break;
  }
  case boost::json::kind::double_: {
    const double d = value.get_double();
    if (!std::isfinite(d)) {
      out += "null";
      break;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
    out.append(buffer, result.ptr);
    break;
  }
  case boost::json::kind::string:
    append_json_string(out, value.get_string());
    break;
  default:
    out += boost::json::serialize(value);
    break;
  }
}

} // namespace

void append_json_string(std::string& out, std::string_view text)
{
  static_assert(std::endian::native == std::endian::little, "escape_mask reads words little-endian");
  // Two passes, so that the output is sized once and written without a
  // check per byte: one to measure, one to write. Eight plain bytes are
  // copied at once; a word with an escape goes byte by byte through the
  // table, without a branch per byte (escapes can be one byte in ten).
  const auto* const begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = begin + text.size();
  std::size_t length = 2;
  const auto* p = begin;
  for (; end - p >= 8; p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    if (escape_mask(word) == 0) {
      length += 8;
      continue;
    }
    for (int i = 0; i < 8; ++i) {
      length += escapes[p[i]].length;
    }
  }
  for (; p != end; ++p) {
    length += escapes[*p].length;
  }

  const std::size_t start = out.size();
  // Each byte is written as a whole table entry (8 bytes): room for the
  // last one's tail, cut off below.
  out.resize(start + length + sizeof(Escape));
  char* o = out.data() + start;
  *o++ = '"';
  for (p = begin; end - p >= 8; p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    if (escape_mask(word) == 0) {
      std::memcpy(o, &word, sizeof word);
      o += sizeof word;
      continue;
    }
    for (int i = 0; i < 8; ++i) {
      const Escape& e = escapes[p[i]];
      std::memcpy(o, &e, sizeof e);
      o += e.length;
    }
  }
  for (; p != end; ++p) {
    const Escape& e = escapes[*p];
    std::memcpy(o, &e, sizeof e);
    o += e.length;
  }
  *o++ = '"';
  out.resize(static_cast<std::size_t>(o - out.data()));
}

std::string to_json_text(const boost::json::value& value)
{
  std::string out;
  write(value, out);
  return out;
}

} // namespace gptq
