#include "text.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace gptq;

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(find_invalid_utf8_accepts_valid_text)
{
  for (const std::string& s : std::vector<std::string>{"", "plain ascii\t\r\n", "caf\xC3\xA9", "\xE2\x82\xAC euro", "\xF0\x9F\x98\x80 emoji",
                              "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF", std::string("nul\0byte", 8)}) {
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
    {"\xFF", 0},
    {"ab\x80", 2},              // lone continuation byte
    {"ab\xC3", 2},              // truncated sequence at the end
    {"\xC3\x28", 0},            // bad continuation
    {"x\xC0\xAF", 1},           // overlong '/'
    {"\xE0\x80\xAF", 0},        // overlong three-byte form
    {"ok\xED\xA0\x80", 2},      // UTF-16 surrogate
    {"\xF4\x90\x80\x80", 0},    // above U+10FFFF
    {"\xF5\x80\x80\x80", 0},
    {"caf\xC3\xA9 \xE9", 6},    // Latin-1 after valid UTF-8
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

BOOST_AUTO_TEST_CASE(one_line_flattens_breaks_and_controls)
{
  BOOST_TEST(one_line("a\nb\r\n\tc") == "a b c");
  BOOST_TEST(one_line("  lead and trail  ") == "lead and trail");
  BOOST_TEST(one_line("esc\x1B[31mred") == "esc [31mred");
  BOOST_TEST(one_line("c1\xC2\x9B" "31m") == "c1 31m");
  BOOST_TEST(one_line("bad \xFF byte") == "bad ? byte");
  BOOST_TEST(one_line("caf\xC3\xA9") == "caf\xC3\xA9");
}

BOOST_AUTO_TEST_CASE(one_line_cuts_on_a_character_boundary)
{
  BOOST_TEST(one_line("abcdef", 4) == "abcd...");
  BOOST_TEST(one_line("ab\xC3\xA9\xC3\xA9", 3) == "ab...");
  BOOST_TEST(one_line("abcd", 4) == "abcd");
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
