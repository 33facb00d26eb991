// Every exit code of the table, from the outside: for each failure, stdout
// stays empty, stderr is one `gptq: ` line that says what went wrong, and
// the API key (always set here) never shows.

#include "harness.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

namespace data = boost::unit_test::data;
using namespace gptq::it;

namespace {

struct ServerCase {
  std::string mode;
  int exit_code;
  std::vector<std::string> mentions;
  std::vector<std::string> extra = {};
};

std::ostream& operator<<(std::ostream& os, const ServerCase& c)
{
  return os << c.mode;
}

// Replies the server makes on purpose, one per mode.
const std::vector<ServerCase> server_cases{
  { "status/400", 5, { "400", "test error 400" } },
  { "status/401", 3, { "401", "test error 401" } },
  { "status/403", 3, { "403", "test error 403" } },
  { "status/404", 5, { "404", "test error 404" } },
  { "status/409", 5, { "409" } },
  { "status/422", 5, { "422" } },
  { "status/402", 6, { "402", "test error 402" } },
  { "status/429", 6, { "429", "test error 429", "retry after 7" } },
  { "status/500", 7, { "500", "test error 500" } },
  { "status/502", 7, { "502" } },
  { "status/503", 7, { "503", "test error 503" } },
  { "status/599", 7, { "599" } },
  { "status/200", 8, { "test error 200" } },
  { "html502", 7, { "502 Bad Gateway" } },
  { "errstr/400", 5, { "plain error text 400" } },
  { "errstr/500", 7, { "plain error text 500" } },
  { "errmsg/400", 5, { "message field 400" } },
  { "detail/422", 5, { "detail text 422" } },
  { "detaillist/422", 5, { "field required" } },
  { "numcode/400", 5, { "numeric code 400" } },
  { "numcode/429", 6, { "numeric code 429" } },
  { "leakkey", 3, { "401", "[REDACTED]" } },
  { "malformed", 8, { "not valid JSON" } },
  { "notjson", 8, { "hello, not json" } },
  { "nocontent", 8, { "no choices" } },
  { "nullcontent", 8, { "no text content" } },
  { "truncated", 8, { "incomplete" } },
  { "drop", 4, { "closed the connection" } },
  { "no-such-mode", 5, { "404", "unknown test mode" } },
  { "hang", 4, { "--idle-timeout" }, { "--idle-timeout", "1" } },
  { "stall-body", 4, { "--idle-timeout" }, { "--idle-timeout", "1" } },
  { "hang", 4, { "--timeout" }, { "--timeout", "1", "--idle-timeout", "20" } },
  { "stall-body", 4, { "--timeout" }, { "--timeout", "1", "--idle-timeout", "20" } },
};

// The plain-http listener serves the same modes; a few of the framing-
// sensitive ones are worth running there too.
const std::vector<ServerCase> http_cases{
  { "status/429", 6, { "429", "retry after 7" } },
  { "html502", 7, { "502 Bad Gateway" } },
  { "leakkey", 3, { "[REDACTED]" } },
  { "malformed", 8, { "not valid JSON" } },
  { "truncated", 8, { "incomplete" } },
  { "drop", 4, { "closed the connection" } },
  { "hang", 4, { "--idle-timeout" }, { "--idle-timeout", "1" } },
};

struct UsageCase {
  const char* name;
  std::vector<std::string> args;
  StdinSpec in;
  std::vector<std::string> mentions;
};

std::ostream& operator<<(std::ostream& os, const UsageCase& c)
{
  return os << c.name;
}

const std::vector<UsageCase> usage_cases{
  { "unknown_option", { "--bogus", "hi" }, StdinSpec::dev_null(), { "bogus" } },
  { "abbreviated_option", { "--temp", "1", "hi" }, StdinSpec::dev_null(), {} },
  { "missing_value", { "hi", "--model" }, StdinSpec::dev_null(), { "model" } },
  { "temperature_not_a_number", { "-t", "warm", "hi" }, StdinSpec::dev_null(), { "--temperature", "warm" } },
  { "temperature_too_high", { "--temperature", "2.5", "hi" }, StdinSpec::dev_null(), { "--temperature" } },
  { "temperature_negative", { "--temperature=-0.1", "hi" }, StdinSpec::dev_null(), { "--temperature" } },
  { "max_tokens_zero", { "--max-tokens", "0", "hi" }, StdinSpec::dev_null(), { "--max-tokens" } },
  { "max_tokens_fraction", { "--max-tokens", "1.5", "hi" }, StdinSpec::dev_null(), { "--max-tokens" } },
  { "timeout_zero", { "--timeout", "0", "hi" }, StdinSpec::dev_null(), { "--timeout" } },
  { "idle_timeout_text", { "--idle-timeout", "soon", "hi" }, StdinSpec::dev_null(), { "--idle-timeout" } },
  { "connect_timeout_negative", { "--connect-timeout=-1", "hi" }, StdinSpec::dev_null(), { "--connect-timeout" } },
  { "repeated_option", { "-m", "a", "-m", "b", "hi" }, StdinSpec::dev_null(), { "model" } },
  { "empty_model", { "-m", "", "hi" }, StdinSpec::dev_null(), { "model" } },
  { "empty_cacert", { "--cacert", "", "hi" }, StdinSpec::dev_null(), { "--cacert" } },
  { "base_url_without_scheme", { "--base-url", "127.0.0.1:1/v1", "hi" }, StdinSpec::dev_null(), { "--base-url" } },
  { "base_url_other_scheme", { "--base-url", "ftp://127.0.0.1/v1", "hi" }, StdinSpec::dev_null(), { "--base-url" } },
  { "base_url_bad_port", { "--base-url", "http://127.0.0.1:99999/v1", "hi" }, StdinSpec::dev_null(), { "--base-url" } },
  { "no_prompt_and_stdin_null", {}, StdinSpec::dev_null(), { "empty" } },
  { "no_prompt_and_empty_stdin", {}, StdinSpec::of(""), { "empty" } },
  { "no_prompt_and_blank_stdin", {}, StdinSpec::of(" \n\t \r\n"), { "empty" } },
  { "no_prompt_and_no_stdin", { "--no-stdin" }, StdinSpec::of("ignored\n"), { "empty" } },
  { "blank_prompt_words", { "--no-stdin", " ", "\t" }, StdinSpec::dev_null(), { "empty" } },
  { "invalid_utf8_on_stdin", {}, StdinSpec::of("abc\xFF~def\n"), { "UTF-8", "byte 3" } },
  { "invalid_utf8_after_prompt", { "explain" }, StdinSpec::of("ok \xC3\x28\n"), { "UTF-8", "byte 3", "stdin" } },
  { "overlong_utf8_on_stdin", {}, StdinSpec::of("\xC0\xAF"), { "UTF-8", "byte 0" } },
  { "invalid_utf8_in_prompt", { "--no-stdin", "caf\xE9" }, StdinSpec::dev_null(), { "UTF-8", "byte 3" } },
  { "invalid_utf8_in_system", { "-s", "\xFF", "hi" }, StdinSpec::dev_null(), { "UTF-8", "--system" } },
};

} // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_DATA_TEST_CASE(server_replies_map_to_exit_codes, data::make(server_cases), c)
{
  // Retries are tested in test_network.cpp; here each reply is judged once.
  std::vector<std::string> extra = c.extra;
  extra.insert(extra.end(), { "--retries", "0", "hello" });
  check_failure(run_gptq_https(c.mode, extra), c.exit_code, c.mentions);
}

