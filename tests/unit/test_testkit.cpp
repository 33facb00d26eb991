// The shared test helpers (testkit.hpp) do what the tests rely on.

#include "testkit.hpp"

#include "exit_status.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace gptq;
using namespace gptq::test;

BOOST_AUTO_TEST_SUITE(testkit)

BOOST_AUTO_TEST_CASE(error_of_gives_the_status_phase_and_message_thrown)
{
  const Failure f = error_of([] { throw Error(ExitStatus::usage, "--model", "needs a value"); });
  BOOST_TEST(f.thrown);
  BOOST_TEST(f.status == 2);
  BOOST_TEST(f.phase == "--model");
  BOOST_TEST(f.message == "needs a value");
  BOOST_TEST(f.line() == "--model: needs a value");
  BOOST_TEST(!error_of([] {}).thrown);
  BOOST_CHECK_THROW(error_of([] { throw std::runtime_error("other"); }), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(error_line_checks_the_status)
{
  BOOST_TEST(error_line([] { throw Error(ExitStatus::usage, "p", "m"); }, 2) == "p: m");
}

BOOST_AUTO_TEST_CASE(pieces_cut_at_the_offsets_join_to_the_text)
{
  using Pieces = std::vector<std::string_view>;
  BOOST_TEST(pieces_cut_at("abc", {}) == (Pieces{ "abc" }));
  BOOST_TEST(pieces_cut_at("abc", { 0 }) == (Pieces{ "", "abc" }));
  BOOST_TEST(pieces_cut_at("abc", { 1, 1, 3 }) == (Pieces{ "a", "", "bc", "" }));
}

BOOST_AUTO_TEST_CASE(every_split_is_whole_each_offset_each_pair_and_each_byte)
{
  std::vector<std::vector<std::size_t>> seen;
  std::set<std::string> hows;
  for_every_split("ab", [&](const std::vector<std::size_t>& cuts, const std::string& how) {
    seen.push_back(cuts);
    hows.insert(how);
  });
  const std::vector<std::vector<std::size_t>> expected{ {},       { 0 },    { 0, 0 }, { 0, 1 }, { 0, 2 }, { 1 },
                                                        { 1, 1 }, { 1, 2 }, { 2 },    { 2, 2 }, { 1 } };
  BOOST_TEST((seen == expected));
  BOOST_TEST(hows.count("whole") == 1);
  BOOST_TEST(hows.count("cut at 1 and 2") == 1);
  BOOST_TEST(hows.count("one byte at a time") == 1);

  std::size_t calls = 0;
  for_every_split(
    "abc", [&](const std::vector<std::size_t>&, const std::string&) { ++calls; }, 2);
  BOOST_TEST(calls == 1 + 4 + 1, "no pairs past the limit");
}

BOOST_AUTO_TEST_CASE(temp_file_holds_the_text_and_goes_with_its_owner)
{
  std::string path;
  {
    const TempFile file("hello", 0640);
    path = file.path();
    char buffer[8] = {};
    BOOST_TEST(::read(file.fd(), buffer, sizeof buffer) == 5);
    BOOST_TEST(std::string(buffer) == "hello");
    BOOST_TEST(::write(file.fd(), " you", 4) == 4);
    BOOST_TEST(file.contents() == "hello you");
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0640u);
  }
  BOOST_TEST(::access(path.c_str(), F_OK) != 0, "removed");
}

BOOST_AUTO_TEST_SUITE_END()
