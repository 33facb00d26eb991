// Successful runs: what reaches the server as the user message, and what
// comes back on stdout, byte for byte, over every way of framing a reply.

#include "harness.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <ostream>

namespace data = boost::unit_test::data;
using namespace gptq::it;

namespace {

// The echo server returns the user message unchanged: stdout is the message
// ending in exactly one newline: one is added if it has none, and the line
// ends after its first one at the end are dropped.
std::string echoed(const std::string& message)
{
  const auto last_text = message.find_last_not_of("\r\n");
  const auto run_start = last_text == std::string::npos ? 0 : last_text + 1;
  const auto first_newline = message.find('\n', run_start);
  return first_newline == std::string::npos ? message + "\n" : message.substr(0, first_newline + 1);
}

struct PassthroughCase {
  const char* name;
  std::string input;
};

std::ostream& operator<<(std::ostream& os, const PassthroughCase& c)
{
  return os << c.name;
}

const std::vector<PassthroughCase> passthrough_cases{
  { "plain_line", "hello\n" },
  { "no_final_newline", "hello" },
  { "tabs", "a\tb\t\tc\n" },
  { "quotes", "say \"hi\" and 'bye'\n" },
  { "backslashes", "C:\\path\\n \\u0041 \\\\\n" },
  { "json_lookalike", "{\"choices\":[]} </script> &amp;\n" },
  { "non_ascii", "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x8E\x89 \xE2\x80\x8B\n" },
  { "crlf", "line one\r\nline two\r\n" },
  { "crlf_no_final_newline", "line one\r\nline two" },
  { "two_final_newlines", "paragraph\n\n" },
  { "blank_lines_inside", "one\n\n\ntwo\n" },
  { "leading_and_trailing_spaces", "   indented   \n" },
  { "control_characters", std::string("bell\x07 esc\x1B[31m nul-free\x7F\n") },
  { "long_lines", std::string(2000, 'x') + "\n" + std::string(3000, 'y') },
};

} // namespace

BOOST_AUTO_TEST_SUITE(reply)

BOOST_AUTO_TEST_CASE(stdin_with_a_system_message_prints_the_reply_and_one_newline)
{
  check_success(run_gptq_https("echo", { "-s", "a pirate" }, StdinSpec::of("hello\n")), "hello\n");
  check_success(run_gptq_https("echo", { "-s", "a pirate" }, StdinSpec::of("hello")), "hello\n");
}

BOOST_AUTO_TEST_CASE(prompt_words_are_joined_by_single_spaces)
{
  check_success(run_gptq_https("echo", { "--no-stdin", "what", "is", "two plus  two" }), "what is two plus  two\n");
  check_success(run_gptq_https("echo", { "what", "is", "2+2?" }, StdinSpec::dev_null()), "what is 2+2?\n");
}

BOOST_AUTO_TEST_CASE(prompt_words_and_stdin_are_joined_by_a_blank_line)
{
  check_success(run_gptq_https("echo", { "summarise", "this" }, StdinSpec::of("the text\nsecond line\n")),
                "summarise this\n\nthe text\nsecond line\n");
}

// ... and says so on stderr (test_ux.cpp, empty_stdin).
BOOST_AUTO_TEST_CASE(empty_or_blank_stdin_leaves_just_the_prompt_words)
{
  for (const std::string input : { "", " \n\t\n" }) {
    const RunResult r = run_gptq_https("echo", { "only", "words" }, StdinSpec::of(input));
    BOOST_TEST(r.exit_code == 0, r.describe());
    BOOST_TEST(r.out == "only words\n", r.describe());
    BOOST_TEST(starts_with(r.err, "gptq: warning: stdin "), r.describe());
  }
}

BOOST_AUTO_TEST_CASE(stdin_from_a_file_is_read_whole)
{
  const std::string path = scratch_dir() + "/input.txt";
  std::string text;
  for (int i = 0; text.size() < 300000; ++i) {
    text += "file line " + std::to_string(i) + "\n";
  }
  std::ofstream(path, std::ios::binary) << text;
  check_success(run_gptq_https("echo", { "review" }, StdinSpec::file(path)), "review\n\n" + text);
}

