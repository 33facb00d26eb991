#include "code_filter.hpp"

#include "testkit.hpp"

// GCC 12 at -O2 warns inside Boost.Test's data-driven test cases (string
// concatenation in its headers, GCC bug 105651): a false positive, as in
// the integration tests.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace data = boost::unit_test::data;
using namespace gptq;

namespace {

// One reply and the code --code makes of it.
struct Case {
  std::string name;
  std::string reply;
  std::string code;
  bool found_code = true;
};

std::ostream& operator<<(std::ostream& os, const Case& c)
{
  return os << c.name;
}

struct Filtered {
  std::string code;
  bool found_code = false;
  bool empty_call = false; // the sink was called with an empty view
};

// Filters `reply` fed in pieces cut at the offsets in `cuts`.
Filtered filter_cut(std::string_view reply, const std::vector<std::size_t>& cuts)
{
  Filtered result;
  const CodeFilter::Sink sink = [&](std::string_view code) {
    result.empty_call = result.empty_call || code.empty();
    result.code.append(code);
  };
  CodeFilter filter;
  for (const std::string_view piece : gptq::test::pieces_cut_at(reply, cuts)) {
    filter.feed(piece, sink);
  }
  filter.finish(sink);
  result.found_code = filter.found_code();
  return result;
}

void check_cut(const Case& c, const std::vector<std::size_t>& cuts, const std::string& how)
{
  const Filtered got = filter_cut(c.reply, cuts);
  BOOST_TEST(got.code == c.code, how);
  BOOST_TEST(got.found_code == c.found_code, how);
  BOOST_TEST(!got.empty_call, how);
}

// Checks that `c.reply` gives `c.code` whole, split at every offset, split at
// every pair of offsets and fed one byte at a time.
void check_every_split(const Case& c)
{
  gptq::test::for_every_split(
    c.reply, [&](const std::vector<std::size_t>& cuts, const std::string& how) { check_cut(c, cuts, how); });
}

// Feeds `pieces` without finishing and returns what was passed on so far.
std::string passed_after(const std::vector<std::string>& pieces)
{
  std::string code;
  CodeFilter filter;
  for (const std::string& piece : pieces) {
    filter.feed(piece, [&](std::string_view s) { code.append(s); });
  }
  return code;
}

const std::vector<Case> info_string_cases{
  { "python", "Here you go:\n```python\nprint('hi')\n```\nDone.\n", "print('hi')\n" },
  { "space_before_tag", "``` js\nlet x;\n```\n", "let x;\n" },
  { "attributes", "~~~ {.cpp .numberLines}\nint x;\n~~~\n", "int x;\n" },
  { "tildes_and_backticks_in_tilde_info", "~~~ a`b~c\nx\n~~~\n", "x\n" },
  { "backtick_in_backtick_info_is_prose", "```js `x`\nnot code\n```\ncode\n", "code\n" },
};

const std::vector<Case> tilde_cases{
  { "plain", "Text\n~~~\na\nb\n~~~\nmore\n", "a\nb\n" },
  { "long_fence_holds_short_one", "~~~~\n~~~\nx\n~~~~\n", "~~~\nx\n" },
  { "backtick_line_does_not_close", "~~~\n```\n~~~\n", "```\n" },
};

const std::vector<Case> nested_backtick_cases{
  { "fence_inside_longer_fence", "````markdown\n```python\ninner\n```\n````\n", "```python\ninner\n```\n" },
  { "inline_code", "```\nuse `x` and ``y``\n``\n` ` `\n```\n", "use `x` and ``y``\n``\n` ` `\n" },
  { "tilde_fence_inside_backticks", "```\n~~~\nz\n~~~\n```\n", "~~~\nz\n~~~\n" },
  { "backticks_after_indented_text", "```\n  x ```\n```\n", "  x ```\n" },
};

const std::vector<Case> unterminated_cases{
  { "ends_mid_line", "```sh\nls\necho hi", "ls\necho hi" },
  { "ends_after_line_end", "```sh\nls\n", "ls\n" },
  { "ends_with_short_fence", "```\nx\n``", "x\n``" },
  { "ends_with_spaces", "  ```\nx\n     ", "x\n   " },
  { "ends_after_opening_fence", "Code:\n```\n", "" },
  { "opening_fence_is_the_end", "Code:\n```python", "" },
  { "bare_opening_fence_is_the_end", "Code:\n~~~", "" },
  { "closing_fence_without_line_end", "```\nx\n```", "x\n" },
  { "closing_fence_with_spaces_without_line_end", "```\nx\n```  ", "x\n" },
};

const std::vector<Case> several_block_cases{
  { "prose_between", "a\n```\none\n```\nprose ``` here\n```c\ntwo\n```\nend", "one\ntwo\n" },
  { "back_to_back", "```\none\n```\n```\ntwo\n```\n", "one\ntwo\n" },
  { "empty_block_then_code", "```\n```\n~~~\nx\n~~~\n", "x\n" },
  { "blank_lines_kept", "```\n\na\n\n```\n", "\na\n\n" },
};

const std::vector<Case> no_code_cases{
  { "empty", "", "", false },
  { "prose", "Just prose.\nTwo lines.\n", "", false },
  { "inline_code", "Use `x` or ``y`` or ``` z ``` inline.\n", "", false },
  { "two_backticks", "``\nnot code\n``\n", "", false },
  { "two_tildes_with_tag", "~~sh\nnot code\n~~\n", "", false },
  { "indented_code_block", "    int x;\n    return x;\n", "", false },
};

const std::vector<Case> crlf_cases{
  { "crlf", "Intro\r\n```python\r\nx = 1\r\n\r\ny = 2\r\n```\r\nBye\r\n", "x = 1\r\n\r\ny = 2\r\n" },
  { "crlf_indented", "  ~~~\r\n  a\r\n ~~~ \r\nb\r\n", "a\r\n" },
  { "cr_after_text_is_code", "```\nx\r\n```x\r\n```\r\n", "x\r\n```x\r\n" },
};

const std::vector<Case> mid_line_fence_cases{
  { "after_text", "Text ```\nprose\nmore ```\n", "", false },
  { "after_text_inside_block", "```\nsay ```\n```\n", "say ```\n" },
};

const std::vector<Case> indented_fence_cases{
  { "two_spaces", "  ```\n  a\n    b\n c\nd\n  ```\n", "a\n  b\nc\nd\n" },
  { "three_spaces", "1. Run:\n   ```sh\n   make\n   ```\n", "make\n" },
  { "four_spaces_is_not_a_fence", "    ```\n    x\n    ```\n", "", false },
  { "tab_is_not_a_fence", "\t```\nx\n\t```\n", "", false },
  { "closing_indent_is_free", "```\ncode\n   ```\n", "code\n" },
  { "closing_with_four_spaces_is_code", "```\na\n    ```\n```\n", "a\n    ```\n" },
  { "blank_line_with_spaces", "  ```\n \n   \n```\n", "\n \n" },
  { "deeper_content_keeps_the_rest", "   ~~~\n      x\n~~~\n", "   x\n" },
  { "tab_in_content_is_kept", "  ```\n\tx\n```\n", "\tx\n" },
};

const std::vector<Case> closing_length_cases{
  { "longer_closes", "```\nx\n`````\nprose\n", "x\n" },
  { "shorter_is_code", "````\n```\n````\n", "```\n" },
  { "longer_tilde_closes", "~~~\nx\n~~~~~~\n", "x\n" },
  { "longer_with_trailing_spaces_closes", "```\nx\n`````  \nprose\n", "x\n" },
};

const std::vector<Case> closing_trailing_cases{
  { "text_after_is_code", "```\na\n``` b\n```\n", "a\n``` b\n" },
  { "info_after_is_code", "```\na\n```python\n```\n", "a\n```python\n" },
  { "trailing_white_space_closes", "```\na\n```  \t\nprose\n", "a\n" },
  { "text_after_white_space_is_code", "```\na\n```  x\n```\n", "a\n```  x\n" },
};

const std::vector<Case> utf8_cases{
  { "mid_line",
    "```\ncaf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\n```\n",
    "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\n" },
  { "line_start", "```\n\xF0\x9F\x98\x80\n\xE2\x82\xAC\n```\n", "\xF0\x9F\x98\x80\n\xE2\x82\xAC\n" },
  { "after_held_fence_start", "```\n``\xC3\xA9\n  \xC3\xA9\n```\n", "``\xC3\xA9\n  \xC3\xA9\n" },
  { "in_prose_and_info", "\xC3\xA9t\xC3\xA9\n```\xC3\xA9\nx\n```\n", "x\n" },
};

} // namespace

