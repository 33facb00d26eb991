#include "sse.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace gptq;

namespace {

struct Seen {
  std::string type;
  std::string data;
  std::string id;
  std::string error = {}; // "!" and the error field's value when it has one
  bool operator==(const Seen&) const = default;
};

// For Boost.Test's messages when a comparison fails.
[[maybe_unused]] std::ostream& boost_test_print_type(std::ostream& os, const Seen& s)
{
  return os << "{" << s.type << "|" << s.data << "|" << s.id << "|" << s.error << "}";
}

// Parses `stream` fed in pieces cut at the offsets in `cuts`.
std::vector<Seen> parse_cut(std::string_view stream,
                            const std::vector<std::size_t>& cuts,
                            std::size_t max_event = SseParser::default_max_event)
{
  std::vector<Seen> seen;
  auto collect = [&](const SseEvent& e) { seen.push_back({ e.type, e.data, e.id, e.error ? "!" + *e.error : "" }); };
  SseParser parser(max_event);
  for (const std::string_view piece : gptq::test::pieces_cut_at(stream, cuts)) {
    parser.feed(piece, collect);
  }
  parser.finish(collect);
  return seen;
}

// Checks that `stream` gives `expected` whole, split at every single offset,
// split at every pair of offsets, and fed one byte at a time.
void check_every_split(std::string_view stream, const std::vector<Seen>& expected)
{
  gptq::test::for_every_split(stream, [&](const std::vector<std::size_t>& cuts, const std::string& how) {
    BOOST_TEST(parse_cut(stream, cuts) == expected, how);
  });
}

} // namespace

BOOST_AUTO_TEST_SUITE(sse)

BOOST_AUTO_TEST_CASE(openai_stream_split_at_every_offset)
{
  check_every_split("data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n",
                    { { "message", "{\"a\":1}", "" }, { "message", "{\"b\":2}", "" }, { "message", "[DONE]", "" } });
}

BOOST_AUTO_TEST_CASE(crlf_and_cr_line_ends_split_at_every_offset)
{
  const std::vector<Seen> expected{ { "message", "x", "" }, { "message", "y", "" } };
  check_every_split("data: x\r\n\r\ndata: y\r\n\r\n", expected);
  check_every_split("data: x\r\rdata: y\r\r", expected);
  check_every_split("data: x\n\rdata: y\r\n\n", expected);
}

BOOST_AUTO_TEST_CASE(many_events_in_one_piece_with_line_ends_changing_midway)
{
  // One piece holds runs of events that each use one kind of line end, so
  // that the kind not in use is absent for a long stretch (or to the end).
  std::string stream;
  std::vector<Seen> expected;
  for (const std::string end : { "\r", "\n", "\r\n", "\r", "\n" }) {
    for (int i = 0; i < 40; ++i) {
      const std::string data = end.size() == 2 ? "crlf" : end == "\r" ? "cr" : "lf";
      stream += "data: " + data + std::to_string(i) + end + end;
      expected.push_back({ "message", data + std::to_string(i), "" });
    }
  }
  check_every_split(stream, expected);
}

BOOST_AUTO_TEST_CASE(cr_then_lf_across_pieces_is_one_line_end)
{
  // A "\r" ending one piece and "\n" starting the next must not make an
  // empty line (which would dispatch the event early).
  BOOST_TEST(parse_cut("data: a\r\ndata: b\r\n\r\n", { 8 }) == (std::vector<Seen>{ { "message", "a\nb", "" } }));
}

BOOST_AUTO_TEST_CASE(comments_and_keep_alives_are_ignored)
{
  check_every_split(": keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: x\n:mid-event comment\n\n",
                    { { "message", "x", "" } });
}

BOOST_AUTO_TEST_CASE(data_with_or_without_space)
{
  BOOST_TEST(parse_cut("data:x\n\ndata: y\n\ndata:  z\n\n", {}) ==
             (std::vector<Seen>{ { "message", "x", "" }, { "message", "y", "" }, { "message", " z", "" } }));
}

BOOST_AUTO_TEST_CASE(fields_event_id_retry)
{
  check_every_split("event: error\nid: 7\nretry: 1000\ndata: {}\n\ndata: next\n\n",
                    { { "error", "{}", "7" }, { "message", "next", "7" } });
}

BOOST_AUTO_TEST_CASE(multi_line_data_joins_with_newline)
{
  check_every_split("data: one\ndata:two\ndata\n\n", { { "message", "one\ntwo\n", "" } });
}

BOOST_AUTO_TEST_CASE(empty_data_is_an_event_and_blank_lines_alone_are_not)
{
  BOOST_TEST(parse_cut("\n\n\ndata:\n\ndata: ping\n\n", {}) ==
             (std::vector<Seen>{ { "message", "", "" }, { "message", "ping", "" } }));
}

