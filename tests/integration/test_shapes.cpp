// Output shapes from the outside: --code keeps only the code blocks, while
// streaming too; --raw prints the server's JSON.

#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace gptq::it;

namespace {

// The echo modes reply with the prompt itself, so the prompt is the reply.
const std::string reply = "Here is code:\n```python\nprint(\"hi\")\n```\nsome prose\n~~~ sh\nls -l \xC3\xA9\n~~~\nbye";
const std::string code = "print(\"hi\")\nls -l \xC3\xA9\n";

} // namespace

BOOST_AUTO_TEST_SUITE(shapes)

BOOST_AUTO_TEST_CASE(code_prints_only_the_code_blocks_in_every_framing)
{
  for (const std::string mode : { "sse", "sse-bytes", "sse-multi", "echo" }) {
    check_success(run_gptq_https(mode, { "--code", "--no-stdin", reply }), code);
  }
}

BOOST_AUTO_TEST_CASE(code_without_a_code_block_is_a_bad_response)
{
  check_failure(run_gptq_https("sse", { "--code", "--no-stdin", "just prose" }), 8, { "no code block" });
}

BOOST_AUTO_TEST_CASE(raw_prints_each_stream_event_as_a_json_line)
{
  const RunResult r = run_gptq_https("sse", { "--raw", "--no-stdin", "hello there" });
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.describe());
  std::istringstream lines(r.out);
  std::string line;
  std::string content;
  int count = 0;
  while (std::getline(lines, line)) {
    const auto chunk = boost::json::parse(line);
    ++count;
    const auto& choices = chunk.at("choices").as_array();
    if (!choices.empty() && choices[0].at("delta").as_object().contains("content")) {
      content += std::string(choices[0].at("delta").at("content").as_string());
    }
  }
  BOOST_TEST(count >= 3);
  BOOST_TEST(content == "hello there");
}

BOOST_AUTO_TEST_CASE(raw_prints_a_whole_reply_as_it_came)
{
  const RunResult r = run_gptq_https("echo", { "--raw", "--no-stream", "--no-stdin", "hi" });
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.describe());
  BOOST_TEST(boost::json::parse(r.out).at("choices").at(0).at("message").at("content").as_string() == "hi");
  BOOST_TEST(r.out.back() == '\n');
}

BOOST_AUTO_TEST_CASE(code_and_raw_together_are_a_usage_error)
{
  check_failure(run_gptq_https("echo", { "--raw", "--code", "--no-stdin", "hi" }), 2, { "--raw" });
}

BOOST_AUTO_TEST_SUITE_END()
