// Servers and proxies that quote a secret back: the key (from the
// environment or from -H), the proxy's password in its Basic form. Messages
// cut server text to an excerpt; none of a secret may survive the cut, not
// even its first bytes. And a key too short to be a secret (OPENAI_API_KEY=1
// for a local server) must not blot out ordinary text.

#include "harness.hpp"
#include "raw_server.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace gptq::it;

namespace {

// Long enough that a cut leaves a recognisable piece of it.
const std::string long_key = "sk-proj-SECRET-" + std::string("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ");

// True when `text` holds no piece of `secret` of 8 bytes or more (a prefix,
// a suffix or anything between).
bool no_fragment_of(const std::string& secret, const std::string& text)
{
  for (std::size_t i = 0; i + 8 <= secret.size(); ++i) {
    if (text.find(secret.substr(i, 8)) != std::string::npos) {
      return false;
    }
  }
  return true;
}

void check_no_fragment(const std::string& secret, const RunResult& r)
{
  BOOST_TEST(!r.killed, r.describe());
  BOOST_TEST(no_fragment_of(secret, r.out), r.describe());
  BOOST_TEST(no_fragment_of(secret, r.err), r.describe());
}

Env long_key_env()
{
  Env env = base_env();
  env["OPENAI_API_KEY"] = long_key;
  return env;
}

std::string base64(const std::string& in)
{
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, in.size() - i);
    unsigned value = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      value = value << 8 | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out += k <= n ? alphabet[(value >> (18 - 6 * k)) & 0x3F] : '=';
    }
  }
  return out;
}

// A 200 event stream whose body is `events`, then the connection closes.
std::string stream_response(const std::string& events)
{
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " + std::to_string(events.size()) +
         "\r\nConnection: close\r\n\r\n" + events;
}

// Serves every request of a connection with `response` until the client
// closes it.
RawServer serving(std::string response)
{
  return RawServer([response](RawConnection& c) {
    while (!c.read_request().empty()) {
      c.send(response);
    }
  });
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_secrets)

BOOST_AUTO_TEST_CASE(bad_stream_chunk_quoting_the_key_across_the_cut_shows_none_of_it)
{
  // The key starts before the 80-byte excerpt of the chunk ends.
  const RawServer server = serving(stream_response("data: not json " + std::string(40, 'x') + " " + long_key + "\n\n"));
  const RunResult r = run_gptq({ "--base-url", server.url(), "hello" }, long_key_env());
  check_failure(r, 8, { "a chunk is not a JSON object", "[REDACTED]" });
  check_no_fragment(long_key, r);
}

BOOST_AUTO_TEST_CASE(error_event_quoting_the_key_past_the_cut_shows_none_of_it)
{
  const RawServer server = serving(
    stream_response(R"(data: {"error":{"message":")" + std::string(480, 'm') + " " + long_key + R"("}})" + "\n\n"));
  const RunResult r = run_gptq({ "--base-url", server.url(), "hello" }, long_key_env());
  check_failure(r, 8, { "error in the stream" });
  check_no_fragment(long_key, r);
}

BOOST_AUTO_TEST_CASE(reason_phrase_quoting_the_key_shows_none_of_it_even_under_verbose)
{
  const RawServer server = serving("HTTP/1.1 401 Bad key Bearer " + long_key +
                                   "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  for (const bool verbose : { false, true }) {
    std::vector<std::string> args{ "--base-url", server.url(), "hello" };
    if (verbose) {
      args.insert(args.begin(), "-v");
    }
    const RunResult r = run_gptq(args, long_key_env());
    BOOST_TEST(r.exit_code == 3, r.describe());
    BOOST_TEST(contains(r.err, "HTTP 401 Bad key Bearer [REDACTED]"), r.describe());
    check_no_fragment(long_key, r);
  }
}

BOOST_AUTO_TEST_CASE(key_given_with_a_header_is_redacted_when_quoted)
{
  // No OPENAI_API_KEY: the key travels in -H only; leakkey quotes it.
  const RunResult r = run_gptq_https(
    "leakkey", { "-H", "Authorization: Bearer " + long_key, "hello" }, StdinSpec::dev_null(), base_env());
  check_failure(r, 3, { "Incorrect API key provided: [REDACTED]" });
  check_no_fragment(long_key, r);
}

BOOST_AUTO_TEST_CASE(proxy_refusal_quoting_the_basic_credentials_shows_none_of_them)
{
  const std::string user = "alice";
  const std::string password = "correct-horse-battery-staple";
  const std::string basic = base64(user + ":" + password);
  // The proxy quotes the Basic credentials back in its reason phrase, both
  // to a CONNECT (https target) and to a forwarded request (http target).
  const RawServer proxy =
    serving("HTTP/1.1 407 Proxy Authentication Required: Basic " + basic + " is wrong\r\nContent-Length: 0\r\n\r\n");
  const std::string proxy_url = "http://" + user + ":" + password + "@127.0.0.1:" + std::to_string(proxy.port());
  for (const std::string scheme : { "https", "http" }) {
    const RunResult r = run_gptq({ "--proxy", proxy_url, "--base-url", scheme + "://127.0.0.1:9/v1", "-v", "hello" });
    BOOST_TEST(r.exit_code == 4, r.describe());
    BOOST_TEST(contains(r.err, "407"), r.describe());
    BOOST_TEST(contains(r.err, "Required: [REDACTED] is wrong"), r.describe());
    check_no_fragment(basic, r);
    check_no_fragment(password, r);
  }
}

BOOST_AUTO_TEST_CASE(jsonl_records_of_errors_quoting_the_key_show_none_of_it)
{
  const std::string body = R"({"error":{"message":")" + std::string(480, 'm') + " " + long_key + R"("}})";
  const RawServer server =
    serving("HTTP/1.1 400 Bad Request Bearer " + long_key +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  const RunResult r = run_gptq(
    { "--base-url", server.url(), "-L", "--jsonl", "--retries", "0" }, long_key_env(), StdinSpec::of("one\ntwo\n"));
  BOOST_TEST(r.exit_code == 5, r.describe());
  BOOST_TEST(contains(r.out, "\"line\":1"), r.describe());
  BOOST_TEST(contains(r.out, "[REDACTED]"), r.describe());
  check_no_fragment(long_key, r);
}

BOOST_AUTO_TEST_CASE(short_key_does_not_blot_out_messages)
{
  Env env = base_env();
  env["OPENAI_API_KEY"] = "1";
  const int port = closed_port();
  const RunResult r = run_gptq({ "--base-url", "http://127.0.0.1:" + std::to_string(port) + "/v1", "hello" }, env);
  check_failure(r, 4, { "127.0.0.1:" + std::to_string(port) });
  BOOST_TEST(!contains(r.err, "[REDACTED]"), r.describe());
}

BOOST_AUTO_TEST_SUITE_END()
