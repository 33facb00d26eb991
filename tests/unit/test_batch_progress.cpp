// The text of batch mode's progress line and the bytes that draw it.

#include "batch_progress.hpp"

#include <boost/test/unit_test.hpp>

using namespace gptq;

BOOST_AUTO_TEST_SUITE(batch_progress)

BOOST_AUTO_TEST_CASE(progress_text_with_a_known_total_says_the_time_left)
{
  BOOST_TEST(progress_text({ 30, 2, 100, 10 }) == "gptq: 30/100 lines, 2 failed, 3.0/s, 0m23s left");
  BOOST_TEST(progress_text({ 2, 0, 1000, 4 }) == "gptq: 2/1000 lines, 0 failed, 0.5/s, 33m16s left");
}

BOOST_AUTO_TEST_CASE(progress_text_at_the_start_has_no_rate_and_no_time_left)
{
  BOOST_TEST(progress_text({ 0, 0, 30, 0 }) == "gptq: 0/30 lines, 0 failed, 0.0/s");
  BOOST_TEST(progress_text({ 0, 0, 30, 5 }) == "gptq: 0/30 lines, 0 failed, 0.0/s");
}

BOOST_AUTO_TEST_CASE(progress_text_when_done_has_no_time_left)
{
  BOOST_TEST(progress_text({ 30, 0, 30, 4 }) == "gptq: 30/30 lines, 0 failed, 7.5/s");
}

BOOST_AUTO_TEST_CASE(progress_text_without_a_total_counts_lines_only)
{
  BOOST_TEST(progress_text({ 12, 1, 0, 2 }) == "gptq: 12 lines, 1 failed, 6.0/s");
}

BOOST_AUTO_TEST_CASE(only_lines_with_more_than_white_space_are_counted_however_the_input_is_cut)
{
  const struct {
    std::string_view input;
    std::size_t lines;
  } cases[] = {
    { "", 0 },
    { "a", 1 },
    { "a\n", 1 },
    { "a\nb", 2 },
    { "\n\n \f\v\t\r\n", 0 },
    { "line 1\n \f\v\t\r\nline 2\r\n\n  x  \n", 3 },
    { " \t", 0 },
  };
  for (const auto& c : cases) {
    for (std::size_t cut = 0; cut <= c.input.size(); ++cut) {
      SentLineCounter counter;
      counter.feed(c.input.substr(0, cut));
      counter.feed(c.input.substr(cut));
      BOOST_TEST(counter.count() == c.lines, "input \"" << c.input << "\" cut at " << cut);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_redraw_covers_what_a_longer_line_left)
{
  BOOST_TEST(progress_redraw("abc", 0) == "\rabc");
  BOOST_TEST(progress_redraw("abc", 3) == "\rabc");
  BOOST_TEST(progress_redraw("abc", 2) == "\rabc");
  BOOST_TEST(progress_redraw("ab", 5) == "\rab   \rab");
}

BOOST_AUTO_TEST_CASE(erasing_covers_the_line_with_spaces_and_returns_to_its_start)
{
  BOOST_TEST(progress_erase(0) == "");
  BOOST_TEST(progress_erase(4) == "\r    \r");
}

BOOST_AUTO_TEST_SUITE_END()
