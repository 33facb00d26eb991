// Batch mode's decisions (batch_schedule.hpp) told events by hand: no
// sockets, no timers, no coroutines.

#include "batch_schedule.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace gptq;

namespace {

BatchItem item(std::size_t line)
{
  BatchItem i;
  i.line = line;
  i.input = i.prompt = "prompt " + std::to_string(line);
  return i;
}

LineResult ok(const std::string& out)
{
  return { out + "\n", "", ExitStatus::ok };
}

// A failed line, as plain output writes it: an empty line and `err`.
LineResult failed(ExitStatus status, const std::string& err)
{
  return { std::string(1, '\n'), err, status };
}

// Every result ready to write now, its stdout text each.
std::vector<std::string> drain(BatchSchedule& schedule)
{
  std::vector<std::string> out;
  while (auto r = schedule.next_to_write()) {
    out.push_back(r->out);
  }
  return out;
}

using Lines = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(batch_schedule)

BOOST_AUTO_TEST_CASE(results_are_written_in_input_order_whatever_order_they_finish_in)
{
  BatchSchedule s(3, false);
  for (std::size_t line = 1; line <= 3; ++line) {
    s.queue(item(line));
  }
  const auto a = s.start();
  const auto b = s.start();
  const auto c = s.start();
  BOOST_TEST(a.item.line == 1u);
  BOOST_TEST(c.item.line == 3u);
  BOOST_TEST(!s.finish(c.seq, ok("3")));
  BOOST_TEST(drain(s) == Lines{}, "line 3 waits for lines 1 and 2");
  BOOST_TEST(!s.finish(a.seq, ok("1")));
  BOOST_TEST(drain(s) == Lines{ "1\n" });
  BOOST_TEST(!s.finish(b.seq, ok("2")));
  BOOST_TEST(drain(s) == (Lines{ "2\n", "3\n" }));
  BOOST_TEST(s.lines_succeeded() == 3u);
}

BOOST_AUTO_TEST_CASE(lines_without_a_request_keep_their_place_among_the_sent_ones)
{
  BatchSchedule s(2, false);
  s.queue(item(1));
  LineResult blank;
  blank.out = "\n";
  blank.counted = false;
  BOOST_TEST(!s.add_result(blank));
  BOOST_TEST(!s.add_result(failed(ExitStatus::usage, "gptq: line 3: bad\n")));
  BOOST_TEST(drain(s) == Lines{}, "line 1 is not answered yet");
  const auto first = s.start();
  BOOST_TEST(!s.finish(first.seq, ok("1")));
  const auto written = drain(s);
  BOOST_TEST(written == (Lines{ "1\n", "\n", "\n" }));
  // The place holder is no line done.
  BOOST_TEST(s.lines_succeeded() == 1u);
  BOOST_TEST(s.lines_failed() == 1u);
}

BOOST_AUTO_TEST_CASE(the_worst_status_is_the_most_severe_written)
{
  BatchSchedule s(1, false);
  BOOST_TEST(!s.add_result(failed(ExitStatus::server, "")));
  BOOST_TEST(!s.add_result(failed(ExitStatus::auth, "")));
  BOOST_TEST(!s.add_result(failed(ExitStatus::rejected, "")));
  BOOST_TEST((s.worst() == ExitStatus::ok), "nothing written yet");
  drain(s);
  BOOST_TEST((s.worst() == ExitStatus::auth));
  BOOST_TEST(batch_severity(ExitStatus::stdout_closed) > batch_severity(ExitStatus::interrupted));
  BOOST_TEST(batch_severity(ExitStatus::network) > batch_severity(ExitStatus::rate_limit));
  BOOST_TEST(batch_severity(ExitStatus::usage) > batch_severity(ExitStatus::ok));
}

BOOST_AUTO_TEST_CASE(no_more_than_allowed_requests_start)
{
  BatchSchedule s(2, false);
  for (std::size_t line = 1; line <= 3; ++line) {
    s.queue(item(line));
  }
  BOOST_TEST(s.may_start());
  const auto a = s.start();
  BOOST_TEST(s.may_start());
  s.start();
  BOOST_TEST(!s.may_start(), "two in flight");
  BOOST_TEST(!s.nothing_left_to_start(), "line 3 waits");
  BOOST_TEST(!s.finish(a.seq, ok("1")));
  BOOST_TEST(s.may_start());
}

BOOST_AUTO_TEST_CASE(a_rate_limit_halves_the_requests_allowed_down_to_one)
{
  using namespace std::chrono_literals;
  BatchSchedule s(8, false);
  BOOST_TEST(s.allowed() == 8);
  const BatchSchedule::Clock::time_point at{ 10s };
  s.rate_limited(at);
  BOOST_TEST(s.allowed() == 4);
  BOOST_TEST((s.not_before() == at));
  // An earlier wait does not shorten a later one.
  s.rate_limited(at - 5s);
  BOOST_TEST(s.allowed() == 2);
  BOOST_TEST((s.not_before() == at));
  s.rate_limited(at + 1s);
  s.rate_limited(at + 1s);
  BOOST_TEST(s.allowed() == 1);
  BOOST_TEST((s.not_before() == at + 1s));
}

BOOST_AUTO_TEST_CASE(successes_grow_the_requests_allowed_by_one_per_as_many_successes)
{
  BatchSchedule s(8, false);
  BOOST_TEST(!s.succeeded(), "at --jobs already");
  s.rate_limited({});
  s.rate_limited({});
  BOOST_TEST(s.allowed() == 2);
  // Two successes at 2 allowed make 3, three more make 4, and so on.
  std::vector<int> grew_at;
  for (int success = 1; success <= 30; ++success) {
    if (s.succeeded()) {
      grew_at.push_back(success);
    }
  }
  BOOST_TEST(grew_at == (std::vector<int>{ 2, 5, 9, 14, 20, 27 }));
  BOOST_TEST(s.allowed() == 8, "never past --jobs");
}

BOOST_AUTO_TEST_CASE(a_rate_limit_starts_the_count_of_successes_again)
{
  BatchSchedule s(8, false);
  s.rate_limited({}); // 4
  BOOST_TEST(!s.succeeded());
  BOOST_TEST(!s.succeeded());
  BOOST_TEST(!s.succeeded());
  s.rate_limited({}); // 2; the three successes no longer count
  BOOST_TEST(!s.succeeded());
  BOOST_TEST(s.succeeded());
  BOOST_TEST(s.allowed() == 3);
}

BOOST_AUTO_TEST_CASE(the_reader_stays_a_window_ahead_of_the_output)
{
  BatchSchedule s(2, false);
  BOOST_TEST(s.window() == 64u);
  BOOST_TEST(BatchSchedule(8, false).window() == 128u);
  s.queue(item(1));
  for (std::size_t line = 2; line <= 64; ++line) {
    BOOST_TEST(!s.read_ahead_full());
    BOOST_TEST(!s.add_result(ok(std::to_string(line))));
  }
  BOOST_TEST(s.read_ahead_full(), "64 lines taken, none written");
  const auto first = s.start();
  BOOST_TEST(!s.finish(first.seq, ok("1")));
  BOOST_TEST(s.read_ahead_full(), "finished but not written yet");
  BOOST_TEST(drain(s).size() == 64u);
  BOOST_TEST(!s.read_ahead_full());
}

BOOST_AUTO_TEST_CASE(a_line_past_the_window_does_not_start)
{
  BatchSchedule s(1, false);
  s.queue(item(1));
  const auto slow = s.start();
  // With 64 lines taken, line 65 may not go before line 1 is written.
  for (std::size_t line = 2; line <= 64; ++line) {
    BOOST_TEST(!s.add_result(ok(std::to_string(line))));
  }
  s.queue(item(65));
  BOOST_TEST(!s.finish(slow.seq, ok("1")));
  BOOST_TEST(!s.may_start(), "line 1 finished, not yet written");
  drain(s);
  BOOST_TEST(s.may_start());
}

BOOST_AUTO_TEST_CASE(the_batch_ends_when_the_input_ends_and_the_queue_is_empty)
{
  BatchSchedule s(2, false);
  BOOST_TEST(!s.nothing_left_to_start(), "the input may bring more");
  s.queue(item(1));
  s.input_ended();
  BOOST_TEST(s.input_done());
  BOOST_TEST(!s.nothing_left_to_start());
  const auto a = s.start();
  BOOST_TEST(s.nothing_left_to_start());
  BOOST_TEST(!s.finish(a.seq, ok("1")));
  BOOST_TEST(drain(s) == Lines{ "1\n" });
  BOOST_TEST(!s.stopping());
}

BOOST_AUTO_TEST_CASE(fail_fast_writes_the_lines_before_the_first_failure_and_nothing_after)
{
  BatchSchedule s(3, true);
  for (std::size_t line = 1; line <= 4; ++line) {
    s.queue(item(line));
  }
  const auto a = s.start();
  const auto b = s.start();
  const auto c = s.start();
  BOOST_TEST(!s.finish(c.seq, ok("3")));
  BOOST_TEST(s.finish(b.seq, failed(ExitStatus::server, "gptq: line 2: HTTP 500\n")), "the first failure stops");
  BOOST_TEST(s.stopping());
  BOOST_TEST(!s.may_start(), "line 4 is not sent");
  BOOST_TEST(s.nothing_left_to_start());
  BOOST_TEST(!s.finish(a.seq, failed(ExitStatus::rejected, "")), "a later failure stops nothing more");
  const auto written = drain(s);
  BOOST_TEST(written == (Lines{ "\n", "\n" }), "lines 1 and 2, not 3");
  BOOST_TEST((s.worst() == ExitStatus::server));
  BOOST_TEST(!s.stop_summary(), "--fail-fast says nothing more");
}

BOOST_AUTO_TEST_CASE(fail_fast_stops_at_a_line_that_cannot_make_a_request)
{
  BatchSchedule s(2, true);
  s.queue(item(1));
  BOOST_TEST(s.add_result(failed(ExitStatus::usage, "gptq: line 2: not valid UTF-8\n")));
  s.queue(item(3));
  BOOST_TEST(s.may_start(), "line 1 still goes");
  const auto a = s.start();
  BOOST_TEST(!s.may_start());
  BOOST_TEST(s.nothing_left_to_start());
  BOOST_TEST(!s.finish(a.seq, ok("1")));
  BOOST_TEST(drain(s) == (Lines{ "1\n", "\n" }));
  BOOST_TEST((s.worst() == ExitStatus::usage));
}

BOOST_AUTO_TEST_CASE(without_fail_fast_a_failure_stops_nothing)
{
  BatchSchedule s(1, false);
  s.queue(item(1));
  s.queue(item(2));
  const auto a = s.start();
  BOOST_TEST(!s.finish(a.seq, failed(ExitStatus::server, "")));
  BOOST_TEST(!s.stopping());
  BOOST_TEST(s.may_start());
}

BOOST_AUTO_TEST_CASE(a_stop_reason_stops_sending_lets_what_is_in_flight_finish_and_says_how_far_it_got)
{
  BatchSchedule s(2, false);
  for (std::size_t line = 1; line <= 3; ++line) {
    s.queue(item(line));
  }
  const auto a = s.start();
  const auto b = s.start();
  BOOST_TEST(!s.finish(a.seq, ok("1")));
  s.stop_because("the account's quota is used up (insufficient_quota)");
  s.stop_because("the server refused the key (HTTP 401)");
  BOOST_TEST(s.stopping());
  BOOST_TEST(!s.read_ahead_full(), "a stopped reader waits for nothing");
  BOOST_TEST(!s.may_start());
  BOOST_TEST(s.nothing_left_to_start());
  BOOST_TEST(!s.finish(b.seq, failed(ExitStatus::rate_limit, "gptq: line 2: quota\n")));
  BOOST_TEST(drain(s) == (Lines{ "1\n", "\n" }), "what was in flight is written");
  BOOST_TEST(s.stop_summary().value_or("") ==
             "the account's quota is used up (insufficient_quota); stopped with 1 line done");
  BOOST_TEST(!s.another_input_error());
}

BOOST_AUTO_TEST_CASE(the_stop_summary_counts_lines_done)
{
  BatchSchedule s(1, false);
  BOOST_TEST(!s.stop_summary());
  BOOST_TEST(!s.add_result(ok("1")));
  BOOST_TEST(!s.add_result(ok("2")));
  drain(s);
  s.stop_because("why");
  BOOST_TEST(s.stop_summary().value_or("") == "why; stopped with 2 lines done");
}

BOOST_AUTO_TEST_CASE(another_input_before_anything_was_sent_sends_nothing)
{
  BatchSchedule s(2, false);
  s.queue(item(1));
  s.queue(item(2));
  s.stop_for_another_input(3, "record r:3 (line 3) is for another input");
  BOOST_TEST(s.stopped_for_another_input());
  BOOST_TEST(s.stopping());
  BOOST_TEST(!s.may_start());
  BOOST_TEST(s.nothing_left_to_start());
  BOOST_TEST(s.another_input_error().value_or("") ==
             "record r:3 (line 3) is for another input; stopped before sending anything");
  BOOST_TEST(!s.stop_summary());
}

BOOST_AUTO_TEST_CASE(another_input_later_writes_the_results_before_the_first_line_not_sent)
{
  BatchSchedule s(1, false);
  s.queue(item(1));
  s.queue(item(2));
  const auto a = s.start();
  s.stop_for_another_input(5, "record r:5 (line 5) is for another input");
  BOOST_TEST(!s.may_start(), "line 2 was not sent and is not");
  BOOST_TEST(!s.finish(a.seq, ok("1")));
  BOOST_TEST(drain(s) == Lines{ "1\n" });
  BOOST_TEST(s.another_input_error().value_or("") ==
             "record r:5 (line 5) is for another input; stopped: the results before line 2 were written, nothing "
             "from it on was sent");
}

BOOST_AUTO_TEST_CASE(another_input_with_every_earlier_line_sent_names_its_own_line)
{
  BatchSchedule s(1, false);
  s.queue(item(1));
  const auto a = s.start();
  BOOST_TEST(!s.finish(a.seq, ok("1")));
  drain(s);
  s.stop_for_another_input(2, "record r:2 (line 2) is for another input");
  BOOST_TEST(s.another_input_error().value_or("") ==
             "record r:2 (line 2) is for another input; stopped: the results before line 2 were written, nothing "
             "from it on was sent");
}

BOOST_AUTO_TEST_SUITE_END()