// A file of 1 MiB or more is mapped rather than read: alone it is the whole
// message, and after PROMPT words it is copied; both byte for byte, streamed
// back or not, with multi-byte UTF-8 across every page boundary.
BOOST_AUTO_TEST_CASE(large_stdin_file_is_sent_byte_for_byte)
{
  const std::string path = scratch_dir() + "/large-input.txt";
  std::string text;
  // The sse mode streams the reply back 4 bytes an event: 3 MiB are 800,000
  // events, 17 s for 1.5 MiB under the sanitizers (run_limit_factor > 1) on
  // a loaded machine. There the file is only as large as being mapped needs.
  const std::size_t size = run_limit_factor > 1 ? std::size_t{ 5 } << 18 : std::size_t{ 3 } << 20;
  for (int i = 0; text.size() < size; ++i) {
    text += "line " + std::to_string(i) + " caf\xC3\xA9 \xE2\x82\xAC \"q\" \\ \xF0\x9F\x98\x80\n";
  }
  std::ofstream(path, std::ios::binary) << text;
  check_success(run_gptq_https("echo", { "--no-stream" }, StdinSpec::file(path)), text);
  check_success(run_gptq_https("sse", {}, StdinSpec::file(path)), text);
  check_success(run_gptq_https("echo", { "review" }, StdinSpec::file(path)), "review\n\n" + text);
}

BOOST_AUTO_TEST_CASE(closed_stdin_counts_as_no_input)
{
  check_success(run_gptq_https("echo", { "no", "stdin" }, StdinSpec::closed()), "no stdin\n");
  check_success(run_gptq({ "--base-url", http_url("echo"), "no", "stdin" }, key_env(), StdinSpec::closed()),
                "no stdin\n");
}

BOOST_AUTO_TEST_CASE(no_stdin_ignores_piped_input)
{
  check_success(run_gptq_https("echo", { "--no-stdin", "just", "this" }, StdinSpec::of("not this\n")), "just this\n");
}

BOOST_DATA_TEST_CASE(stdin_passes_through_byte_for_byte, data::make(passthrough_cases), c)
{
  check_success(run_gptq_https("echo", {}, StdinSpec::of(c.input)), echoed(c.input));
}

BOOST_AUTO_TEST_CASE(prompt_words_pass_through_byte_for_byte)
{
  const std::string word = "tab\there \"q\" back\\slash h\xC3\xA9 \xF0\x9F\x8E\x89 cr\r\nlf";
  check_success(run_gptq_https("echo", { "--no-stdin", word }), word + "\n");
}

BOOST_AUTO_TEST_CASE(large_stdin_and_reply_pass_through)
{
  std::string big;
  big.reserve(3 * 1024 * 1024);
  for (int i = 0; big.size() < 3 * 1024 * 1024; ++i) {
    big += "line " + std::to_string(i) + " \xC3\xA9\t\"quoted\"\n";
  }
  check_success(run_gptq_https("echo", {}, StdinSpec::of(big)), big);
}

BOOST_AUTO_TEST_CASE(plain_http_works)
{
  check_success(run_gptq({ "--base-url", http_url("echo"), "hello", "http" }, key_env()), "hello http\n");
}

BOOST_AUTO_TEST_CASE(base_url_comes_from_openai_base_url)
{
  Env env = key_env();
  env["OPENAI_BASE_URL"] = https_url("echo");
  check_success(run_gptq({ "--cacert", cert("ca.pem"), "from", "env" }, env), "from env\n");
}

BOOST_AUTO_TEST_CASE(base_url_option_beats_openai_base_url)
{
  Env env = key_env();
  env["OPENAI_BASE_URL"] = base_url("https", closed_port(), "echo");
  check_success(run_gptq({ "--base-url", http_url("echo"), "option", "wins" }, env), "option wins\n");
}

BOOST_AUTO_TEST_CASE(no_key_is_needed_for_another_server)
{
  check_success(run_gptq_https("echo", { "keyless" }, StdinSpec::dev_null(), base_env()), "keyless\n");
}