BOOST_DATA_TEST_CASE(server_replies_over_http_map_to_exit_codes, data::make(http_cases), c)
{
  std::vector<std::string> args{ "--base-url", http_url(c.mode), "--retries", "0" };
  args.insert(args.end(), c.extra.begin(), c.extra.end());
  args.emplace_back("hello");
  check_failure(run_gptq(args), c.exit_code, c.mentions);
}

BOOST_AUTO_TEST_CASE(html_error_page_is_one_line)
{
  const RunResult r = run_gptq_https("html502", { "hello" });
  check_failure(r, 7, { "502 Bad Gateway" });
  BOOST_TEST(!contains(r.err, "<"), "no HTML tags in " << r.err);
}

BOOST_AUTO_TEST_CASE(leaked_key_is_redacted)
{
  const RunResult r = run_gptq_https("leakkey", { "hello" });
  check_failure(r, 3, { "Incorrect API key provided: [REDACTED]" });
  // Not even a recognisable piece of it.
  BOOST_TEST(!contains(r.err, "SECRET"));
}

BOOST_AUTO_TEST_CASE(leaked_key_is_redacted_with_surrounding_spaces_in_the_variable)
{
  Env env = key_env();
  env["OPENAI_API_KEY"] = "  " + fake_key + "\n";
  const RunResult r = run_gptq_https("leakkey", { "hello" }, StdinSpec::dev_null(), env);
  check_failure(r, 3, { "[REDACTED]" });
  BOOST_TEST(!contains(r.err, "SECRET"));
}

BOOST_AUTO_TEST_CASE(long_leaked_key_is_not_shown_even_in_part)
{
  // Bearer tokens of other servers (JWTs) are often far longer than OpenAI
  // keys; a server that quotes one back must not get any of it shown, even
  // when gptq shortens the message.
  Env env = base_env();
  const std::string long_key = "sk-test-SECRET-" + std::string(1000, 'k');
  env["OPENAI_API_KEY"] = long_key;
  const RunResult r = run_gptq_https("leakkey", { "hello" }, StdinSpec::dev_null(), env);
  check_failure(r, 3, { "401" });
  BOOST_TEST(!contains(r.err, "SECRET"), r.describe());
  BOOST_TEST(!contains(r.err, "kkkkkkkkkkkkkkkk"), r.describe());
}

