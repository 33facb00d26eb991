// The stdin hint: when PROMPT words were given and stdin is open but silent,
// gptq says on stderr what it is waiting for (after about 3 s), and still
// answers once stdin closes. Time bounds here are deliberately loose.

#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

using namespace gptq::it;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(stdin_hint)

BOOST_AUTO_TEST_CASE(silent_open_stdin_gets_a_one_line_hint)
{
  const RunResult r = run_gptq_https("echo", { "hello", "there" }, StdinSpec::silent(milliseconds(4500)));
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE(!r.killed);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out == "hello there\n");
    BOOST_TEST(starts_with(r.err, "gptq: waiting for stdin"));
    BOOST_TEST(contains(r.err.substr(0, r.err.find('\n')), "--no-stdin"));
    // stdin then closed without a byte: the second line says so.
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 2);
    BOOST_TEST(contains(r.err, "\ngptq: warning: stdin was empty"));
    BOOST_TEST(!contains(r.err, fake_key));
    // It waited for stdin to close rather than giving up on it.
    BOOST_TEST(r.elapsed >= milliseconds(4000));
  }
}

BOOST_AUTO_TEST_CASE(no_stdin_neither_waits_nor_hints)
{
  const RunResult r = run_gptq_https("echo", { "--no-stdin", "hello" }, StdinSpec::silent(milliseconds(4500)));
  check_success(r, "hello\n");
  BOOST_TEST(r.elapsed < milliseconds(4000), r.describe());
}

BOOST_AUTO_TEST_CASE(stdin_that_arrives_after_the_hint_is_still_used)
{
  const RunResult r = run_gptq_https("echo", { "late" }, StdinSpec::later(milliseconds(3600), "input\n"));
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE(!r.killed);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out == "late\n\ninput\n");
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    BOOST_TEST(contains(r.err, "--no-stdin"));
  }
}

BOOST_AUTO_TEST_CASE(stdin_that_arrives_quickly_gets_no_hint)
{
  check_success(run_gptq_https("echo", { "soon" }, StdinSpec::later(milliseconds(300), "input\n")), "soon\n\ninput\n");
}

BOOST_AUTO_TEST_CASE(no_hint_without_prompt_words)
{
  // Without words, stdin is the whole prompt: waiting for it is expected and
  // needs no explanation. The empty result is then a usage error (one line).
  const RunResult r = run_gptq_https("echo", {}, StdinSpec::silent(milliseconds(3600)));
  check_failure(r, 2, { "empty" });
  BOOST_TEST(!contains(r.err, "--no-stdin"), r.describe());
}

BOOST_AUTO_TEST_SUITE_END()
