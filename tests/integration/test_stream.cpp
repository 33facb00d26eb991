// Streaming from the outside: every way the test server streams, stdout
// byte for byte, the endings and failures of a stream, and gptq as a Unix
// filter under a closed pipe and Ctrl-C.

#include "harness.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <boost/json/parse.hpp>

#include <csignal>

namespace data = boost::unit_test::data;
using namespace gptq::it;

namespace {

// Multi-byte characters of every length, which the server's 4-byte pieces
// and one-byte writes cut through at the TCP level.
const std::string prompt = "Gr\xC3\xBC\xC3\x9F"
                           "e, \xE4\xB8\x96\xE7\x95\x8C! \xF0\x9F\x98\x80 tab\there \"quoted\" back\\slash\nline two";

RunResult ask(const std::string& mode, const std::vector<std::string>& extra = {})
{
  std::vector<std::string> args{ "--no-stdin" };
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(prompt);
  return run_gptq_https(mode, args);
}

} // namespace

BOOST_AUTO_TEST_SUITE(stream)

const std::vector<std::string> good_modes{ "sse",       "sse-bytes", "sse-crlf",          "sse-cr",     "sse-comments",
                                           "sse-multi", "sse-json",  "sse-nocontenttype", "sse-nodone", "echo" };

BOOST_DATA_TEST_CASE(every_framing_prints_the_same_bytes_as_no_stream, data::make(good_modes), mode)
{
  const RunResult whole = run_gptq_https("echo", { "--no-stream", "--no-stdin", prompt });
  check_success(whole, prompt + "\n");
  check_success(ask(mode), prompt + "\n");
}

BOOST_AUTO_TEST_CASE(plain_http_streams_too)
{
  check_success(run_gptq({ "--base-url", http_url("sse"), "--no-stdin", prompt }), prompt + "\n");
}

BOOST_AUTO_TEST_CASE(large_replies_arrive_whole_over_https_and_plain_http)
{
  // sse-big: 3 MB of a repeated line in 1 KiB events, the last one short;
  // whole replies larger than one read of the transport (64 KiB) too.
  const std::string pattern = "abcdefghijklmnopqrstuvwxyz0123456789\n";
  const std::size_t bytes = 3'000'000;
  std::string streamed;
  for (std::size_t i = 0; i < bytes; ++i) {
    streamed += pattern[i % pattern.size()];
  }
  const std::string path = "sse-big/" + std::to_string(bytes);
  check_success(run_gptq_https(path, { "--no-stdin", "big" }), streamed + "\n");
  check_success(run_gptq({ "--base-url", http_url(path), "--no-stdin", "big" }), streamed + "\n");

  std::string whole;
  for (int i = 0; whole.size() < 1'000'000; ++i) {
    whole += "line " + std::to_string(i) + "\n";
  }
  check_success(run_gptq_https("echo", { "--no-stream" }, StdinSpec::of(whole)), whole);
  check_success(run_gptq({ "--base-url", http_url("echo"), "--no-stream" }, key_env(), StdinSpec::of(whole)), whole);
}

BOOST_AUTO_TEST_CASE(request_asks_for_a_stream_unless_told_not_to)
{
  auto body_of = [](const RunResult& r) {
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.describe());
    const auto seen = boost::json::parse(r.out);
    return boost::json::parse(seen.at("body").as_string());
  };
  const auto streamed = body_of(run_gptq_https("request", { "--no-stdin", "x" }));
  BOOST_TEST(streamed.at("stream").as_bool());
  BOOST_TEST(!streamed.as_object().contains("stream_options"));
  const auto with_usage = body_of(run_gptq_https("request", { "--no-stdin", "--usage", "x" }));
  BOOST_TEST(with_usage.at("stream_options").at("include_usage").as_bool());
  const auto whole = body_of(run_gptq_https("request", { "--no-stdin", "--no-stream", "x" }));
  BOOST_TEST(!whole.as_object().contains("stream"));
}

