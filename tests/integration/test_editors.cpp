// What an editor that runs gptq as a filter relies on (editors/README.md):
// the reply ends in exactly one newline however many the model sent, nothing
// but the reply reaches stdout, no terminal control bytes reach a stdout or
// stderr that is not a terminal, and a failure leaves stdout empty unless
// reply text had already been written (then the exit status says so).

#include "harness.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <ostream>
#include <sstream>

namespace data = boost::unit_test::data;
using namespace gptq::it;

namespace {

struct EndingCase {
  const char* name;
  std::string input; // what the echo modes send back as the reply
  std::string out;   // gptq's stdout
};

std::ostream& operator<<(std::ostream& os, const EndingCase& c)
{
  return os << c.name;
}

const std::vector<EndingCase> ending_cases{
  { "no_newline", "fixed text", "fixed text\n" },
  { "one_newline", "fixed text\n", "fixed text\n" },
  { "two_newlines", "fixed text\n\n", "fixed text\n" },
  { "several_newlines", "line one\nline two\n\n\n\n\n", "line one\nline two\n" },
  { "crlf_blank_lines", "line one\r\n\r\n\r\n", "line one\r\n" },
  { "blank_lines_inside_stay", "para one\n\n\npara two\n\n", "para one\n\n\npara two\n" },
  { "leading_blank_lines_stay", "\n\ntext\n\n", "\n\ntext\n" },
};

// The modes that frame the same reply differently: one JSON body, one in
// 7-byte HTTP chunks, and a stream of 4-byte pieces.
const std::vector<std::string> echo_modes{ "echo", "chunked", "sse" };

// True when `text` holds an escape (ESC, or the C1 CSI) or a carriage
// return that is not part of a "\r\n".
bool has_terminal_control(const std::string& text)
{
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0x1B || c == 0x9B || (c == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) {
      return true;
    }
  }
  return false;
}

// Runs editors/gptq-filter with `filter_args`, then gptq's URL options for
// `mode`, on `input`, with the built gptq as its GPTQ.
RunResult run_filter(const std::vector<std::string>& filter_args, const std::string& mode, const std::string& input)
{
  std::vector<std::string> argv{ "/bin/sh", std::string(GPTQ_SOURCE_DIR) + "/editors/gptq-filter" };
  argv.insert(argv.end(), filter_args.begin(), filter_args.end());
  argv.insert(argv.end(), { "--base-url", https_url(mode), "--cacert", cert("ca.pem"), "--retries", "0", "fix this" });
  Env env = key_env();
  env["GPTQ"] = GPTQ_BIN;
  return run(argv, env, StdinSpec::of(input));
}

} // namespace

BOOST_AUTO_TEST_SUITE(editors)

