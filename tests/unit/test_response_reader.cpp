#include "response_reader.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace gptq;
using boost::system::error_code;

namespace {

// Keeps what the reader hands on; wants no more once `stop_after` body
// bytes have come (0: never stops).
class Recorder : public ResponseHandler {
public:
  void on_head(const HttpResponse& head) override { heads.push_back(head); }
  void on_body(std::string_view piece) override
  {
    body += piece;
    ++pieces;
  }
  bool wants_more() const override { return stop_after == 0 || body.size() < stop_after; }

  std::vector<HttpResponse> heads;
  std::string body;
  std::size_t pieces = 0;
  std::size_t stop_after = 0;
};

struct Outcome {
  std::optional<Ending> ending;
  std::optional<Error> error;
  std::vector<std::string> log;
  std::size_t fed = 0; // pieces of input taken before the reader was done
};

// Feeds `reads` to a reader one after another as the exchange does with
// what each read brings, then ends the input with `end`.
Outcome read_all(const std::vector<std::string>& reads,
                 Recorder& handler,
                 error_code end = boost::asio::error::eof,
                 std::size_t piece_limit = ResponseReader::piece_size)
{
  Outcome outcome;
  const std::string where = "api.example.com:443";
  const ResponseReader::Log log = [&](const std::string& line) { outcome.log.push_back(line); };
  ResponseReader reader(handler, where, log, {}, piece_limit);
  std::string buffer;
  error_code read_ec;
  try {
    for (;;) {
      std::size_t used = 0;
      const error_code ec = reader.feed(buffer, std::exchange(read_ec, {}), used);
      buffer.erase(0, used);
      if (reader.ending()) {
        outcome.ending = reader.ending();
        return outcome;
      }
      if (!ec) {
        if (outcome.fed < reads.size()) {
          buffer += reads[outcome.fed++];
        } else {
          read_ec = end;
        }
        continue;
      }
      outcome.ending = reader.fail(ec, buffer);
      return outcome;
    }
  } catch (const Error& e) {
    outcome.error = e;
  }
  return outcome;
}

// Calls `check(reads, how)` with `text` cut into reads every way
// testkit's for_every_split cuts it (Beast's doMatrix).
void for_every_read_split(const std::string& text,
                          const std::function<void(const std::vector<std::string>&, const std::string&)>& check)
{
  gptq::test::for_every_split(text, [&](const std::vector<std::size_t>& cuts, const std::string& how) {
    std::vector<std::string> reads;
    for (const auto piece : gptq::test::pieces_cut_at(text, cuts)) {
      reads.emplace_back(piece);
    }
    check(reads, how);
  });
}

std::string message_of(const Outcome& outcome)
{
  return outcome.error ? outcome.error->what() : "(no error)";
}

} // namespace

BOOST_AUTO_TEST_SUITE(response_reader)

BOOST_AUTO_TEST_CASE(content_length_body_at_every_split)
{
  const std::string text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\nhello world";
  for (const std::size_t piece_limit : { ResponseReader::piece_size, std::size_t{ 3 }, std::size_t{ 1 } }) {
    for_every_read_split(text, [&](const std::vector<std::string>& reads, const std::string& how) {
      Recorder handler;
      const Outcome outcome = read_all(reads, handler, boost::asio::error::eof, piece_limit);
      BOOST_REQUIRE_MESSAGE(outcome.ending, how << ": " << message_of(outcome));
      BOOST_TEST(outcome.ending->reusable);
      BOOST_TEST(!outcome.ending->peer_closed);
      BOOST_REQUIRE(handler.heads.size() == 1u);
      BOOST_TEST(handler.heads[0].status == 200);
      BOOST_TEST(handler.heads[0].reason == "OK");
      BOOST_TEST(handler.heads[0].headers.size() == 2u);
      BOOST_TEST(handler.body == "hello world");
    });
  }
}

