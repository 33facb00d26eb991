// Attachments (-f) and request options from the outside: what the server
// receives.

#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>

using namespace gptq::it;

namespace {

// The user message and the body the server received, from `request` mode.
boost::json::value received_body(const RunResult& r)
{
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.describe());
  return boost::json::parse(boost::json::parse(r.out).at("body").as_string());
}

} // namespace

BOOST_AUTO_TEST_SUITE(files)

BOOST_AUTO_TEST_CASE(files_and_stdin_reach_the_server_named_and_fenced)
{
  const std::string path = scratch_file("code.py", "print('```')\n");
  const auto body =
    received_body(run_gptq_https("request", { "-f", path, "-f", "-", "review" }, StdinSpec::of("notes")));
  const std::string user = std::string(body.at("messages").at(0).at("content").as_string());
  BOOST_TEST(user == "review\n\nFile: " + path + "\n````\nprint('```')\n````\n\nFile: stdin\n```\nnotes\n```");
}

BOOST_AUTO_TEST_CASE(bad_files_are_usage_errors_naming_the_path)
{
  const std::string bad = scratch_file("latin1.txt", "caf\xE9\n");
  check_failure(run_gptq_https("request", { "-f", bad, "x" }), 2, { "latin1.txt", "invalid UTF-8 at byte 3" });
  check_failure(run_gptq_https("request", { "-f", scratch_dir(), "x" }), 2, { "directory" });
  check_failure(run_gptq_https("request", { "-f", scratch_dir() + "/missing.txt", "x" }), 2, { "missing.txt" });
}

BOOST_AUTO_TEST_CASE(request_options_reach_the_server)
{
  const std::string schema = scratch_file("answer.json", R"({"type":"object","properties":{"a":{"type":"string"}}})");
  const auto body = received_body(run_gptq_https("request",
                                                 { "--top-p",
                                                   "0.5",
                                                   "--seed",
                                                   "7",
                                                   "--stop",
                                                   "END",
                                                   "-o",
                                                   "reasoning_effort=low",
                                                   "-o",
                                                   "n=1",
                                                   "--schema",
                                                   schema,
                                                   "--no-stdin",
                                                   "x" }));
  BOOST_TEST(body.at("top_p").as_double() == 0.5);
  BOOST_TEST(body.at("seed").as_int64() == 7);
  BOOST_TEST(body.at("stop").at(0).as_string() == "END");
  BOOST_TEST(body.at("reasoning_effort").as_string() == "low");
  BOOST_TEST(body.at("n").as_int64() == 1);
  BOOST_TEST(body.at("response_format").at("json_schema").at("name").as_string() == "answer");
}

BOOST_AUTO_TEST_CASE(bad_schema_file_names_file_and_position)
{
  const std::string schema = scratch_file("broken.json", "{\n  \"type\": }\n");
  check_failure(run_gptq_https("request", { "--schema", schema, "--no-stdin", "x" }), 2, { "broken.json:2:" });
}

BOOST_AUTO_TEST_SUITE_END()