BOOST_AUTO_TEST_SUITE(code_filter)

BOOST_DATA_TEST_CASE(fences_with_info_strings, data::make(info_string_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(tilde_fences, data::make(tilde_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(backticks_inside_a_block_are_code, data::make(nested_backtick_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(unterminated_block_is_code_to_the_end, data::make(unterminated_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(several_blocks_without_the_prose_between, data::make(several_block_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(no_fence_gives_no_code, data::make(no_code_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(crlf_lines_keep_their_line_ends, data::make(crlf_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(fence_in_the_middle_of_a_line_is_not_a_fence, data::make(mid_line_fence_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(indented_fence_removes_its_indentation_from_code, data::make(indented_fence_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(closing_fence_may_be_longer_not_shorter, data::make(closing_length_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(closing_fence_with_trailing_text_is_code, data::make(closing_trailing_cases), c)
{
  check_every_split(c);
}

BOOST_DATA_TEST_CASE(utf8_split_inside_a_sequence_arrives_intact, data::make(utf8_cases), c)
{
  check_every_split(c);
}

BOOST_AUTO_TEST_CASE(code_is_passed_on_before_the_block_ends)
{
  // A line that cannot be a fence is passed on byte by byte as it arrives.
  BOOST_TEST(passed_after({ "```\nprint(1)\nprint(2" }) == "print(1)\nprint(2");
  BOOST_TEST(passed_after({ "```\n", "print(1)\n", "print(2" }) == "print(1)\nprint(2");
  BOOST_TEST(passed_after({ "```\n", "p" }) == "p");
}

BOOST_AUTO_TEST_CASE(possible_closing_fence_is_held_until_it_is_not_one)
{
  BOOST_TEST(passed_after({ "```\nx\n", "  ``" }) == "x\n");
  BOOST_TEST(passed_after({ "```\nx\n", "  ``", "`" }) == "x\n");
  BOOST_TEST(passed_after({ "```\nx\n", "  ``", "` " }) == "x\n");
  BOOST_TEST(passed_after({ "```\nx\n", "  ``", "y" }) == "x\n  ``y");
  BOOST_TEST(passed_after({ "```\nx\n", "  ``", "` ", "y" }) == "x\n  ``` y");
  // A fourth space rules the fence out; the block's own indentation goes.
  BOOST_TEST(passed_after({ "  ```\nx\n", "   " }) == "x\n");
  BOOST_TEST(passed_after({ "  ```\nx\n", "    " }) == "x\n  ");
}

BOOST_AUTO_TEST_CASE(prose_is_never_passed_on_while_streaming)
{
  BOOST_TEST(passed_after({ "Some prose", " and more\n", "```" }) == "");
  BOOST_TEST(passed_after({ "```\nx\n```\n", "after" }) == "x\n");
}

BOOST_AUTO_TEST_CASE(found_code_for_an_empty_block)
{
  CodeFilter filter;
  const CodeFilter::Sink ignore = [](std::string_view) {};
  filter.feed("Nothing to show:\n", ignore);
  BOOST_TEST(!filter.found_code());
  filter.feed("```\n", ignore);
  BOOST_TEST(filter.found_code());
  filter.feed("```\n", ignore);
  filter.finish(ignore);
  BOOST_TEST(filter.found_code());
}

BOOST_AUTO_TEST_CASE(long_lines_pass_in_large_pieces)
{
  // The bulk of a code line goes on in one call, not byte by byte.
  const std::string big(1024 * 1024, 'x');
  std::vector<std::size_t> sizes;
  CodeFilter filter;
  const CodeFilter::Sink sink = [&](std::string_view s) { sizes.push_back(s.size()); };
  filter.feed("```\n" + big + "\n```\n", sink);
  filter.finish(sink);
  BOOST_TEST(sizes == (std::vector<std::size_t>{ 1, big.size() }), "the first byte decides, the rest follows at once");
}

BOOST_AUTO_TEST_SUITE_END()
