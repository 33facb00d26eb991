// The runner the other tests rely on: it must not inherit the environment,
// must not deadlock on large output, and must kill what overruns its limit.

#include "process.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>

using namespace gptq::it;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(process)

BOOST_AUTO_TEST_CASE(child_gets_exactly_the_given_environment)
{
  const RunResult r = run({ "/usr/bin/env" }, { { "ONLY", "this" } }, StdinSpec::dev_null());
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "ONLY=this\n");
}

BOOST_AUTO_TEST_CASE(large_stdin_and_output_do_not_deadlock)
{
  const std::string big(8 * 1024 * 1024, 'z');
  const RunResult r = run({ "/bin/cat" }, {}, StdinSpec::of(big));
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out.size() == big.size());
  BOOST_TEST((r.out == big));
}

BOOST_AUTO_TEST_CASE(stdout_and_stderr_are_kept_apart)
{
  const RunResult r = run({ "/bin/sh", "-c", "echo out; echo err >&2; exit 3" }, {}, StdinSpec::dev_null());
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(r.out == "out\n");
  BOOST_TEST(r.err == "err\n");
}

BOOST_AUTO_TEST_CASE(silent_stdin_closes_after_its_delay)
{
  const RunResult r = run({ "/bin/cat" }, {}, StdinSpec::later(milliseconds(300), "late\n"));
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "late\n");
  BOOST_TEST(r.elapsed >= milliseconds(250));
}

BOOST_AUTO_TEST_CASE(run_past_its_limit_is_killed)
{
  const RunResult r = run({ "/bin/sleep", "20" }, {}, StdinSpec::dev_null(), milliseconds(300));
  BOOST_TEST(r.killed);
  BOOST_TEST(r.signal == SIGKILL);
  BOOST_TEST(r.elapsed < milliseconds(10000), r.describe());
}

BOOST_AUTO_TEST_SUITE_END()