BOOST_AUTO_TEST_CASE(usage_is_one_line_on_stderr_in_both_modes)
{
  for (const std::string mode : { "sse", "echo" }) {
    const RunResult r = ask(mode, { "--usage" });
    BOOST_TEST(r.exit_code == 0, r.describe());
    BOOST_TEST(r.out == prompt + "\n");
    BOOST_TEST(r.err == "gptq: usage: 5 prompt + 7 completion = 12 tokens\n", r.describe());
  }
}

BOOST_AUTO_TEST_CASE(reasoning_stays_off_stdout)
{
  check_success(ask("sse-reasoning"), prompt + "\n");
  const RunResult shown = ask("sse-reasoning", { "--reasoning" });
  BOOST_TEST(shown.exit_code == 0, shown.describe());
  BOOST_TEST(shown.out == prompt + "\n");
  BOOST_TEST(contains(shown.err, "thinking..."), shown.describe());
  BOOST_TEST(contains(shown.err, "more thought"), shown.describe());
  BOOST_TEST(!contains(shown.err, "gptq:"), shown.describe());
}

BOOST_AUTO_TEST_CASE(length_finish_prints_the_reply_and_warns)
{
  const RunResult r = ask("sse-length");
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == prompt + "\n");
  BOOST_TEST(starts_with(r.err, "gptq: warning: the reply was cut at the token limit"), r.describe());
}

BOOST_AUTO_TEST_CASE(refusal_goes_to_stderr_only)
{
  check_failure(ask("sse-refusal"), 5, { "refusal", "I can't help with that." });
}

struct BrokenStream {
  std::string mode;
  std::vector<std::string> mentions;
};

std::ostream& operator<<(std::ostream& os, const BrokenStream& b)
{
  return os << b.mode;
}

const std::vector<BrokenStream> broken_streams{
  { "sse-error", { "upstream provider failed", "incomplete" } },
  { "sse-malformed", { "not a JSON object", "incomplete" } },
  { "sse-drop", { "incomplete" } },
  { "sse-badrecord", { "incomplete" } },
  { "sse-nofinish-nodone", { "ended the stream before the reply was complete", "incomplete" } },
};

BOOST_DATA_TEST_CASE(broken_stream_keeps_the_text_and_exits_8, data::make(broken_streams), broken)
{
  const RunResult r = ask(broken.mode);
  BOOST_TEST(r.exit_code == 8, r.describe());
  // What was printed stays, with its line ended; it is a prefix of the reply.
  BOOST_TEST_REQUIRE(!r.out.empty(), r.describe());
  BOOST_TEST(r.out.back() == '\n');
  if (broken.mode != "sse-nofinish-nodone") {
    BOOST_TEST(starts_with(prompt, r.out.substr(0, r.out.size() - 1)), r.describe());
    BOOST_TEST(r.out.size() < prompt.size(), r.describe());
  }
  BOOST_TEST(starts_with(r.err, "gptq: "), r.describe());
  BOOST_TEST(r.err.find('\n') == r.err.size() - 1, r.describe());
  for (const auto& m : broken.mentions) {
    BOOST_TEST(contains(r.err, m), "stderr lacks '" << m << "': " << r.describe());
  }
  BOOST_TEST(!contains(r.out + r.err, fake_key));
}

BOOST_AUTO_TEST_CASE(first_piece_is_readable_while_the_server_holds_back_the_rest)
{
  bool first_seen_while_running = false;
  const RunResult r =
    run_gptq_https_watched("sse-delay/700", { "--no-stdin", "abcdefghijklmnop" }, [&](const std::string& out, int pid) {
      first_seen_while_running = out.size() < 16 && still_running(pid);
    });
  check_success(r, "abcdefghijklmnop\n");
  BOOST_TEST(first_seen_while_running, r.describe());
}

