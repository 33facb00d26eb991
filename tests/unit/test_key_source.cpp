#include "key_source.hpp"

#include "fake_environment.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>

using namespace gptq;
using gptq::test::env_of;
using gptq::test::error_of;
using gptq::test::failure_of;
using gptq::test::TempFile;

namespace {

} // namespace

BOOST_AUTO_TEST_SUITE(key_source)

BOOST_AUTO_TEST_CASE(from_the_named_variable)
{
  std::ostringstream warnings;
  KeySource s;
  BOOST_TEST(read_api_key(s, env_of({ { "OPENAI_API_KEY", " sk-a\n" } }), warnings).value_or("") == "sk-a");
  s.env_name = "OTHER";
  BOOST_TEST(read_api_key(s, env_of({ { "OTHER", "sk-b" }, { "OPENAI_API_KEY", "sk-a" } }), warnings).value_or("") ==
             "sk-b");
  BOOST_TEST(!read_api_key(s, env_of({}), warnings).has_value());
  BOOST_TEST(warnings.str().empty());
}

BOOST_AUTO_TEST_CASE(from_the_first_line_of_a_file_warning_when_others_can_read_it)
{
  std::ostringstream warnings;
  KeySource s;
  s.origin = "profile p";
  {
    const TempFile private_file("sk-file\nsecond line\n", 0600);
    s.file = private_file.path();
    BOOST_TEST(read_api_key(s, env_of({}), warnings).value_or("") == "sk-file");
    BOOST_TEST(warnings.str().empty());
  }
  {
    const TempFile shared_file("sk-file\n", 0644);
    s.file = shared_file.path();
    BOOST_TEST(read_api_key(s, env_of({}), warnings).value_or("") == "sk-file");
    BOOST_TEST(warnings.str().find("readable by others") != std::string::npos);
    BOOST_TEST(warnings.str().find("sk-file") == std::string::npos);
  }
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
  const auto f = failure_of([&] { read_api_key(s, env_of({}), warnings); });
  BOOST_TEST(f.status == 3);
  BOOST_TEST(f.message.find("failed with status 4: vault is locked") != std::string::npos, f.message);
}

// The message of the auth error read_api_key throws for `s`, or "no error".
std::string key_error(const KeySource& s, const KeyCommandLimit& limit = {})
{
  std::ostringstream warnings;
  const auto f = error_of([&] { read_api_key(s, env_of({}), warnings, limit); });
  if (!f.thrown) {
    return "no error";
  }
  BOOST_TEST(f.status == 3);
  return f.line();
}

BOOST_AUTO_TEST_CASE(command_is_read_when_it_exits_not_when_its_output_closes)
{
  std::ostringstream warnings;
  KeySource s;
  s.origin = "profile p";
  s.command = "sleep 30 & echo sk-first";
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(read_api_key(s, env_of({}), warnings).value_or("") == "sk-first");
  // Not a timing test: only that the 30 s child was not waited for.
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(25)));
}

BOOST_AUTO_TEST_CASE(command_past_its_time_limit_is_stopped_naming_the_limit_and_origin)
{
  KeySource s;
  s.origin = "profile p";
  s.defined_at = "config /home/u/.config/gptq/config:7 [profile.p]";
  s.command = "sleep 30";
  const std::string message = key_error(s, { std::chrono::milliseconds(300), "--timeout" });
  BOOST_TEST(message ==
               "api_key_cmd of profile p (config /home/u/.config/gptq/config:7 [profile.p]): 'sleep 30' did not "
               "finish within "
               "0.3 s (--timeout), so gptq stopped it",
             message);
}

BOOST_AUTO_TEST_CASE(command_that_prints_without_end_is_stopped)
{
  KeySource s;
  s.origin = "profile p";
  s.command = "yes";
  BOOST_TEST(key_error(s).find("'yes' printed more than the limit of 64 KiB, so gptq stopped it") != std::string::npos,
             key_error(s));
}

BOOST_AUTO_TEST_CASE(key_file_that_is_a_device_is_refused)
{
  KeySource s;
  s.origin = "profile p";
  s.file = "/dev/zero";
  BOOST_TEST(key_error(s) == "api_key_file of profile p: '/dev/zero' is a device that never ends, not a file");
}

BOOST_AUTO_TEST_CASE(key_that_cannot_be_a_header_is_refused_without_echo)
{
  std::ostringstream warnings;
  KeySource s;
  s.command = "printf 'sk bad key'";
  s.origin = "profile p";
  const auto f = failure_of([&] { read_api_key(s, env_of({}), warnings); });
  BOOST_TEST(f.message.find("sk bad") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
