#include "text.hpp"

#include "utf8_simd.hpp"

#include <boost/test/unit_test.hpp>

#include <iomanip>
#include <random>
#include <vector>

using namespace gptq;

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(find_invalid_utf8_accepts_valid_text)
{
  for (const std::string& s : std::vector<std::string>{ "",
                                                        "plain ascii\t\r\n",
                                                        "caf\xC3\xA9",
                                                        "\xE2\x82\xAC euro",
                                                        "\xF0\x9F\x98\x80 emoji",
                                                        "\xEF\xBF\xBF",
                                                        "\xF4\x8F\xBF\xBF",
                                                        std::string("nul\0byte", 8) }) {
    BOOST_TEST(!find_invalid_utf8(s).has_value(), "rejected: " << s);
  }
}

BOOST_AUTO_TEST_CASE(find_invalid_utf8_names_the_first_bad_byte)
{
  struct Case {
    std::string text;
    std::size_t offset;
  };
  const Case cases[] = {
    { "\xFF", 0 },
    { "ab\x80", 2 },           // lone continuation byte
    { "ab\xC3", 2 },           // truncated sequence at the end
    { "\xC3\x28", 0 },         // bad continuation
    { "x\xC0\xAF", 1 },        // overlong '/'
    { "\xE0\x80\xAF", 0 },     // overlong three-byte form
    { "ok\xED\xA0\x80", 2 },   // UTF-16 surrogate
    { "\xF4\x90\x80\x80", 0 }, // above U+10FFFF
    { "\xF5\x80\x80\x80", 0 },
    { "caf\xC3\xA9 \xE9", 6 }, // Latin-1 after valid UTF-8
  };
  for (const auto& c : cases) {
    const auto got = find_invalid_utf8(c.text);
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(*got == c.offset);
  }
}

// ASCII is skipped eight bytes at a time: a bad byte or a sequence at any
// offset of a long ASCII run is still found.
BOOST_AUTO_TEST_CASE(find_invalid_utf8_in_long_ascii_runs)
{
  for (std::size_t at = 0; at < 40; ++at) {
    std::string text(40, 'a');
    text[at] = '\x80';
    const auto got = find_invalid_utf8(text);
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(*got == at);
    text.replace(at, 1, "\xE2\x82\xAC");
    BOOST_TEST(!find_invalid_utf8(text).has_value(), "euro at " << at);
    text += '\xC3'; // a sequence cut short at the very end
    const auto end = find_invalid_utf8(text);
    BOOST_TEST_REQUIRE(end.has_value());
    BOOST_TEST(*end == text.size() - 1);
  }
}

namespace {

// Pieces that make every kind of sequence, well-formed or not, and every
// boundary between them. The first twelve are well-formed.
const std::vector<std::string> utf8_pieces = { "a",
                                               "\t",
                                               std::string(1, '\0'),
                                               "\xC3\xA9",
                                               "\xE2\x82\xAC",
                                               "\xF0\x9F\x98\x80",
                                               "\xEF\xBF\xBF",
                                               "\xF4\x8F\xBF\xBF",
                                               "\xED\x9F\xBF",
                                               "\xE0\xA0\x80",
                                               "\xF0\x90\x80\x80",
                                               "\xC2\x80",
                                               // malformed, or cut short
                                               "\x80",
                                               "\xBF",
                                               "\xC0\xAF",
                                               "\xC1\xBF",
                                               "\xC3",
                                               "\xE2\x82",
                                               "\xF0\x9F\x98",
                                               "\xE0\x80\xAF",
                                               "\xE0\x9F\xBF",
                                               "\xED\xA0\x80",
                                               "\xED\xBF\xBF",
                                               "\xF0\x80\x80\x80",
                                               "\xF0\x8F\xBF\xBF",
                                               "\xF4\x90\x80\x80",
                                               "\xF5\x80\x80\x80",
                                               "\xF8\x88\x80\x80\x80",
                                               "\xFE",
                                               "\xFF",
                                               "\xC3\xA9\xA9",
                                               "\xE2\x82\xAC\xAC" };

// Holds the vector check and find_invalid_utf8 to the byte loop on `text`.
void check_against_byte_loop(const std::string& text)
{
  const auto expected = find_invalid_utf8_bytewise(text);
  BOOST_TEST((find_invalid_utf8(text) == expected));
  const auto fast = utf8_valid_simd(text);
#if defined(__x86_64__)
  BOOST_TEST_REQUIRE(fast.has_value(), "no SSSE3 on an x86-64 machine: the vector check went untested");
#endif
  if (fast) {
    BOOST_TEST(*fast == !expected.has_value());
  }
}

} // namespace

