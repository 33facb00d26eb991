#pragma once

// What many unit tests share: catching the gptq::Error a call throws,
// feeding an incremental parser its input cut at every offset, and
// temporary files. Tested in test_testkit.cpp.

#include "error.hpp"

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gptq::test {

// The gptq::Error a call threw, as the user would see it.
struct Failure {
  bool thrown = false; // false when the call returned
  int status = -1;     // the exit status, as a number
  std::string phase;
  std::string message;

  // "phase: message", the line gptq prints after "gptq: ".
  std::string line() const { return phase + ": " + message; }
};

// Runs `f` and returns the gptq::Error it threw, or a Failure whose
// `thrown` is false when it threw none. Any other exception passes through.
template<typename F>
Failure error_of(F&& f)
{
  try {
    std::forward<F>(f)();
  } catch (const Error& e) {
    return { true, static_cast<int>(e.status()), e.phase(), e.what() };
  }
  return {};
}

// As error_of, and a call that throws no error fails the test (saying "no
// error" and `context`).
template<typename F>
Failure failure_of(F&& f, std::string_view context = {})
{
  Failure failure = error_of(std::forward<F>(f));
  if (!failure.thrown) {
    BOOST_ERROR("no error" << (context.empty() ? "" : " for: ") << context);
  }
  return failure;
}

// The "phase: message" of the gptq::Error `f` throws, checked to have exit
// status `status`; as failure_of, a call that throws none fails the test,
// and then this returns "".
template<typename F>
std::string error_line(F&& f, int status, std::string_view context = {})
{
  const Failure failure = failure_of(std::forward<F>(f), context);
  if (!failure.thrown) {
    return "";
  }
  BOOST_TEST(failure.status == status);
  return failure.line();
}

// `text` cut into pieces at the offsets in `cuts` (ascending, none past the
// end): one piece more than there are cuts, some of them maybe empty.
inline std::vector<std::string_view> pieces_cut_at(std::string_view text, const std::vector<std::size_t>& cuts)
{
  std::vector<std::string_view> pieces;
  std::size_t from = 0;
  for (const std::size_t cut : cuts) {
    pieces.push_back(text.substr(from, cut - from));
    from = cut;
  }
  pieces.push_back(text.substr(from));
  return pieces;
}

// Calls `check(cuts, how)` for every way of cutting `text` that an
// incremental parser must not notice: no cut ("whole"), each single offset
// ("cut at I"), each pair of offsets ("cut at I and J"; only when `text` is
// at most `pairs_up_to` bytes, as the pairs grow with its square) and
// between every byte ("one byte at a time"). `how` says which, for the
// test's message.
inline void for_every_split(
  std::string_view text,
  const std::function<void(const std::vector<std::size_t>& cuts, const std::string& how)>& check,
  std::size_t pairs_up_to = 200)
{
  check({}, "whole");
  for (std::size_t i = 0; i <= text.size(); ++i) {
    check({ i }, "cut at " + std::to_string(i));
    for (std::size_t j = i; j <= text.size() && text.size() <= pairs_up_to; ++j) {
      check({ i, j }, "cut at " + std::to_string(i) + " and " + std::to_string(j));
    }
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < text.size(); ++i) {
    every.push_back(i);
  }
  check(every, "one byte at a time");
}

// A file under /tmp holding `text` with permissions `mode`, and a
// descriptor open on it for reading and writing at offset 0; both closed
// and removed when the TempFile goes.
class TempFile {
public:
  explicit TempFile(std::string_view text = {}, mode_t mode = 0600)
  {
    char name[] = "/tmp/gptq-unit-XXXXXX";
    fd_ = ::mkstemp(name);
    BOOST_TEST_REQUIRE(fd_ >= 0);
    path_ = name;
    BOOST_TEST_REQUIRE(::write(fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    BOOST_TEST_REQUIRE(::lseek(fd_, 0, SEEK_SET) == 0);
    BOOST_TEST_REQUIRE(::fchmod(fd_, mode) == 0);
  }
  ~TempFile()
  {
    ::close(fd_);
    std::remove(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // What the file holds now, whatever was written through fd() or path().
  std::string contents() const
  {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

private:
  int fd_ = -1;
  std::string path_;
};

} // namespace gptq::test
