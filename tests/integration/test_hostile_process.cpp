// The process around a request, made hostile: files and key commands that
// never end or never finish, a closed stdout, the signals `timeout` and a
// closed terminal send, and user input that would break the one-line rule
// of error messages.

#include "harness.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <thread>

#include <unistd.h>

namespace data = boost::unit_test::data;
namespace fs = std::filesystem;
using namespace gptq::it;
using std::chrono::milliseconds;

namespace {

// Well within the run limit, so that a run that was killed means a hang.
constexpr milliseconds hang_limit{ 20000 };

// A fresh directory for one test's files.
std::string test_dir(const std::string& name)
{
  const std::string dir = scratch_dir() + "/hostile_process/" + name;
  fs::create_directories(dir);
  return dir;
}

// A file only its owner can read, as a user's config would be.
std::string private_file(const std::string& path, const std::string& content)
{
  return write_file(path, content, fs::perms(0600));
}

// A config file holding [profile.p] with `api_key_cmd = COMMAND` on line 2.
std::string key_command_config(const std::string& name, const std::string& command)
{
  return private_file(test_dir(name) + "/config", "[profile.p]\napi_key_cmd = " + command + "\n");
}

RunResult run_limited(const std::vector<std::string>& args, const Env& env = key_env())
{
  std::vector<std::string> argv{ GPTQ_BIN };
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, env, StdinSpec::dev_null(), hang_limit);
}

