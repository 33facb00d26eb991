#include "json_text.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gptq {

namespace {

#if !defined(__SSE2__)
// For eight bytes read from memory (little-endian: the first byte lowest),
// a mask whose lowest set bit is the high bit of the first byte that needs
// escaping in a JSON string (a control character, '"' or '\\'); 0 when
// none does. (The bit tricks may also flag bytes after the first flagged
// one, never before it.)
constexpr std::uint64_t escape_mask(std::uint64_t word)
{
  constexpr std::uint64_t ones = 0x0101010101010101u;
  constexpr std::uint64_t highs = 0x8080808080808080u;
  const auto zero_bytes = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  const std::uint64_t below_space = (word - 0x20 * ones) & ~word & highs;
  return below_space | zero_bytes(word ^ ('"' * ones)) | zero_bytes(word ^ ('\\' * ones));
}
#endif

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
    const char simple = c == '"'    ? '"'
                        : c == '\\' ? '\\'
                        : c == '\b' ? 'b'
                        : c == '\f' ? 'f'
                        : c == '\n' ? 'n'
                        : c == '\r' ? 'r'
                        : c == '\t' ? 't'
                                    : 0;
    if (simple) {
      e = { { '\\', simple }, 2 };
    } else if (c < 0x20) {
      e = { { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF] }, 6 };
    } else {
      e = { { static_cast<char>(c) }, 1 };
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
  // Room for the text and some escapes: reserved pages that are never
  // written cost nothing, and a string that outgrows its buffer is copied.
  out.reserve(out.size() + text.size() + text.size() / 8 + 2);
  out += '"';
  // One pass, in blocks written to a scratch buffer big enough for a block
  // of the worst case (every byte six, plus a 16-byte store beyond), then
  // appended: no check per byte.
  constexpr std::size_t block = 4096;
  std::array<char, 6 * block + 32> scratch;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p != end) {
    const auto* const stop = p + std::min<std::size_t>(block, static_cast<std::size_t>(end - p));
    char* o = scratch.data();
#if defined(__SSE2__)
    // Sixteen bytes at a time: a block without an escape is copied whole;
    // in one with escapes, the plain runs between them are copied 16 bytes
    // at a time too (the scratch has room for the overshoot, and the loads
    // stay inside the text because a second block follows), and each
    // escape comes from the table. The next block does not wait for this
    // one's escapes, which are about one byte in ten in code, logs and JSON.
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i last_control = _mm_set1_epi8(0x1F);
    for (; stop - p >= 32; p += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v);
      auto mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)))));
      if (mask == 0) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);
        o += 16;
        continue;
      }
      unsigned from = 0;
      do {
        const auto at = static_cast<unsigned>(std::countr_zero(mask));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + from)));
        o += at - from;
        const Escape& e = escapes[p[at]];
        std::memcpy(o, &e, sizeof e);
        o += e.length;
        from = at + 1;
        mask &= mask - 1;
      } while (mask != 0);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + from)));
      o += 16 - from;
    }
#else
    static_assert(std::endian::native == std::endian::little, "escape_mask reads words little-endian");
    // Eight plain bytes are copied at once; a word with an escape goes byte
    // by byte through the table, without a branch per byte.
    for (; stop - p >= 8; p += 8) {
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
#endif
    for (; p != stop; ++p) {
      const Escape& e = escapes[*p];
      std::memcpy(o, &e, sizeof e);
      o += e.length;
    }
    out.append(scratch.data(), static_cast<std::size_t>(o - scratch.data()));
  }
  out += '"';
}

std::string to_json_text(const boost::json::value& value)
{
  std::string out;
  write(value, out);
  return out;
}

} // namespace gptq
