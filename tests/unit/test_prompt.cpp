#include "prompt.hpp"

#include "error.hpp"

#include <boost/test/unit_test.hpp>

using namespace gptq;

namespace {

std::string usage_error(const std::vector<std::string>& words, const std::optional<std::string>& input)
{
  try {
    assemble_user_message(words, input);
  } catch (const Error& e) {
    BOOST_TEST(static_cast<int>(e.status()) == 2);
    return e.phase() + ": " + e.what();
  }
  BOOST_ERROR("no error");
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(prompt)

BOOST_AUTO_TEST_CASE(words_are_joined_by_single_spaces)
{
  BOOST_TEST(assemble_user_message({"why", "is", "the sky blue?"}, std::nullopt) == "why is the sky blue?");
  BOOST_TEST(assemble_user_message({"  keep  inner  "}, std::nullopt) == "  keep  inner  ");
}

BOOST_AUTO_TEST_CASE(words_then_blank_line_then_stdin)
{
  BOOST_TEST(assemble_user_message({"summarise", "this"}, std::string("line 1\nline 2\n")) ==
             "summarise this\n\nline 1\nline 2\n");
}

BOOST_AUTO_TEST_CASE(stdin_alone_is_passed_byte_for_byte)
{
  const std::string input = "tab\there \"quotes\" back\\slash caf\xC3\xA9\r\nCRLF\r\n";
  BOOST_TEST(assemble_user_message({}, input) == input);
}

BOOST_AUTO_TEST_CASE(empty_stdin_leaves_just_the_words)
{
  BOOST_TEST(assemble_user_message({"hello"}, std::string()) == "hello");
  BOOST_TEST(assemble_user_message({"hello"}, std::string(" \n")) == "hello");
}

BOOST_AUTO_TEST_CASE(empty_prompt_is_a_usage_error)
{
  BOOST_TEST(usage_error({}, std::nullopt).find("prompt is empty") != std::string::npos);
  BOOST_TEST(usage_error({}, std::string()).find("prompt is empty") != std::string::npos);
  BOOST_TEST(usage_error({}, std::string("\n\n  \t")).find("prompt is empty") != std::string::npos);
  BOOST_TEST(usage_error({"", " "}, std::nullopt).find("prompt is empty") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_names_source_and_offset)
{
  BOOST_TEST(usage_error({}, std::string("abc\xFF")) == "stdin: invalid UTF-8 at byte 3 (0xFF); convert the text "
                                                         "to UTF-8 first, e.g. with iconv");
  BOOST_TEST(usage_error({"ok", "b\xE9"}, std::nullopt).starts_with("prompt: invalid UTF-8 at byte 4 (0xE9)"));
}

BOOST_AUTO_TEST_SUITE_END()