// No control character (a line break, ESC) anywhere in `text` but its
// final newline.
bool no_control_characters_but_the_end(const std::string& text)
{
  return std::none_of(text.begin(), text.end() - (text.empty() ? 0 : 1), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

struct EndlessFile {
  std::string name;
  std::vector<std::string> args;
};

std::ostream& operator<<(std::ostream& out, const EndlessFile& c)
{
  return out << c.name;
}

const EndlessFile endless_files[] = {
  { "--file", { "-f", "/dev/zero", "hello" } },
  { "--config", { "--config", "/dev/zero", "hello" } },
  { "--schema", { "--schema", "/dev/zero", "hello" } },
  { "--resume", { "-L", "--resume", "/dev/zero" } },
};

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_process)

BOOST_DATA_TEST_CASE(device_that_never_ends_is_refused_unread, data::make(endless_files), c)
{
  std::vector<std::string> args{ "--base-url", http_url("echo") };
  args.insert(args.end(), c.args.begin(), c.args.end());
  check_failure(run_limited(args), 2, { c.name, "'/dev/zero'", "never ends" });
}

BOOST_AUTO_TEST_CASE(stdin_from_a_device_that_never_ends_is_refused)
{
  const RunResult r =
    run({ GPTQ_BIN, "--base-url", http_url("echo"), "hello" }, key_env(), StdinSpec::file("/dev/zero"), hang_limit);
  check_failure(r, 2, { "stdin", "never ends" });
}

BOOST_AUTO_TEST_CASE(pipe_that_never_ends_is_refused_at_its_limit)
{
  for (const std::string option : { "--config", "--schema" }) {
    const std::string command =
      std::string("'") + GPTQ_BIN + "' --base-url '" + http_url("echo") + "' " + option + " <(yes) --no-stdin hello";
    const RunResult r = run({ "/bin/bash", "-c", command }, key_env(), StdinSpec::dev_null(), hang_limit);
    check_failure(r, 2, { option, "/dev/fd/", "did not end within the limit of 4 MiB" });
  }
}

BOOST_AUTO_TEST_CASE(regular_file_over_its_limit_is_refused_unread)
{
  // Sparse: a size on paper, no disk and nothing worth reading.
  const std::string dir = test_dir("sparse");
  const std::string big = dir + "/big";
  fs::resize_file(private_file(big, ""), std::uintmax_t{ 2 } << 30);
  check_failure(run_limited({ "--base-url", http_url("echo"), "-f", big, "hello" }), 2, { "--file", big, "limit" });
  check_failure(run_limited({ "--base-url", http_url("echo"), "--schema", big, "hello" }), 2, { "--schema", "limit" });
  check_failure(
    run_limited({ "--base-url", http_url("echo"), "--config", big, "hello" }), 2, { "--config", big, "limit" });
  check_failure(run_limited({ "--base-url", http_url("echo"), "-L", "--resume", big }), 2, { "--resume", "1 GiB" });
}

BOOST_AUTO_TEST_CASE(fifo_and_process_substitution_still_work_as_files)
{
  const std::string dir = test_dir("fifo");
  const std::string command = std::string("'") + GPTQ_BIN + "' --base-url '" + http_url("echo") +
                              "' --no-stdin -f <(printf 'from a pipe') quoted";
  const RunResult r = run({ "/bin/bash", "-c", command }, key_env(), StdinSpec::dev_null(), hang_limit);
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(contains(r.out, "from a pipe"), r.describe());
}

BOOST_AUTO_TEST_CASE(key_command_that_prints_without_end_is_stopped)
{
  const std::string config = key_command_config("endless", "yes sk-endless");
  const RunResult r = run_limited({ "--config", config, "--profile", "p", "--base-url", http_url("echo"), "hi" });
  check_failure(r, 3, { "api_key_cmd", "64 KiB", config + ":2" });
}

BOOST_AUTO_TEST_CASE(key_command_leaving_a_background_child_is_read_when_it_exits)
{
  // The child keeps the command's stdout open for 30 s; the key is the
  // command's, and gptq does not wait for the child.
  const std::string config = key_command_config("background", "sleep 30 & echo sk-background-key");
  const RunResult r = run_limited({ "--config", config, "--profile", "p", "--base-url", http_url("echo"), "hi" });
  check_success(r, "hi\n");
}

BOOST_AUTO_TEST_CASE(key_command_that_never_finishes_is_stopped_at_the_connect_timeout)
{
  const std::string config = key_command_config("slow", "sleep 100");
  const RunResult r = run_limited(
    { "--config", config, "--profile", "p", "--connect-timeout", "1", "--base-url", http_url("echo"), "hi" });
  check_failure(r, 3, { "api_key_cmd", "'sleep 100'", "1 s", "--connect-timeout", config + ":2", "[profile.p]" });
}

BOOST_AUTO_TEST_CASE(key_command_is_bounded_by_timeout_when_given)
{
  const std::string config = key_command_config("slow-total", "sleep 100");
  const RunResult r =
    run_limited({ "--config", config, "--profile", "p", "--timeout", "1", "--base-url", http_url("echo"), "hi" });
  check_failure(r, 3, { "api_key_cmd", "1 s", "--timeout" });
}

BOOST_AUTO_TEST_CASE(closed_stdout_is_reported_and_nothing_is_sent)
{
  const std::string key = fresh_key("stdout");
  const RunResult r = run({ "/bin/sh",
                            "-c",
                            "exec \"$0\" \"$@\" >&-",
                            GPTQ_BIN,
                            "--base-url",
                            http_url("counted/" + key + "/echo"),
                            "--no-stdin",
                            "hello" },
                          key_env(),
                          StdinSpec::dev_null(),
                          hang_limit);
  check_failure(r, 1, { "stdout is closed" });
  BOOST_TEST(http_get_body("/attempts/" + key) == "{\"attempts\":0}");
}

BOOST_AUTO_TEST_CASE(closed_stderr_and_stdin_do_not_stop_a_reply)
{
  const RunResult r =
    run({ "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&- <&-", GPTQ_BIN, "--base-url", http_url("echo"), "hello" },
        key_env(),
        StdinSpec::dev_null(),
        hang_limit);
  check_success(r, "hello\n");
}

struct Termination {
  int signal;
  int code;
};

std::ostream& operator<<(std::ostream& out, const Termination& t)
{
  return out << "signal " << t.signal;
}

const Termination terminations[] = { { SIGTERM, 143 }, { SIGHUP, 129 } };

BOOST_DATA_TEST_CASE(termination_keeps_what_was_printed_and_ends_the_line, data::make(terminations), ending)
{
  const RunResult r = run_gptq_https_watched(
    "sse-delay/2000",
    { "--no-stdin", "abcdefghijklmnop" },
    [&](const std::string&, int pid) { kill(pid, ending.signal); },
    hang_limit);
  BOOST_TEST(r.exit_code == ending.code, r.describe());
  BOOST_TEST_REQUIRE(r.out.size() >= 2u, r.describe());
  BOOST_TEST(r.out.back() == '\n');
  BOOST_TEST(starts_with("abcdefghijklmnop", r.out.substr(0, r.out.size() - 1)), r.describe());
  BOOST_TEST(r.err == "", r.describe());
}

BOOST_DATA_TEST_CASE(termination_in_batch_mode_leaves_whole_results, data::make(terminations), ending)
{
  // Lines of 300 ms each, one at a time: the signal comes after the first
  // result, long before the last.
  std::string lines;
  for (int i = 1; i <= 12; ++i) {
    lines += "line " + std::to_string(i) + " sleep=300\n";
  }
  bool sent = false;
  const RunResult r = run({ GPTQ_BIN,
                            "--base-url",
                            https_url("batch/" + fresh_key("batch-signal")),
                            "--cacert",
                            cert("ca.pem"),
                            "-L",
                            "-j",
                            "1" },
                          key_env(),
                          StdinSpec::of(lines),
                          hang_limit,
                          {},
                          [&](const std::string& out, int pid) {
                            if (!sent && out.find('\n') != std::string::npos) {
                              sent = true;
                              // Not the instant the record is readable: a
                              // signal delivered as its write returns finds
                              // the line still marked open (output.cpp) and
                              // ends it once more.
                              std::this_thread::sleep_for(milliseconds(100));
                              kill(pid, ending.signal);
                            }
                          });
  BOOST_TEST_REQUIRE(sent, r.describe());
  BOOST_TEST(r.exit_code == ending.code, r.describe());
  BOOST_TEST(starts_with(lines, r.out), r.describe());
  BOOST_TEST(r.out.back() == '\n', r.describe());
  BOOST_TEST(r.out.size() < lines.size(), r.describe());
}

BOOST_AUTO_TEST_CASE(role_system_text_with_invalid_utf8_names_its_config_line)
{
  const std::string dir = test_dir("role-utf8");
  const std::string config = private_file(dir + "/config", "[role.ok]\nsystem = fine\n[role.bad]\nsystem = caf\xE9\n");
  check_failure(run_limited({ "--config", config, "--role", "bad", "--base-url", http_url("echo"), "hi" }),
                2,
                { config + ":4", "UTF-8" });
}

BOOST_AUTO_TEST_CASE(role_system_file_with_invalid_utf8_names_the_file_and_its_config_line)
{
  const std::string dir = test_dir("role-file-utf8");
  const std::string system = private_file(dir + "/system.txt", "Be brief.\n\xFF\xFE\n");
  const std::string config = private_file(dir + "/config", "[role.bad]\nsystem_file = " + system + "\n");
  check_failure(run_limited({ "--config", config, "--role", "bad", "--base-url", http_url("echo"), "hi" }),
                2,
                { config + ":2", "'" + system + "'", "UTF-8", "byte 10" });
}

struct HostileValue {
  std::string name;
  std::vector<std::string> args;
  std::string shown; // how the message shows the value, escaped
};

std::ostream& operator<<(std::ostream& out, const HostileValue& c)
{
  return out << c.name;
}

const HostileValue hostile_values[] = {
  { "file path with a newline", { "-f", "/nonexistent/a\nb", "hi" }, "'/nonexistent/a\\nb'" },
  { "file path with ESC", { "-f", "/nonexistent/\x1B[31mred", "hi" }, "'/nonexistent/\\x1B[31mred'" },
  { "schema path with a newline", { "--schema", "/nonexistent/s\nx", "hi" }, "'/nonexistent/s\\nx'" },
  { "config path with a newline", { "--config", "/nonexistent/c\nx", "hi" }, "'/nonexistent/c\\nx'" },
  { "resume path with a tab", { "-L", "--resume", "/nonexistent/r\tx" }, "'/nonexistent/r\\tx'" },
  { "URL with a newline", { "--base-url", "http://exa\nmple.com/v1", "hi" }, "'http://exa\\nmple.com/v1'" },
  { "URL with ESC", { "--base-url", "ftp://\x1B]0;title\x07", "hi" }, "\\x1B]0;title\\x07" },
  { "number with a newline", { "--temperature", "1\n2", "hi" }, "'1\\n2'" },
  { "cacert path with a newline",
    { "--base-url", "https://127.0.0.1:9/v1", "--cacert", "/nonexistent/k\ny", "hi" },
    "'/nonexistent/k\\ny'" },
};

BOOST_DATA_TEST_CASE(user_input_in_an_error_is_one_line_with_controls_escaped, data::make(hostile_values), c)
{
  const RunResult r = run_limited(c.args);
  check_failure(r, 2, { c.shown });
  BOOST_TEST(no_control_characters_but_the_end(r.err), r.describe());
}

BOOST_AUTO_TEST_SUITE_END()