BOOST_DATA_TEST_CASE(the_reply_ends_in_exactly_one_newline, data::make(ending_cases), c)
{
  for (const auto& mode : echo_modes) {
    BOOST_TEST_CONTEXT("mode " << mode)
    {
      check_success(run_gptq_https(mode, {}, StdinSpec::of(c.input)), c.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_slow_reply_brings_nothing_but_the_reply_when_not_terminals)
{
  // slow-head/900 waits long enough for the spinner (shown after 300 ms),
  // which must not appear: stdout and stderr are pipes here.
  const RunResult r = run_gptq_https("slow-head/900", {}, StdinSpec::of("the text\n"));
  check_success(r, "the text\n");
  BOOST_TEST(!has_terminal_control(r.out), r.describe());
  BOOST_TEST(!has_terminal_control(r.err), r.describe());
}

BOOST_AUTO_TEST_CASE(a_warning_goes_to_stderr_without_terminal_control)
{
  const RunResult r = run_gptq_https("sse-length", {}, StdinSpec::of("cut short\n"));
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "cut short\n", r.describe());
  BOOST_TEST(contains(r.err, "gptq: warning: the reply was cut at the token limit"), r.describe());
  BOOST_TEST(!has_terminal_control(r.err), r.describe());
}

BOOST_AUTO_TEST_CASE(a_failure_leaves_stdout_empty_and_stderr_one_plain_line)
{
  for (const std::string mode : { "status/500", "status/401", "html502", "malformed", "drop" }) {
    BOOST_TEST_CONTEXT("mode " << mode)
    {
      const RunResult r = run_gptq_https(mode, { "--retries", "0" }, StdinSpec::of("the text\n"));
      BOOST_TEST(r.exit_code != 0, r.describe());
      BOOST_TEST(r.out.empty(), r.describe());
      BOOST_TEST(starts_with(r.err, "gptq: "), r.describe());
      BOOST_TEST(r.err.find('\n') == r.err.size() - 1, r.describe());
      BOOST_TEST(!has_terminal_control(r.err), r.describe());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_stream_that_breaks_off_keeps_its_text_but_fails)
{
  // The one failure with something on stdout: a filter must go by the exit
  // status (editors/gptq.vim and gptq-filter do), not by an empty stdout.
  const RunResult r = run_gptq_https("sse-error", {}, StdinSpec::of("some words to echo\n"));
  BOOST_TEST(r.exit_code == 8, r.describe());
  BOOST_TEST(!r.out.empty(), r.describe());
  BOOST_TEST((r.out.back() == '\n'), r.describe());
  BOOST_TEST(contains(r.err, "incomplete"), r.describe());
  BOOST_TEST(!has_terminal_control(r.out + r.err), r.describe());
}

BOOST_AUTO_TEST_CASE(stdout_to_a_file_gets_only_the_reply_when_stderr_is_a_terminal)
{
  // A terminal editor running gptq with stdout to a file and stderr left on
  // the terminal: the spinner goes to the terminal, never into the file.
  const std::string out = scratch_dir() + "/editor-out.txt";
  const std::string command = std::string("printf 'the text\\n\\n\\n' | '") + GPTQ_BIN + "' --base-url '" +
                              https_url("slow-head/900") + "' --cacert '" + cert("ca.pem") + "' > '" + out + "'";
  const RunResult r = run({ "/usr/bin/script", "-qec", command, "/dev/null" }, key_env(), StdinSpec::dev_null());
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(contains(r.out, "\r- "), "the spinner showed on the terminal: " << r.describe());
  BOOST_TEST(read_file(out) == "the text\n");
}

// gptq-filter, for editors that always put a filter's output in place of
// the text (editors/README.md): the reply on success; on failure nothing,
// or the input back with --replace, and the error where it is told.
BOOST_AUTO_TEST_CASE(gptq_filter_passes_a_good_reply_through)
{
  const RunResult r = run_filter({ "--replace" }, "echo", "some text\n");
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "fix this\n\nsome text\n", r.describe());
  BOOST_TEST(r.err == "", r.describe());
  // What --usage writes on stderr is no failure, and stays on stderr.
  const RunResult usage = run_filter({ "--replace", "--usage" }, "echo", "some text\n");
  BOOST_TEST(usage.exit_code == 0, usage.describe());
  BOOST_TEST(usage.out == "fix this\n\nsome text\n", usage.describe());
  BOOST_TEST(starts_with(usage.err, "gptq: usage:"), usage.describe());
}

BOOST_AUTO_TEST_CASE(gptq_filter_puts_the_text_back_when_gptq_fails)
{
  const std::string input = "line one\n\"quoted\" \\ line two\n\n";
  const RunResult replaced = run_filter({ "--replace" }, "status/500", input);
  BOOST_TEST(replaced.exit_code == 7, replaced.describe());
  BOOST_TEST(replaced.out == input, replaced.describe());
  BOOST_TEST(starts_with(replaced.err, "gptq: "), replaced.describe());

  const RunResult plain = run_filter({}, "status/500", input);
  BOOST_TEST(plain.exit_code == 7, plain.describe());
  BOOST_TEST(plain.out == "", plain.describe());

  // A stream cut short leaves text on gptq's stdout: not on the filter's.
  const RunResult broken = run_filter({ "--replace" }, "sse-error", "some words to echo\n");
  BOOST_TEST(broken.exit_code == 8, broken.describe());
  BOOST_TEST(broken.out == "some words to echo\n", broken.describe());
}

BOOST_AUTO_TEST_CASE(gptq_filter_sends_errors_to_a_file_when_told)
{
  // Helix puts a filter's stderr in the text: --errors-to keeps it empty.
  const std::string errors = scratch_dir() + "/filter-errors.txt";
  const RunResult r = run_filter({ "--errors-to", errors }, "status/500", "text\n");
  BOOST_TEST(r.exit_code == 7, r.describe());
  BOOST_TEST(r.out == "", r.describe());
  BOOST_TEST(r.err == "", r.describe());
  BOOST_TEST(starts_with(read_file(errors), "gptq: "), read_file(errors));
  // A warning after a reply is not let through silently either.
  const RunResult warned = run_filter({}, "sse-length", "cut short\n");
  BOOST_TEST(warned.exit_code == 1, warned.describe());
  BOOST_TEST(warned.out == "", warned.describe());
  BOOST_TEST(contains(warned.err, "token limit"), warned.describe());
}

BOOST_AUTO_TEST_SUITE_END()
