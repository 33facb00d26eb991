#include "key_source.hpp"

#include "fake_environment.hpp"

#include "error.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

using namespace gptq;
using gptq::test::env_of;

namespace {

std::string temp_file(const std::string& content, mode_t mode)
{
  char path[] = "/tmp/gptq-key-XXXXXX";
  const int fd = mkstemp(path);
  BOOST_TEST_REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << content;
  chmod(path, mode);
  return path;
}

} // namespace

BOOST_AUTO_TEST_SUITE(key_source)

BOOST_AUTO_TEST_CASE(from_the_named_variable)
{
  std::ostringstream warnings;
  KeySource s;
  BOOST_TEST(read_api_key(s, env_of({{"OPENAI_API_KEY", " sk-a\n"}}), warnings).value_or("") == "sk-a");
  s.env_name = "OTHER";
  BOOST_TEST(read_api_key(s, env_of({{"OTHER", "sk-b"}, {"OPENAI_API_KEY", "sk-a"}}), warnings).value_or("") == "sk-b");
  BOOST_TEST(!read_api_key(s, env_of({}), warnings).has_value());
  BOOST_TEST(warnings.str().empty());
}

BOOST_AUTO_TEST_CASE(from_the_first_line_of_a_file_warning_when_others_can_read_it)
{
  std::ostringstream warnings;
  KeySource s;
  s.origin = "profile p";
  s.file = temp_file("sk-file\nsecond line\n", 0600);
  BOOST_TEST(read_api_key(s, env_of({}), warnings).value_or("") == "sk-file");
  BOOST_TEST(warnings.str().empty());
  std::remove(s.file->c_str());
  s.file = temp_file("sk-file\n", 0644);
  BOOST_TEST(read_api_key(s, env_of({}), warnings).value_or("") == "sk-file");
  BOOST_TEST(warnings.str().find("readable by others") != std::string::npos);
  BOOST_TEST(warnings.str().find("sk-file") == std::string::npos);
  std::remove(s.file->c_str());
  s.file = "/nonexistent/key";
  BOOST_CHECK_THROW(read_api_key(s, env_of({}), warnings), Error);
}

BOOST_AUTO_TEST_CASE(from_a_command)
{
  std::ostringstream warnings;
  KeySource s;
  s.origin = "profile p";
  s.command = "echo sk-cmd; echo second; echo noise >&2";
  BOOST_TEST(read_api_key(s, env_of({}), warnings).value_or("") == "sk-cmd");
}

BOOST_AUTO_TEST_CASE(failing_command_is_an_auth_error_showing_its_stderr)
{
  std::ostringstream warnings;
  KeySource s;
  s.origin = "profile p";
  s.command = "echo 'vault is locked' >&2; exit 4";
  try {
    read_api_key(s, env_of({}), warnings);
    BOOST_ERROR("no error");
  } catch (const Error& e) {
    BOOST_TEST(static_cast<int>(e.status()) == 3);
    BOOST_TEST(std::string(e.what()).find("failed with status 4: vault is locked") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(key_that_cannot_be_a_header_is_refused_without_echo)
{
  std::ostringstream warnings;
  KeySource s;
  s.command = "printf 'sk bad key'";
  s.origin = "profile p";
  try {
    read_api_key(s, env_of({}), warnings);
    BOOST_ERROR("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("sk bad") == std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
