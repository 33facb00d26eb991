#include "utf8_simd.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include <cpuid.h>

#include <cstdint>
#include <cstring>
#endif

namespace gptq {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

namespace {

// The lookup method of Keiser and Lemire, "Validating UTF-8 in less than one
// instruction per byte" (2021). Every malformation shows in the high nibble
// of a byte, its low nibble and the high nibble of the byte after it. Each
// of three 16-entry tables maps its nibble to the set of malformations that
// nibble allows; a byte pair is malformed where all three sets share a bit.
// Continuations owed to a lead byte two or three back are checked apart.
constexpr std::uint8_t too_short = 1 << 0;      // lead byte, then not a continuation
constexpr std::uint8_t too_long = 1 << 1;       // ASCII, then a continuation
constexpr std::uint8_t overlong_3 = 1 << 2;     // E0 80..9F
constexpr std::uint8_t too_large = 1 << 3;      // F4 90..BF, F5..FF
constexpr std::uint8_t surrogate = 1 << 4;      // ED A0..BF
constexpr std::uint8_t overlong_2 = 1 << 5;     // C0..C1, then a continuation
constexpr std::uint8_t too_large_1000 = 1 << 6; // F5..FF 80..8F
constexpr std::uint8_t overlong_4 = 1 << 6;     // F0 80..8F
constexpr std::uint8_t two_conts = 1 << 7;      // a continuation after a continuation
constexpr std::uint8_t carry = too_short | too_long | two_conts;

__attribute__((target("ssse3"))) __m128i table(const std::uint8_t (&t)[16])
{
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(t));
}

__attribute__((target("ssse3"))) __m128i high_nibbles(__m128i v)
{
  return _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0F));
}

// The malformations of the 16 bytes of `input`, given the 16 bytes before
// them (`previous`): zero where all is well.
__attribute__((target("ssse3"))) __m128i block_errors(__m128i input, __m128i previous)
{
  // clang-format off
  static constexpr std::uint8_t byte_1_high[16] = {
    too_long, too_long, too_long, too_long, too_long, too_long, too_long, too_long,
    two_conts, two_conts, two_conts, two_conts,
    too_short | overlong_2,
    too_short,
    too_short | overlong_3 | surrogate,
    too_short | too_large | too_large_1000 | overlong_4};
  static constexpr std::uint8_t byte_1_low[16] = {
    carry | overlong_3 | overlong_2 | overlong_4,
    carry | overlong_2,
    carry,
    carry,
    carry | too_large,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000 | surrogate,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000};
  static constexpr std::uint8_t byte_2_high[16] = {
    too_short, too_short, too_short, too_short, too_short, too_short, too_short, too_short,
    too_long | overlong_2 | two_conts | overlong_3 | too_large_1000 | overlong_4,
    too_long | overlong_2 | two_conts | overlong_3 | too_large,
    too_long | overlong_2 | two_conts | surrogate | too_large,
    too_long | overlong_2 | two_conts | surrogate | too_large,
    too_short, too_short, too_short, too_short};
  // clang-format on

  const __m128i prev1 = _mm_alignr_epi8(input, previous, 15);
  const __m128i special =
    _mm_and_si128(_mm_and_si128(_mm_shuffle_epi8(table(byte_1_high), high_nibbles(prev1)),
                                _mm_shuffle_epi8(table(byte_1_low), _mm_and_si128(prev1, _mm_set1_epi8(0x0F)))),
                  _mm_shuffle_epi8(table(byte_2_high), high_nibbles(input)));
  // A byte two after E0..FF or three after F0..FF must be a continuation:
  // there two_conts is what is expected, so the bit flips.
  const __m128i prev2 = _mm_alignr_epi8(input, previous, 14);
  const __m128i prev3 = _mm_alignr_epi8(input, previous, 13);
  const __m128i must_continue =
    _mm_and_si128(_mm_or_si128(_mm_subs_epu8(prev2, _mm_set1_epi8(static_cast<char>(0xE0 - 0x80))),
                               _mm_subs_epu8(prev3, _mm_set1_epi8(static_cast<char>(0xF0 - 0x80)))),
                  _mm_set1_epi8(static_cast<char>(0x80)));
  return _mm_xor_si128(must_continue, special);
}

__attribute__((target("ssse3"))) bool valid_ssse3(std::string_view text)
{
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  __m128i previous = _mm_setzero_si128();
  __m128i errors = _mm_setzero_si128();
  for (; end - p >= 16; p += 16) {
    const __m128i input = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    errors = _mm_or_si128(errors, block_errors(input, previous));
    previous = input;
  }
  // The tail, padded with NULs, then a block of NULs: a sequence cut short
  // by the end of the text is followed by a NUL, which is an error.
  alignas(16) unsigned char tail[16] = {};
  if (end != p) { // p may be null for an empty view
    std::memcpy(tail, p, static_cast<std::size_t>(end - p));
  }
  const __m128i last = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
  errors = _mm_or_si128(errors, block_errors(last, previous));
  errors = _mm_or_si128(errors, block_errors(_mm_setzero_si128(), last));
  return _mm_movemask_epi8(_mm_cmpeq_epi8(errors, _mm_setzero_si128())) == 0xFFFF;
}

// One CPUID instruction, the first time text is checked. Not
// __builtin_cpu_supports: that links libgcc's start-up probe, a dozen CPUID
// instructions in every run, even `gptq --version`, and in a virtual machine
// each one exits to the hypervisor (about 5 us apiece here). Not glibc's
// <sys/platform/x86.h> either, which clang rejects in C++ before glibc 2.37.
bool cpu_has_ssse3()
{
  unsigned eax = 0;
  unsigned ebx = 0;
  unsigned ecx = 0;
  unsigned edx = 0;
  __cpuid(1, eax, ebx, ecx, edx);
  return (ecx & bit_SSSE3) != 0;
}

} // namespace

std::optional<bool> utf8_valid_simd(std::string_view text)
{
  static const bool has_ssse3 = cpu_has_ssse3();
  if (!has_ssse3) {
    return std::nullopt;
  }
  return valid_ssse3(text);
}

#else

std::optional<bool> utf8_valid_simd(std::string_view)
{
  return std::nullopt;
}

#endif

} // namespace gptq
