#include "prompt.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

using namespace gptq;

namespace {

std::string usage_error(const std::vector<std::string>& words, const std::optional<std::string>& input)
{
  return gptq::test::error_line([&] { assemble_user_message(words, input); }, 2);
}

} // namespace

BOOST_AUTO_TEST_SUITE(prompt)

BOOST_AUTO_TEST_CASE(words_are_joined_by_single_spaces)
{
  BOOST_TEST(assemble_user_message({ "why", "is", "the sky blue?" }, std::nullopt) == "why is the sky blue?");
  BOOST_TEST(assemble_user_message({ "  keep  inner  " }, std::nullopt) == "  keep  inner  ");
}

BOOST_AUTO_TEST_CASE(words_then_blank_line_then_stdin)
{
  BOOST_TEST(assemble_user_message({ "summarise", "this" }, std::string("line 1\nline 2\n")) ==
             "summarise this\n\nline 1\nline 2\n");
}

BOOST_AUTO_TEST_CASE(stdin_alone_is_passed_byte_for_byte)
{
  const std::string input = "tab\there \"quotes\" back\\slash caf\xC3\xA9\r\nCRLF\r\n";
  BOOST_TEST(assemble_user_message({}, input) == input);
}

BOOST_AUTO_TEST_CASE(empty_stdin_leaves_just_the_words)
{
  BOOST_TEST(assemble_user_message({ "hello" }, std::string()) == "hello");
  BOOST_TEST(assemble_user_message({ "hello" }, std::string(" \n")) == "hello");
}

BOOST_AUTO_TEST_CASE(empty_prompt_is_a_usage_error)
{
  BOOST_TEST(usage_error({}, std::nullopt).find("prompt is empty") != std::string::npos);
  BOOST_TEST(usage_error({}, std::string()).find("prompt is empty") != std::string::npos);
  BOOST_TEST(usage_error({}, std::string("\n\n  \t")).find("prompt is empty") != std::string::npos);
  BOOST_TEST(usage_error({ "", " " }, std::nullopt).find("prompt is empty") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_names_source_and_offset)
{
  BOOST_TEST(usage_error({}, std::string("abc\xFF")) == "stdin: invalid UTF-8 at byte 3 (0xFF); convert the text "
                                                        "to UTF-8 first, e.g. with iconv");
  BOOST_TEST(usage_error({ "ok", "b\xE9" }, std::nullopt).starts_with("prompt: invalid UTF-8 at byte 4 (0xE9)"));
}

BOOST_AUTO_TEST_CASE(attachments_follow_words_and_stdin_each_named_and_fenced)
{
  const std::string message = assemble_user_message(
    { "review" }, std::string("notes\n"), { { "a.py", "print(1)\n" }, { "b.md", "no newline at end" } });
  BOOST_TEST(message ==
             "review\n\nnotes\n\n\nFile: a.py\n```\nprint(1)\n```\n\nFile: b.md\n```\nno newline at end\n```");
}

BOOST_AUTO_TEST_CASE(attachment_fence_is_longer_than_any_backtick_run_inside)
{
  const std::string message = assemble_user_message({}, std::nullopt, { { "x.md", "```js\ncode\n```\n `````` \n" } });
  BOOST_TEST(message.starts_with("File: x.md\n```````\n"));
  BOOST_TEST(message.ends_with("\n```````"));
}

BOOST_AUTO_TEST_CASE(attachment_alone_is_a_prompt_and_bad_utf8_names_it)
{
  BOOST_TEST(assemble_user_message({}, std::nullopt, { { "e", "" } }) == "File: e\n```\n```");
  BOOST_TEST(usage_error({}, std::nullopt) != "");
  const auto bad = gptq::test::failure_of([] {
    assemble_user_message({ "x" }, std::nullopt, { { "bad.txt", "ok\xC0" } });
  });
  BOOST_TEST(bad.phase == "--file bad.txt");
  BOOST_TEST(bad.message.starts_with("invalid UTF-8 at byte 2"));
}

// An empty stdin is said, with what the prompt holds instead.
BOOST_AUTO_TEST_CASE(blank_stdin_warning_names_what_is_sent_instead)
{
  BOOST_TEST(!blank_stdin_warning("diff --git a b\n", true, false, false));
  BOOST_TEST(!blank_stdin_warning(" x ", false, false, true));
  BOOST_TEST(blank_stdin_warning("", true, false, false).value() ==
             "stdin was empty; only the PROMPT words are sent (use --no-stdin or </dev/null when that is meant)");
  BOOST_TEST(blank_stdin_warning(" \r\n\t", true, false, false).value() ==
             "stdin held only white space; only the PROMPT words are sent (use --no-stdin or </dev/null when that "
             "is meant)");
  BOOST_TEST(
    blank_stdin_warning("", true, true, false).value().find("only the PROMPT words and --file files are sent") !=
    std::string::npos);
  BOOST_TEST(blank_stdin_warning("", false, true, false).value().find("only the --file files are sent") !=
             std::string::npos);
  BOOST_TEST(blank_stdin_warning("", true, true, true).value() ==
             "stdin (-f -) was empty; it adds nothing to the prompt");
  BOOST_TEST(blank_stdin_warning("\n", false, false, true).value() ==
             "stdin (-f -) held only white space; the file it adds to the prompt has no text");
}

BOOST_AUTO_TEST_SUITE_END()