BOOST_AUTO_TEST_CASE(truncated_reply_reports_the_bytes_received_of_the_content_length)
{
  // The server declares Content-Length: 1000 and sends 40 bytes.
  const RunResult https = run_gptq_https("truncated", { "hello" });
  check_failure(https, 8, { "40 of 1000 bytes" });
  const RunResult http = run_gptq({ "--base-url", http_url("truncated"), "hello" });
  check_failure(http, 8, { "40 of 1000 bytes" });
}

BOOST_AUTO_TEST_CASE(unreadable_stdin_is_a_usage_error)
{
  check_failure(run_gptq_https("echo", {}, StdinSpec::file(scratch_dir())), 2, { "stdin" });
}

BOOST_AUTO_TEST_CASE(failed_stdout_write_exits_1)
{
  const RunResult r = run({ GPTQ_BIN, "--base-url", http_url("echo"), "hello" },
                          key_env(),
                          StdinSpec::dev_null(),
                          default_run_limit,
                          "/dev/full");
  check_failure(r, 1, { "stdout" });
}

BOOST_AUTO_TEST_CASE(silent_server_hits_the_connect_timeout)
{
  const RunResult r = run_gptq({ "--base-url",
                                 base_url("https", ports().silent, "echo"),
                                 "--cacert",
                                 cert("ca.pem"),
                                 "--connect-timeout",
                                 "1",
                                 "hello" });
  check_failure(r, 4, { "--connect-timeout" });
  BOOST_TEST(r.elapsed < std::chrono::seconds(15), r.describe());
}

BOOST_AUTO_TEST_CASE(idle_timeout_ends_a_hang_long_before_the_default)
{
  const RunResult r = run_gptq_https("hang", { "--idle-timeout", "1", "hello" });
  check_failure(r, 4, { "--idle-timeout" });
  BOOST_TEST(r.elapsed >= std::chrono::milliseconds(900), r.describe());
  BOOST_TEST(r.elapsed < std::chrono::seconds(15), r.describe());
}

BOOST_AUTO_TEST_CASE(connection_refused_is_a_network_error)
{
  const int port = closed_port();
  check_failure(run_gptq({ "--base-url", base_url("https", port, "echo"), "--cacert", cert("ca.pem"), "hello" }),
                4,
                { "127.0.0.1:" + std::to_string(port) });
  check_failure(run_gptq({ "--base-url", base_url("http", port, "echo"), "hello" }), 4);
}

BOOST_DATA_TEST_CASE(usage_errors_exit_2, data::make(usage_cases), c)
{
  std::vector<std::string> args{ "--base-url", https_url("echo"), "--cacert", cert("ca.pem") };
  args.insert(args.end(), c.args.begin(), c.args.end());
  check_failure(run_gptq(args, key_env(), c.in), 2, c.mentions);
}

BOOST_AUTO_TEST_CASE(usage_error_leaves_a_large_stdin_unread)
{
  const RunResult r = run_gptq({ "--bogus" }, key_env(), StdinSpec::of(std::string(4 * 1024 * 1024, 'x')));
  check_failure(r, 2, { "bogus" });
}

BOOST_AUTO_TEST_CASE(missing_key_for_openai_exits_3_at_once)
{
  // No OPENAI_BASE_URL, no --base-url: the default is OpenAI, which needs a
  // key. The check comes before stdin is read and before any network step,
  // so an open, silent stdin does not delay it.
  const RunResult r = run_gptq({ "hello" }, base_env(), StdinSpec::silent(std::chrono::seconds(10)));
  check_failure(r, 3, { "OPENAI_API_KEY" });
  BOOST_TEST(r.elapsed < std::chrono::seconds(3), r.describe());
  // A large piped input is not read first either.
  check_failure(
    run_gptq({ "hello" }, base_env(), StdinSpec::of(std::string(4 * 1024 * 1024, 'x'))), 3, { "OPENAI_API_KEY" });
}

BOOST_AUTO_TEST_CASE(empty_key_for_openai_exits_3)
{
  Env env = base_env();
  env["OPENAI_API_KEY"] = "";
  check_failure(run_gptq({ "hello" }, env), 3, { "OPENAI_API_KEY" });
}

BOOST_AUTO_TEST_CASE(missing_key_for_openai_by_url_exits_3)
{
  check_failure(run_gptq({ "--base-url", "https://api.openai.com/v1", "hello" }, base_env()), 3, { "OPENAI_API_KEY" });
  Env env = base_env();
  env["OPENAI_BASE_URL"] = "https://API.OpenAI.com/v1/";
  check_failure(run_gptq({ "hello" }, env), 3, { "OPENAI_API_KEY" });
}

BOOST_AUTO_TEST_CASE(key_with_spaces_inside_exits_3_without_showing_it)
{
  Env env = base_env();
  env["OPENAI_API_KEY"] = "sk-test-SECRET 0123456789abcdef";
  const RunResult r = run_gptq_https("echo", { "hello" }, StdinSpec::dev_null(), env);
  check_failure(r, 3, { "OPENAI_API_KEY" });
  BOOST_TEST(!contains(r.err, "SECRET"));
}

BOOST_AUTO_TEST_SUITE_END()
