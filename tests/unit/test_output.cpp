#include "output.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace gptq;
using gptq::test::failure_of;

namespace {

// A socket pair of the SOCK_SEQPACKET kind: each write(2) to `in` is one
// message on `out`, so the messages read are the writes made.
struct Writes {
  int in = -1;
  int out = -1;

  Writes()
  {
    int fds[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == 0);
    in = fds[0];
    out = fds[1];
  }
  ~Writes()
  {
    ::close(in);
    if (out >= 0) {
      ::close(out);
    }
  }

  // The writes made since the last call, one string each.
  std::vector<std::string> take()
  {
    std::vector<std::string> writes;
    std::string buffer(1 << 20, '\0');
    for (;;) {
      const ssize_t n = ::recv(out, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) {
        return writes;
      }
      writes.emplace_back(buffer.data(), static_cast<std::size_t>(n));
    }
  }
};

using List = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(output)

BOOST_AUTO_TEST_CASE(each_piece_is_written_at_once_unless_held)
{
  Writes w;
  ReplyWriter out(w.in);
  BOOST_TEST(!out.started());
  out.write("a");
  out.write("");
  out.write("b");
  BOOST_TEST(w.take() == (List{ "a", "b" }));
  BOOST_TEST(out.started());
}

BOOST_AUTO_TEST_CASE(held_pieces_go_out_in_one_write_at_release)
{
  Writes w;
  ReplyWriter out(w.in);
  out.hold();
  out.write("one ");
  out.write("two ");
  out.write("three");
  BOOST_TEST(w.take().empty());
  BOOST_TEST(out.started(), "held text counts as started");
  out.release();
  BOOST_TEST(w.take() == (List{ "one two three" }));
  out.write("after");
  BOOST_TEST(w.take() == (List{ "after" }));
  out.release(); // nothing held: no write
  BOOST_TEST(w.take().empty());
}

BOOST_AUTO_TEST_CASE(flush_writes_what_is_held_and_goes_on_holding)
{
  Writes w;
  ReplyWriter out(w.in);
  out.hold();
  out.write("a");
  out.flush();
  BOOST_TEST(w.take() == (List{ "a" }));
  out.write("b");
  out.write("c");
  BOOST_TEST(w.take().empty());
  out.release();
  BOOST_TEST(w.take() == (List{ "bc" }));
}

BOOST_AUTO_TEST_CASE(finish_sees_the_held_text)
{
  Writes w;
  ReplyWriter out(w.in);
  out.write("line\n");
  out.hold();
  out.write("no newline");
  out.finish();
  out.release();
  BOOST_TEST(w.take() == (List{ "line\n", "no newline\n" }));

  out.hold();
  out.write("ends with one\n");
  out.finish();
  out.release();
  BOOST_TEST(w.take() == (List{ "ends with one\n" }));
}

namespace {

// The bytes a whole sequence of writes leaves in the file, joined.
std::string joined(const std::vector<std::string>& pieces, ReplyWriter::Ending ending)
{
  Writes w;
  ReplyWriter out(w.in, ending);
  for (const auto& piece : pieces) {
    out.write(piece);
  }
  out.finish();
  std::string all;
  for (const auto& write : w.take()) {
    all += write;
  }
  return all;
}

} // namespace

BOOST_AUTO_TEST_CASE(one_newline_drops_the_blank_lines_at_the_end)
{
  constexpr auto one = ReplyWriter::Ending::one_newline;
  BOOST_TEST(joined({ "text" }, one) == "text\n");
  BOOST_TEST(joined({ "text\n" }, one) == "text\n");
  BOOST_TEST(joined({ "text\n\n\n" }, one) == "text\n");
  BOOST_TEST(joined({ "te", "xt\n", "\n", "", "\n" }, one) == "text\n");
  BOOST_TEST(joined({ "crlf\r\n\r\n\r\n" }, one) == "crlf\r\n");
  BOOST_TEST(joined({ "crlf\r", "\n\r", "\n" }, one) == "crlf\r\n");
  BOOST_TEST(joined({ "\n\n" }, one) == "\n");
  BOOST_TEST(joined({}, one) == "\n");
}

BOOST_AUTO_TEST_CASE(one_newline_keeps_blank_lines_inside_the_text)
{
  constexpr auto one = ReplyWriter::Ending::one_newline;
  BOOST_TEST(joined({ "\n\nlead" }, one) == "\n\nlead\n");
  BOOST_TEST(joined({ "a\n\n", "\n", "b\n\n" }, one) == "a\n\n\nb\n");
  BOOST_TEST(joined({ "a\n", "\r\n", "b" }, one) == "a\n\r\nb\n");
}

BOOST_AUTO_TEST_CASE(keep_blank_lines_writes_the_text_as_it_is)
{
  constexpr auto keep = ReplyWriter::Ending::keep_blank_lines;
  BOOST_TEST(joined({ "a\n", "\n" }, keep) == "a\n\n");
  BOOST_TEST(joined({ "\n", "\n" }, keep) == "\n\n");
}

BOOST_AUTO_TEST_CASE(one_newline_writes_a_line_as_soon_as_it_ends)
{
  // A reader waiting for whole lines gets each at once; only the blank
  // lines after it wait for the text that follows them.
  Writes w;
  ReplyWriter out(w.in, ReplyWriter::Ending::one_newline);
  out.write("first\n\n");
  BOOST_TEST(w.take() == (List{ "first\n" }));
  out.write("\n");
  BOOST_TEST(w.take().empty());
  out.write("second");
  BOOST_TEST(w.take() == (List{ "\n\n", "second" }));
  out.finish();
  BOOST_TEST(w.take() == (List{ "\n" }));
}

BOOST_AUTO_TEST_CASE(a_failed_write_drops_what_was_held)
{
  const int read_only = ::open("/dev/null", O_RDONLY);
  BOOST_REQUIRE(read_only >= 0);
  ReplyWriter out(read_only);
  out.hold();
  out.write("lost");
  const auto f = failure_of([&] { out.release(); });
  BOOST_TEST(f.status == static_cast<int>(ExitStatus::internal));
  BOOST_TEST(f.message.starts_with("cannot write the reply: "));
  BOOST_TEST(!out.started(), "nothing reached the file");
  out.release(); // nothing is left to fail again
  ::close(read_only);
}

BOOST_AUTO_TEST_CASE(a_reader_gone_is_stdout_closed)
{
  Writes w;
  ::close(w.out);
  w.out = -1;
  const auto old = std::signal(SIGPIPE, SIG_IGN);
  ReplyWriter out(w.in);
  out.hold();
  out.write("nobody reads this");
  BOOST_TEST(failure_of([&] { out.release(); }).status == static_cast<int>(ExitStatus::stdout_closed));
  std::signal(SIGPIPE, old);
}

BOOST_AUTO_TEST_SUITE_END()