BOOST_AUTO_TEST_CASE(a_whole_read_is_one_piece)
{
  Recorder handler;
  const Outcome outcome =
    read_all({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n" }, handler);
  BOOST_REQUIRE(outcome.ending);
  BOOST_TEST(handler.body == "abcdef");
  BOOST_TEST(handler.pieces == 1u);
}

BOOST_AUTO_TEST_CASE(chunked_body_at_every_split)
{
  const std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
  for (const std::size_t piece_limit : { ResponseReader::piece_size, std::size_t{ 4 } }) {
    for_every_read_split(text, [&](const std::vector<std::string>& reads, const std::string& how) {
      Recorder handler;
      const Outcome outcome = read_all(reads, handler, boost::asio::error::eof, piece_limit);
      BOOST_REQUIRE_MESSAGE(outcome.ending, how << ": " << message_of(outcome));
      BOOST_TEST(outcome.ending->reusable);
      BOOST_TEST(handler.body == "hello world");
    });
  }
}

BOOST_AUTO_TEST_CASE(close_delimited_body_ends_at_the_close)
{
  const std::string text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it";
  for_every_read_split(text, [&](const std::vector<std::string>& reads, const std::string& how) {
    Recorder handler;
    const Outcome outcome = read_all(reads, handler);
    BOOST_REQUIRE_MESSAGE(outcome.ending, how << ": " << message_of(outcome));
    BOOST_TEST(!outcome.ending->reusable);
    BOOST_TEST(handler.body == "all of it");
  });
  // Over TLS, a close without close_notify ends it too.
  Recorder handler;
  const Outcome outcome = read_all({ text }, handler, boost::asio::ssl::error::stream_truncated);
  BOOST_REQUIRE_MESSAGE(outcome.ending, message_of(outcome));
  BOOST_TEST(outcome.ending->peer_closed);
  BOOST_TEST(!outcome.ending->reusable);
  BOOST_TEST(handler.body == "all of it");
}

BOOST_AUTO_TEST_CASE(interim_heads_are_skipped_at_every_split)
{
  const std::string text = "HTTP/1.1 100 Continue\r\n\r\n"
                           "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
                           "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  for_every_read_split(text, [&](const std::vector<std::string>& reads, const std::string& how) {
    Recorder handler;
    const Outcome outcome = read_all(reads, handler);
    BOOST_REQUIRE_MESSAGE(outcome.ending, how << ": " << message_of(outcome));
    BOOST_REQUIRE(handler.heads.size() == 1u);
    BOOST_TEST(handler.heads[0].status == 201);
    BOOST_TEST(handler.body == "ok");
    BOOST_TEST(outcome.log == (std::vector<std::string>{ "HTTP 100 Continue (interim response, skipped)",
                                                         "HTTP 103 Early Hints (interim response, skipped)" }),
               boost::test_tools::per_element());
  });
}