BOOST_AUTO_TEST_CASE(trailing_slash_in_base_url_is_fine)
{
  check_success(run_gptq({ "--base-url", https_url("echo") + "/", "--cacert", cert("ca.pem"), "slash" }), "slash\n");
}

BOOST_AUTO_TEST_SUITE(framing)

struct FramingCase {
  const char* mode;
  bool https;
};

std::ostream& operator<<(std::ostream& os, const FramingCase& c)
{
  return os << c.mode << (c.https ? " over https" : " over http");
}

const std::vector<FramingCase> framing_cases{
  { "echo", true },  { "echo", false },  { "chunked", true },          { "chunked", false },
  { "close", true }, { "close", false }, { "close-noshutdown", true }, { "close-noshutdown", false },
};

BOOST_DATA_TEST_CASE(every_framing_gives_the_whole_reply, data::make(framing_cases), c)
{
  const std::string url = c.https ? https_url(c.mode) : http_url(c.mode);
  const std::string short_text = "short \"reply\" \xC3\xA9";
  check_success(run_gptq({ "--base-url", url, "--cacert", cert("ca.pem"), "--no-stdin", short_text }),
                short_text + "\n");
  // Long enough for many chunks and many TLS records.
  std::string long_text;
  for (int i = 0; long_text.size() < 100000; ++i) {
    long_text += "chunk " + std::to_string(i) + " \xE4\xB8\x96\n";
  }
  check_success(run_gptq({ "--base-url", url, "--cacert", cert("ca.pem") }, key_env(), StdinSpec::of(long_text)),
                long_text);
}

BOOST_AUTO_TEST_CASE(close_without_close_notify_does_not_delay_the_reply)
{
  // A body delimited by the connection's close is complete once TCP closes,
  // with or without close_notify; waiting for the server's close_notify
  // after that cannot succeed and only holds the reply back (by up to the
  // transport's shutdown limit). Compared with the same reply closed with
  // close_notify, so that a slow machine slows both.
  std::string text;
  for (int i = 0; text.size() < 20000; ++i) {
    text += "line " + std::to_string(i) + "\n";
  }
  const RunResult with_notify = run_gptq_https("close", {}, StdinSpec::of(text));
  const RunResult without_notify = run_gptq_https("close-noshutdown", {}, StdinSpec::of(text));
  check_success(with_notify, text);
  check_success(without_notify, text);
  BOOST_TEST(without_notify.elapsed < with_notify.elapsed + std::chrono::milliseconds(600),
             "close-noshutdown took " << without_notify.elapsed.count() << " ms, close took "
                                      << with_notify.elapsed.count() << " ms");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(help_and_version_exit_zero)
{
  const RunResult help = run_gptq({ "--help" }, base_env());
  BOOST_TEST_CONTEXT(help.describe())
  {
    BOOST_TEST(help.exit_code == 0);
    BOOST_TEST(starts_with(help.out, "Usage: gptq"));
    BOOST_TEST(contains(help.out, "--no-stdin"));
    BOOST_TEST(help.err == "");
  }
  const RunResult short_help = run_gptq({ "-h" }, base_env());
  BOOST_TEST(short_help.exit_code == 0);
  BOOST_TEST(short_help.out == help.out);

  const RunResult version = run_gptq({ "--version" }, base_env());
  BOOST_TEST_CONTEXT(version.describe())
  {
    BOOST_TEST(version.exit_code == 0);
    BOOST_TEST(starts_with(version.out, "gptq "));
    // The libraries a bug report needs, as curl -V names them.
    BOOST_TEST(contains(version.out, "\nBoost 1."));
    BOOST_TEST(contains(version.out, ", OpenSSL 3."));
    BOOST_TEST(version.err == "");
  }
}

BOOST_AUTO_TEST_CASE(help_needs_no_key_nor_stdin)
{
  // Help is a result of option parsing: no key check, no stdin read.
  const RunResult r = run_gptq({ "--help", "some", "words" }, base_env(), StdinSpec::silent(std::chrono::seconds(10)));
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(starts_with(r.out, "Usage: gptq"));
    BOOST_TEST(r.elapsed < std::chrono::seconds(8));
  }
}

BOOST_AUTO_TEST_SUITE_END()