// The vector check works on 16-byte blocks and looks three bytes back: each
// piece at every offset of two blocks, with every length of text after it,
// so that it straddles each block boundary and the end of the text.
BOOST_AUTO_TEST_CASE(utf8_vector_check_agrees_with_the_byte_loop_at_every_offset)
{
  for (const auto& piece : utf8_pieces) {
    for (std::size_t before = 0; before < 34; ++before) {
      for (std::size_t after = 0; after < 20; ++after) {
        check_against_byte_loop(std::string(before, 'x') + piece + std::string(after, 'y'));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(utf8_vector_check_agrees_with_the_byte_loop_on_random_mixes)
{
  std::mt19937 random(7);
  std::uniform_int_distribution<std::size_t> pick(0, utf8_pieces.size() - 1);
  std::uniform_int_distribution<int> count(0, 40);
  std::uniform_int_distribution<int> chance(0, 9);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int n = count(random);
    for (int i = 0; i < n; ++i) {
      // Mostly well-formed pieces, so that a malformed one stands alone.
      const std::size_t k = pick(random);
      text += chance(random) == 0 || k < 12 ? utf8_pieces[k] : utf8_pieces[k % 12];
    }
    check_against_byte_loop(text);
  }
}

BOOST_AUTO_TEST_CASE(one_line_flattens_breaks_and_controls)
{
  BOOST_TEST(one_line("a\nb\r\n\tc") == "a b c");
  BOOST_TEST(one_line("  lead and trail  ") == "lead and trail");
  BOOST_TEST(one_line("esc\x1B[31mred") == "esc [31mred");
  BOOST_TEST(one_line("c1\xC2\x9B"
                      "31m") == "c1 31m");
  BOOST_TEST(one_line("bad \xFF byte") == "bad ? byte");
  BOOST_TEST(one_line("caf\xC3\xA9") == "caf\xC3\xA9");
}

BOOST_AUTO_TEST_CASE(one_line_cuts_on_a_character_boundary)
{
  BOOST_TEST(one_line("abcdef", 4) == "abcd...");
  BOOST_TEST(one_line("ab\xC3\xA9\xC3\xA9", 3) == "ab...");
  BOOST_TEST(one_line("abcd", 4) == "abcd");
}

BOOST_AUTO_TEST_CASE(escape_controls_shows_breaks_controls_and_bad_bytes)
{
  BOOST_TEST(escape_controls("a\nb\r\tc") == "a\\nb\\r\\tc");
  BOOST_TEST(escape_controls("esc\x1B[31mred\x7F") == "esc\\x1B[31mred\\x7F");
  BOOST_TEST(escape_controls("c1\xC2\x9B"
                             "31m") == "c1\\xC2\\x9B31m");
  BOOST_TEST(escape_controls("bad \xFF\xC3 byte") == "bad \\xFF\\xC3 byte");
  BOOST_TEST(escape_controls("caf\xC3\xA9 \xC2\xA0 back\\slash 'q'") == "caf\xC3\xA9 \xC2\xA0 back\\slash 'q'");
  BOOST_TEST(escape_controls(std::string("nul\0", 4)) == "nul\\x00");
}

// <iomanip> is in (GCC 14's headers bring it in with others): std::quoted,
// found through the std::string argument, must not win over gptq's.
BOOST_AUTO_TEST_CASE(quoted_is_gptqs_for_std_strings_beside_std_quoted)
{
  std::string path = "a\nb";
  const std::string same = path;
  const std::string mine = quoted(path);
  BOOST_TEST(mine == "'a\\nb'");
  BOOST_TEST(quoted(same, 1) == "'a...'");
  BOOST_TEST("x " + quoted(std::string("y")) == "x 'y'");
}

BOOST_AUTO_TEST_CASE(quoted_escapes_and_cuts_on_a_character_boundary)
{
  BOOST_TEST(quoted("/tmp/a\nb") == "'/tmp/a\\nb'");
  BOOST_TEST(quoted("") == "''");
  BOOST_TEST(quoted("abcdef", 4) == "'abcd...'");
  BOOST_TEST(quoted("ab\xC3\xA9\xC3\xA9", 3) == "'ab...'");
  BOOST_TEST(quoted("abcd", 4) == "'abcd'");
}

BOOST_AUTO_TEST_CASE(redact_replaces_every_occurrence)
{
  BOOST_TEST(redact("key sk-1 and sk-1 again", "sk-1") == "key [REDACTED] and [REDACTED] again");
  BOOST_TEST(redact("nothing here", "sk-1") == "nothing here");
  BOOST_TEST(redact("empty secret", "") == "empty secret");
}

BOOST_AUTO_TEST_CASE(trim_strips_ascii_space)
{
  BOOST_TEST(trim(" \t x y \r\n") == "x y");
  BOOST_TEST(trim(" \n ").empty());
}

BOOST_AUTO_TEST_SUITE_END()
