#include "input.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

#include <chrono>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace gptq;
using gptq::test::failure_of;
using gptq::test::TempFile;

BOOST_AUTO_TEST_SUITE(input)

namespace {

// Text of `size` bytes that differs at every offset, so that a view that is
// off by a few bytes does not compare equal.
std::string varied(std::size_t size)
{
  std::string text(size, ' ');
  for (std::size_t i = 0; i < size; ++i) {
    text[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
  }
  return text;
}

InputText read(int fd)
{
  return read_all_input(fd, "stdin", prompt_limit, std::chrono::milliseconds(1000), [] {});
}

} // namespace

// A large regular file is mapped, not read: its text from the descriptor's
// offset (not a page boundary here), and the offset ends at the end, as if
// read, so that a script can go on reading the same file.
BOOST_AUTO_TEST_CASE(large_file_is_all_there_from_its_offset_and_consumed)
{
  const std::string text = varied(3 << 20);
  for (const off_t at : { off_t{ 0 }, off_t{ 4096 }, off_t{ 5001 } }) {
    TempFile file(text);
    BOOST_TEST_REQUIRE(lseek(file.fd(), at, SEEK_SET) == at);
    const InputText input = read(file.fd());
    BOOST_TEST(input.view().size() == text.size() - static_cast<std::size_t>(at));
    BOOST_TEST((input.view() == std::string_view(text).substr(static_cast<std::size_t>(at))), "offset " << at);
    BOOST_TEST(lseek(file.fd(), 0, SEEK_CUR) == static_cast<off_t>(text.size()));
  }
}

BOOST_AUTO_TEST_CASE(input_over_its_limit_is_refused_naming_it)
{
  constexpr InputLimit small{ 10, "10 bytes" };
  TempFile file("0123456789X");
  const auto f = failure_of([&] { read_all_input(file.fd(), "stdin", small, std::chrono::milliseconds(1000), [] {}); });
  BOOST_TEST(f.status == 2);
  BOOST_TEST(f.phase == "stdin");
  BOOST_TEST(f.message == "more than the limit of 10 bytes");
  const int zero = ::open("/dev/zero", O_RDONLY);
  BOOST_CHECK_THROW(read_all_input(zero, "stdin", small, std::chrono::milliseconds(1000), [] {}), Error);
  ::close(zero);
  TempFile fits("0123456789");
  BOOST_TEST(
    (read_all_input(fits.fd(), "stdin", small, std::chrono::milliseconds(1000), [] {}).view() == "0123456789"));
}

BOOST_AUTO_TEST_CASE(user_file_is_read_whole_within_its_limit)
{
  const std::string text = varied(200000);
  TempFile file(text);
  BOOST_TEST((read_user_file(file.path(), "--file", prompt_limit) == text));
  BOOST_TEST(read_user_file("/dev/null", "--config", settings_limit).empty());
}

BOOST_AUTO_TEST_CASE(user_file_over_its_limit_or_endless_is_refused)
{
  constexpr InputLimit small{ 100000, "100000 bytes" };
  TempFile file(varied(100001));
  const auto message = [&](const std::string& path) {
    const auto f = gptq::test::error_of([&] { read_user_file(path, "--schema", small); });
    if (!f.thrown) {
      return std::string("no error");
    }
    BOOST_TEST(f.status == 2);
    BOOST_TEST(f.phase == "--schema");
    return f.message;
  };
  BOOST_TEST(message(file.path()) == "'" + file.path() + "' is larger than the limit of 100000 bytes");
  BOOST_TEST(message("/dev/zero") == "'/dev/zero' is a device that never ends, not a file");
  // A pipe that never ends: read up to the limit.
  std::FILE* endless = popen("yes", "r");
  BOOST_TEST_REQUIRE(endless != nullptr);
  const std::string pipe_path = "/dev/fd/" + std::to_string(fileno(endless));
  BOOST_TEST(message(pipe_path) == "'" + pipe_path + "' did not end within the limit of 100000 bytes");
  pclose(endless);
  BOOST_TEST(message("/tmp") == "'/tmp' is a directory, not a file");
  BOOST_TEST(message("/nonexistent/a\nb") == "cannot read '/nonexistent/a\\nb': No such file or directory");
}

BOOST_AUTO_TEST_CASE(small_file_and_pipe_are_read)
{
  const std::string text = varied(1000);
  TempFile file(text);
  BOOST_TEST((read(file.fd()).view() == text));

  int ends[2];
  BOOST_TEST_REQUIRE(pipe(ends) == 0);
  BOOST_TEST_REQUIRE(::write(ends[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(ends[1]);
  BOOST_TEST((read(ends[0]).view() == text));
  ::close(ends[0]);
}

// A moved InputText keeps its text, short (kept inside the std::string),
// long, or mapped; reset() frees it.
BOOST_AUTO_TEST_CASE(moved_and_reset_input_text)
{
  for (const std::string& text : { std::string("short"), varied(5000) }) {
    InputText a(text);
    InputText b(std::move(a));
    BOOST_TEST((b.view() == text));
    BOOST_TEST(a.view().empty());
    InputText c;
    c = std::move(b);
    BOOST_TEST((c.view() == text));
    c.reset();
    BOOST_TEST(c.view().empty());
  }
  const std::string big = varied(2 << 20);
  TempFile file(big);
  InputText mapped = read(file.fd());
  InputText moved(std::move(mapped));
  BOOST_TEST((moved.view() == big));
  BOOST_TEST(mapped.view().empty());
}

#if !defined(__SANITIZE_ADDRESS__)
// A mapped file cut short under gptq: its pages are gone and reading them
// raises SIGBUS, which must end gptq with its one-line error and status 2,
// not a crash. (Not under ASan, whose own SIGBUS handler would report it.)
BOOST_AUTO_TEST_CASE(a_mapped_file_that_shrinks_ends_with_a_clear_error)
{
  // Two files mapped at once (stdin and a -C thread): the message names the
  // one that shrank.
  for (const bool second : { false, true }) {
    TempFile first(varied(3 << 20));
    TempFile other(varied(3 << 20));
    int err[2];
    BOOST_TEST_REQUIRE(pipe(err) == 0);
    const pid_t child = fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
      dup2(err[1], 2);
      const InputText input = read(first.fd());
      const InputText thread =
        read_all_input(other.fd(), "--thread \"t.thread\"", thread_limit, std::chrono::milliseconds(1000), [] {});
      if (truncate((second ? other : first).path().c_str(), 0) != 0) {
        _exit(90);
      }
      volatile char c = (second ? thread : input).view()[2 << 20];
      (void)c;
      _exit(91);
    }
    ::close(err[1]);
    std::string message;
    char buffer[256];
    for (ssize_t n; (n = ::read(err[0], buffer, sizeof buffer)) > 0;) {
      message.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(err[0]);
    int status = 0;
    BOOST_TEST_REQUIRE(waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 2);
    const std::string says = second ? "gptq: --thread \"t.thread\": the file shrank" : "gptq: stdin: the file shrank";
    BOOST_TEST(message.starts_with(says), message);
    BOOST_TEST(std::count(message.begin(), message.end(), '\n') == 1);
  }
}
#endif

BOOST_AUTO_TEST_SUITE_END()
