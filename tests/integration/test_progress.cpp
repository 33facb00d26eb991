// Batch mode's progress line: on a terminal only, erased at the end.

#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>

using namespace gptq::it;

BOOST_AUTO_TEST_SUITE(progress)

BOOST_AUTO_TEST_CASE(batch_progress_shows_on_a_terminal_with_the_total_and_is_erased)
{
  const std::string lines = scratch_dir() + "/progress-lines.txt";
  {
    std::ofstream in(lines);
    for (int i = 1; i <= 30; ++i) {
      // Each line, then one that only white space fills: not a prompt.
      in << "line " << i << "\n \f\v\t\r\n";
    }
  }
  // script(1) gives gptq a terminal for stderr; stdout goes to a file.
  const std::string out = scratch_dir() + "/progress-out.txt";
  const std::string command = std::string("'") + GPTQ_BIN + "' -L -j 2 --base-url '" + https_url("slow-head/20") +
                              "' --cacert '" + cert("ca.pem") + "' < '" + lines + "' > '" + out + "'";
  const RunResult r = run({ "/usr/bin/script", "-qec", command, "/dev/null" }, key_env(), StdinSpec::dev_null());
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(contains(r.out, "\rgptq: 0/30 lines, 0 failed"), r.describe());
  // The last thing on the terminal is the erasing of the line: spaces
  // over it, and the cursor back at its start.
  const auto last_draw = r.out.rfind("\rgptq: ");
  BOOST_TEST_REQUIRE(last_draw != std::string::npos, r.describe());
  BOOST_TEST(r.out.find("\r          ", last_draw + 1) != std::string::npos, r.describe());
  BOOST_TEST((!r.out.empty() && r.out.back() == '\r'), r.describe());
  std::ifstream result(out);
  std::string line;
  // Each blank input line keeps its place as an empty output line.
  for (int i = 1; i <= 30; ++i) {
    BOOST_TEST_REQUIRE(std::getline(result, line).good());
    BOOST_TEST(line == "line " + std::to_string(i));
    BOOST_TEST_REQUIRE(std::getline(result, line).good());
    BOOST_TEST(line == "");
  }
  BOOST_TEST(!std::getline(result, line).good());
}

BOOST_AUTO_TEST_CASE(no_progress_when_stderr_is_not_a_terminal)
{
  const RunResult r = run_gptq_https("echo", { "-L" }, StdinSpec::of("a\nb\n"));
  check_success(r, "a\nb\n");
}

BOOST_AUTO_TEST_SUITE_END()