BOOST_AUTO_TEST_CASE(closed_stdout_ends_quietly)
{
  // head takes the first piece and leaves; gptq finds out at its next write.
  const std::string command = std::string("'") + GPTQ_BIN + "' --base-url '" + https_url("sse-delay/300") +
                              "' --cacert '" + cert("ca.pem") +
                              "' --no-stdin abcdefghijklmnopqrstuvwxyz 2>stderr.txt | head -c 3; "
                              "echo \" ${PIPESTATUS[0]}\"; cat stderr.txt";
  Env env = key_env();
  const RunResult r =
    run({ "/bin/bash", "-c", "cd '" + scratch_dir() + "' && " + command }, env, StdinSpec::dev_null());
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == "abc 141\n", r.describe());
  BOOST_TEST(r.err.empty(), r.describe());
}

BOOST_AUTO_TEST_CASE(ctrl_c_keeps_what_was_printed_ends_the_line_and_exits_130)
{
  const RunResult r = run_gptq_https_watched(
    "sse-delay/2000", { "--no-stdin", "abcdefghijklmnop" }, [](const std::string&, int pid) { kill(pid, SIGINT); });
  BOOST_TEST(r.exit_code == 130, r.describe());
  BOOST_TEST_REQUIRE(r.out.size() >= 2u, r.describe());
  BOOST_TEST(r.out.back() == '\n');
  BOOST_TEST(starts_with("abcdefghijklmnop", r.out.substr(0, r.out.size() - 1)), r.describe());
  BOOST_TEST(r.elapsed.count() < 10000, r.describe());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_filter)

BOOST_AUTO_TEST_CASE(reader_leaving_before_the_reply_ends_the_wait_quietly)
{
  // The server never answers; only noticing that stdout's reader is gone
  // (`true` reads nothing and exits) ends gptq before --idle-timeout.
  const std::string command = std::string("'") + GPTQ_BIN + "' --base-url '" + https_url("hang") + "' --cacert '" +
                              cert("ca.pem") + "' --idle-timeout 25 --no-stdin hello 2>stderr.txt | true; " +
                              "echo \"${PIPESTATUS[0]}\"; cat stderr.txt";
  const RunResult r =
    run({ "/bin/bash", "-c", "cd '" + scratch_dir() + "' && " + command }, key_env(), StdinSpec::dev_null());
  BOOST_TEST(!r.killed, r.describe());
  BOOST_TEST(r.out == "141\n", r.describe());
  BOOST_TEST(r.err.empty(), r.describe());
}

BOOST_AUTO_TEST_CASE(activity_indicator_shows_on_a_terminal_and_is_erased)
{
  // script(1) gives gptq a terminal for stdout and stderr.
  const std::string command = std::string("'") + GPTQ_BIN + "' --base-url '" + https_url("hang") + "' --cacert '" +
                              cert("ca.pem") + "' --idle-timeout 1 --no-stdin hello";
  const RunResult r = run({ "/usr/bin/script", "-qec", command, "/dev/null" }, key_env(), StdinSpec::dev_null());
  BOOST_TEST(contains(r.out, "\r- "), r.describe());
  const auto erased = r.out.rfind("\r   \r");
  const auto message = r.out.find("gptq: timeout");
  BOOST_TEST_REQUIRE(erased != std::string::npos, r.describe());
  BOOST_TEST_REQUIRE(message != std::string::npos, r.describe());
  BOOST_TEST(erased < message, r.describe());
}

BOOST_AUTO_TEST_CASE(no_activity_indicator_when_stderr_is_not_a_terminal)
{
  const RunResult r = run_gptq_https("hang", { "--idle-timeout", "1", "--no-stdin", "hello" });
  check_failure(r, 4, { "--idle-timeout" });
  BOOST_TEST(!contains(r.err, "\r"), r.describe());
}

BOOST_AUTO_TEST_SUITE_END()