BOOST_AUTO_TEST_CASE(switching_protocols_is_refused)
{
  Recorder handler;
  const Outcome outcome = read_all({ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n" }, handler);
  BOOST_REQUIRE(outcome.error);
  BOOST_TEST((outcome.error->status() == ExitStatus::bad_response));
  BOOST_TEST(outcome.error->what() == "api.example.com:443 switched to another protocol (HTTP 101 Switching "
                                      "Protocols), which gptq did not ask for");
  BOOST_TEST(handler.heads.empty());
}

BOOST_AUTO_TEST_CASE(a_body_cut_short_is_incomplete_at_every_split)
{
  const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello";
  for_every_read_split(text, [&](const std::vector<std::string>& reads, const std::string& how) {
    Recorder handler;
    const Outcome outcome = read_all(reads, handler);
    BOOST_REQUIRE_MESSAGE(outcome.error, how);
    BOOST_TEST((outcome.error->status() == ExitStatus::bad_response));
    BOOST_TEST(outcome.error->phase() == "response");
    BOOST_TEST(outcome.error->what() ==
               "the response from api.example.com:443 is incomplete: partial message after 5 of 10 bytes");
    BOOST_TEST(handler.body == "hello");
  });
  Recorder handler;
  const Outcome reset = read_all({ text }, handler, boost::asio::error::connection_reset);
  BOOST_REQUIRE(reset.error);
  BOOST_TEST(reset.error->what() ==
             "the response from api.example.com:443 is incomplete: the connection closed after 5 of 10 bytes");
  BOOST_TEST((reset.error->kind() == FailureKind::bad_response));
}

BOOST_AUTO_TEST_CASE(a_chunked_body_cut_short_is_incomplete)
{
  Recorder handler;
  const Outcome outcome =
    read_all({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel" }, handler, boost::asio::error::eof);
  BOOST_REQUIRE(outcome.error);
  BOOST_TEST(outcome.error->what() == "the response from api.example.com:443 is incomplete: partial message");
  BOOST_TEST(handler.body == "hel");
}

BOOST_AUTO_TEST_CASE(no_response_and_bad_heads)
{
  struct Case {
    std::string input;
    const char* message;
  };
  const Case cases[] = {
    { "", "api.example.com:443 closed the connection without a response" },
    { "SSH-2.0-OpenSSH_9.2\r\n\r\n",
      "the response from api.example.com:443 is not HTTP/1.x: its status line is \"SSH-2.0-OpenSSH_9.2\"" },
    { "HTTP/1.1 200 OK\r\nContent-Le",
      "the response from api.example.com:443 ended in its head: the connection closed" },
    { "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "the response from api.example.com:443 has two different Content-Length values" },
    { "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
      "the response from api.example.com:443 has an invalid Content-Length (not a number, or beside "
      "Transfer-Encoding)" },
  };
  for (const auto& c : cases) {
    Recorder handler;
    const Outcome outcome = read_all({ c.input }, handler);
    BOOST_REQUIRE_MESSAGE(outcome.error, c.input);
    BOOST_TEST(outcome.error->what() == c.message, c.input);
    BOOST_TEST((outcome.error->kind() == (c.input.empty() ? FailureKind::network : FailureKind::bad_response)),
               c.input);
    BOOST_TEST(handler.heads.empty());
  }
}

BOOST_AUTO_TEST_CASE(heads_are_limited_to_64_kib_interim_ones_included)
{
  const std::string filler = "X-Filler: " + std::string(1000, 'x') + "\r\n";
  std::string big = "HTTP/1.1 200 OK\r\n";
  while (big.size() < ResponseReader::head_limit) {
    big += filler;
  }
  Recorder handler;
  Outcome outcome = read_all({ big + "\r\n" }, handler);
  BOOST_REQUIRE(outcome.error);
  BOOST_TEST(outcome.error->what() == "the response from api.example.com:443 has a head larger than 64 KiB");

  // Each interim head fits alone; together with the final one they do not.
  std::string interim = "HTTP/1.1 103 Early Hints\r\n";
  while (interim.size() < ResponseReader::head_limit * 3 / 4) {
    interim += filler;
  }
  std::string final_head = "HTTP/1.1 200 OK\r\n";
  while (final_head.size() < ResponseReader::head_limit / 2) {
    final_head += filler;
  }
  outcome = read_all({ interim + "\r\n", final_head + "Content-Length: 0\r\n\r\n" }, handler);
  BOOST_REQUIRE(outcome.error);
  BOOST_TEST(outcome.error->what() ==
             "the response from api.example.com:443 has a head larger than 64 KiB (with its interim responses)");
}

BOOST_AUTO_TEST_CASE(wants_more_stops_reading_early_at_every_split)
{
  const std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n6\r\n world\r\n";
  for_every_read_split(text, [&](const std::vector<std::string>& reads, const std::string& how) {
    Recorder handler;
    handler.stop_after = 5;
    // No end of the body, and no close: the reader must stop by itself.
    const Outcome outcome = read_all(reads, handler, boost::asio::error::timed_out);
    BOOST_REQUIRE_MESSAGE(outcome.ending, how << ": " << message_of(outcome));
    BOOST_TEST(!outcome.ending->reusable);
    BOOST_TEST(handler.body.substr(0, 5) == "hello");
  });
  // With small pieces, no piece is handed on once the handler is done.
  Recorder handler;
  handler.stop_after = 2;
  const Outcome outcome = read_all({ text }, handler, boost::asio::error::timed_out, 2);
  BOOST_REQUIRE(outcome.ending);
  BOOST_TEST(handler.body == "he");
}

BOOST_AUTO_TEST_SUITE_END()