BOOST_AUTO_TEST_CASE(event_without_data_is_not_dispatched)
{
  BOOST_TEST(parse_cut("event: x\nid: 1\n\ndata: d\n\n", {}) == (std::vector<Seen>{ { "message", "d", "1" } }));
}

BOOST_AUTO_TEST_CASE(final_event_without_blank_line_is_dispatched_at_end)
{
  check_every_split("data: first\n\ndata: last", { { "message", "first", "" }, { "message", "last", "" } });
  check_every_split("data: last\n", { { "message", "last", "" } });
  check_every_split("data: last\r", { { "message", "last", "" } });
}

BOOST_AUTO_TEST_CASE(byte_order_mark_is_skipped_at_start_only)
{
  check_every_split("\xEF\xBB\xBF"
                    "data: x\n\n",
                    { { "message", "x", "" } });
  BOOST_TEST(parse_cut("data: x\n\n\xEF\xBB\xBF"
                       "data: y\n\n",
                       {}) == (std::vector<Seen>{ { "message", "x", "" } }));
}

BOOST_AUTO_TEST_CASE(utf8_split_inside_a_sequence_arrives_intact)
{
  check_every_split("data: caf\xC3\xA9 \xF0\x9F\x98\x80\n\n", { { "message", "caf\xC3\xA9 \xF0\x9F\x98\x80", "" } });
}

BOOST_AUTO_TEST_CASE(long_lines_arrive_whole)
{
  const std::string big(5 * 1024 * 1024, 'x');
  const std::string stream = "data: " + big + "\n\n";
  BOOST_TEST(parse_cut(stream, { 3, 100, 4096, 1024 * 1024 }) == (std::vector<Seen>{ { "message", big, "" } }));
}

// Returns the message of the error that parsing `stream` with a limit of
// `max_event` gave when cut at every offset (the same each time), or ""
// when none did.
std::string limit_error(std::string_view stream, std::size_t max_event)
{
  std::string first;
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    const auto f = gptq::test::error_of([&] { parse_cut(stream, { i }, max_event); });
    if (f.thrown) {
      BOOST_TEST(f.status == 8);
    }
    const std::string message = f.thrown ? f.line() : "";
    if (i == 0) {
      first = message;
    }
    BOOST_TEST(message == first, "cut at " << i);
  }
  return first;
}

BOOST_AUTO_TEST_CASE(a_line_or_event_longer_than_the_limit_stops_the_stream_wherever_it_is_cut)
{
  const std::string too_long =
    "stream: a line or event of the event stream is longer than 16 bytes; gptq stopped reading";
  BOOST_TEST(limit_error("data: 0123456789\n\ndata: 0123456789\r\n", 16) == "", "16 bytes fit");
  BOOST_TEST(limit_error("data: 0123456789a\n\n", 16) == too_long);
  BOOST_TEST(limit_error("data: 0123456789a", 16) == too_long, "no line end");
  BOOST_TEST(limit_error(": a comment of 17\n", 16) == too_long, "not only data");
  BOOST_TEST(limit_error("data: 01234567\ndata: 01234567\n\n", 16) == too_long, "the data of one event and a line");
  BOOST_TEST(limit_error("data: 012345\ndata: 0\n\n", 16) == "");
  BOOST_TEST(limit_error("data: 0123456789abcdef\n", 22) == "", "a line: data and line at once never count twice");
}

BOOST_AUTO_TEST_CASE(a_line_that_never_ends_is_not_held_past_the_limit)
{
  SseParser parser(1024 * 1024);
  const std::string piece(64 * 1024, 'x');
  int fed = 0;
  const auto f = gptq::test::error_of([&] {
    for (; fed < 1000; ++fed) {
      parser.feed(piece, [](const SseEvent&) { BOOST_FAIL("an event"); });
    }
  });
  if (f.thrown) {
    BOOST_TEST(f.message == "a line or event of the event stream is longer than 1 MiB; gptq stopped reading");
  }
  BOOST_TEST(fed == 16, "stopped at the piece that passed 1 MiB");
}

BOOST_AUTO_TEST_CASE(llama_cpp_error_field_is_an_event_of_its_own)
{
  check_every_split("error: {\"code\":400}\n\n", { { "message", "", "", "!{\"code\":400}" } });
  check_every_split("data: x\n\nerror: a\nerror: b\n\n", { { "message", "x", "" }, { "message", "", "", "!a\nb" } });
  check_every_split("error:\n\n", { { "message", "", "", "!" } });
}

BOOST_AUTO_TEST_CASE(unknown_fields_and_lines_without_colon_are_ignored)
{
  BOOST_TEST(parse_cut("foo: bar\nnonsense\ndata: x\n\n", {}) == (std::vector<Seen>{ { "message", "x", "" } }));
}

BOOST_AUTO_TEST_SUITE_END()
