// The network around the request: proxies from the options and from the
// environment (tinyproxy and microsocks run for real), retries of failures
// that may pass (the test server counts each attempt), timeouts, extra
// request headers, and an IPv6 literal.

#include "proxy.hpp"

#include "harness.hpp"

#include <boost/json.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace data = boost::unit_test::data;
namespace json = boost::json;
using namespace gptq::it;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// Four stream pieces of 4 bytes each; the pieces that stop half way are
// "abcd" and "efgh".
const std::string prompt = "abcdefghijklmnop";
const std::string reply = prompt + "\n";

// Runs gptq on `base_url` trusting the test CA, with `extra` options.
RunResult ask(const std::string& base_url, const std::vector<std::string>& extra = {}, const Env& env = key_env())
{
  std::vector<std::string> args{ "--base-url", base_url, "--cacert", cert("ca.pem"), "--no-stdin" };
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(prompt);
  return run_gptq(args, env);
}

// ask() with Debian's hosts file, for a `base_url` or proxy that names a
// host: `localhost` is ::1 first, then 127.0.0.1.
RunResult ask_named(const std::string& base_url, const std::vector<std::string>& extra = {}, const Env& env = key_env())
{
  std::vector<std::string> args{ "--base-url", base_url, "--cacert", cert("ca.pem"), "--no-stdin" };
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(prompt);
  return run_gptq_with_hosts(debian_hosts, args, env);
}

// key_env() plus `vars`.
Env with(std::initializer_list<std::pair<const std::string, std::string>> vars)
{
  Env env = key_env();
  for (const auto& [name, value] : vars) {
    env[name] = value;
  }
  return env;
}

std::string port_text(int port)
{
  return std::to_string(port);
}

// An http:// proxy URL on which nothing listens: a run that uses it fails.
std::string dead_proxy()
{
  return "http://127.0.0.1:" + port_text(closed_port());
}

// How many requests the test server has counted for `key`.
std::int64_t attempts(const std::string& key)
{
  return json::parse(http_get_body("/attempts/" + key)).at("attempts").to_number<std::int64_t>();
}

// True when [::1]:`port` accepts a TCP connection.
bool ipv6_loopback_accepts(int port)
{
  const int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) {
    return false;
  }
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  addr.sin6_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

std::string lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Whether `proxy` logged a request that starts with `start`.
bool proxy_saw(const Proxy& proxy, const std::string& start)
{
  const auto seen = proxy.requests();
  return std::any_of(seen.begin(), seen.end(), [&](const std::string& r) { return starts_with(r, start); });
}

// Checks that none of `secrets` (nor the key) shows in stdout or stderr.
void check_hidden(const RunResult& r, const std::vector<std::string>& secrets)
{
  BOOST_TEST_CONTEXT(r.describe())
  {
    for (const auto& secret : secrets) {
      BOOST_TEST(!contains(r.out, secret), "'" << secret << "' is not on stdout");
      BOOST_TEST(!contains(r.err, secret), "'" << secret << "' is not on stderr");
    }
    BOOST_TEST(!contains(r.err, fake_key), "the key is not on stderr");
  }
}

// Checks -v output: the reply (or nothing) on stdout, and on stderr only
// lines that start "gptq: ".
void check_verbose_lines(const RunResult& r)
{
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST(!r.err.empty());
    BOOST_TEST((r.err.empty() || r.err.back() == '\n'), "stderr ends with a newline");
    for (const auto& line : split_lines(r.err)) {
      BOOST_TEST(starts_with(line, "gptq: "), "stderr line '" << line << "' starts with 'gptq: '");
    }
  }
}

const ProxyUser tiny_user{ "user", "Secret-pw.9" };
// tiny_user's password percent-encoded ("-" is %2D), as a URL may carry it.
const std::string tiny_userinfo = "user:Secret%2Dpw.9";
const ProxyUser socks_user{ "user", "p@ss:Zq9x" };
// socks_user's password percent-encoded ("@" is %40, ":" %3A).
const std::string socks_userinfo = "user:p%40ss%3AZq9x";

} // namespace

// --- Choosing the proxy ------------------------------------------------

BOOST_AUTO_TEST_SUITE(proxy_choice)

BOOST_DATA_TEST_CASE(https_goes_through_the_https_proxy_variable,
                     data::make(std::vector<std::string>{ "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy" }),
                     variable)
{
  const Proxy proxy = Proxy::tinyproxy();
  const RunResult r = ask(https_url("echo"), {}, with({ { variable, proxy.url("http") } }));
  check_success(r, reply);
  BOOST_TEST(proxy_saw(proxy, "CONNECT 127.0.0.1:" + port_text(ports().https) + " "), proxy.log());
}

BOOST_DATA_TEST_CASE(plain_http_goes_through_the_http_proxy_variable_in_absolute_form,
                     data::make(std::vector<std::string>{ "HTTP_PROXY", "http_proxy", "ALL_PROXY" }),
                     variable)
{
  const Proxy proxy = Proxy::tinyproxy();
  const RunResult r = ask(http_url("echo"), {}, with({ { variable, proxy.url("http") } }));
  check_success(r, reply);
  BOOST_TEST(proxy_saw(proxy, "POST http://127.0.0.1:" + port_text(ports().http) + "/echo/v1/chat/completions "),
             proxy.log());
}

BOOST_AUTO_TEST_CASE(proxy_option_overrides_the_environment)
{
  const Proxy proxy = Proxy::tinyproxy();
  const Env env = with({ { "HTTPS_PROXY", dead_proxy() }, { "ALL_PROXY", dead_proxy() } });
  check_success(ask(https_url("echo"), { "--proxy", proxy.url("http") }, env), reply);
  BOOST_TEST(proxy_saw(proxy, "CONNECT 127.0.0.1:" + port_text(ports().https) + " "), proxy.log());
}

BOOST_AUTO_TEST_CASE(proxy_url_without_scheme_is_an_http_proxy)
{
  const Proxy proxy = Proxy::tinyproxy();
  check_success(ask(https_url("echo"), { "--proxy", proxy.host_port() }), reply);
  BOOST_TEST(proxy_saw(proxy, "CONNECT 127.0.0.1:" + port_text(ports().https) + " "), proxy.log());
}

BOOST_AUTO_TEST_CASE(empty_proxy_option_means_no_proxy)
{
  const Env env =
    with({ { "HTTPS_PROXY", dead_proxy() }, { "HTTP_PROXY", dead_proxy() }, { "ALL_PROXY", dead_proxy() } });
  check_success(ask(https_url("echo"), { "--proxy", "" }, env), reply);
  check_success(ask(http_url("echo"), { "--proxy", "" }, env), reply);
}

BOOST_AUTO_TEST_CASE(empty_variable_means_no_proxy)
{
  check_success(ask(https_url("echo"), {}, with({ { "HTTPS_PROXY", "" } })), reply);
}

BOOST_AUTO_TEST_CASE(the_scheme_specific_variable_beats_all_proxy)
{
  const Proxy proxy = Proxy::tinyproxy();
  const Env env = with({ { "HTTPS_PROXY", proxy.url("http") }, { "ALL_PROXY", dead_proxy() } });
  check_success(ask(https_url("echo"), {}, env), reply);
  BOOST_TEST(proxy_saw(proxy, "CONNECT 127.0.0.1:"), proxy.log());
}

BOOST_AUTO_TEST_CASE(each_variable_serves_its_own_scheme_only)
{
  check_success(ask(https_url("echo"), {}, with({ { "HTTP_PROXY", dead_proxy() }, { "http_proxy", dead_proxy() } })),
                reply);
  check_success(ask(http_url("echo"), {}, with({ { "HTTPS_PROXY", dead_proxy() }, { "https_proxy", dead_proxy() } })),
                reply);
}

BOOST_AUTO_TEST_CASE(loopback_is_not_exempt_by_itself)
{
  const int port = closed_port();
  const std::string proxy = "http://127.0.0.1:" + port_text(port);
  check_failure(ask(https_url("echo"), { "--retries", "0" }, with({ { "HTTPS_PROXY", proxy } })),
                4,
                { "127.0.0.1:" + port_text(port) });
  check_failure(ask_named(base_url("https", ports().https, "echo", "localhost"),
                          { "--retries", "0" },
                          with({ { "HTTPS_PROXY", proxy } })),
                4,
                { "127.0.0.1:" + port_text(port) });
}

struct NoProxyCase {
  std::string variable; // NO_PROXY or no_proxy
  std::string list;     // "{port}" stands for the https listener's port
  std::string host;     // of the base URL
  bool direct;          // the proxy is bypassed
};

std::ostream& operator<<(std::ostream& os, const NoProxyCase& c)
{
  return os << c.variable << "='" << c.list << "' host " << c.host << (c.direct ? " direct" : " proxied");
}

const std::vector<NoProxyCase> no_proxy_cases{
  { "NO_PROXY", "127.0.0.1", "127.0.0.1", true },
  { "no_proxy", "127.0.0.1", "127.0.0.1", true },
  { "NO_PROXY", "*", "127.0.0.1", true },
  { "NO_PROXY", "*", "localhost", true },
  { "NO_PROXY", "example.com, 127.0.0.1", "127.0.0.1", true },
  { "NO_PROXY", "example.com,127.0.0.1,example.org", "127.0.0.1", true },
  { "NO_PROXY", "127.0.0.1:{port}", "127.0.0.1", true },
  { "NO_PROXY", "127.0.0.1:1", "127.0.0.1", false },
  { "NO_PROXY", "127.0.0.2", "127.0.0.1", false },
  { "NO_PROXY", "127.0.0", "127.0.0.1", false },
  { "NO_PROXY", "example.com", "127.0.0.1", false },
  { "NO_PROXY", "localhost", "localhost", true },
  { "NO_PROXY", ".localhost", "localhost", true },
  { "NO_PROXY", "localhost:{port}", "localhost", true },
  { "NO_PROXY", "calhost", "localhost", false },
  { "NO_PROXY", "host", "localhost", false },
  { "NO_PROXY", "localhost", "127.0.0.1", false },
};

BOOST_DATA_TEST_CASE(no_proxy_list_picks_the_hosts_reached_directly, data::make(no_proxy_cases), c)
{
  std::string list = c.list;
  if (const auto at = list.find("{port}"); at != std::string::npos) {
    list.replace(at, 6, port_text(ports().https));
  }
  const int port = closed_port();
  const Env env = with({ { "HTTPS_PROXY", "http://127.0.0.1:" + port_text(port) }, { c.variable, list } });
  const RunResult r = ask_named(base_url("https", ports().https, "echo", c.host), { "--retries", "0" }, env);
  if (c.direct) {
    check_success(r, reply);
  } else {
    check_failure(r, 4, { "127.0.0.1:" + port_text(port) });
  }
}

BOOST_AUTO_TEST_CASE(no_proxy_serves_plain_http_too)
{
  check_success(ask(http_url("echo"), {}, with({ { "HTTP_PROXY", dead_proxy() }, { "NO_PROXY", "127.0.0.1" } })),
                reply);
}

BOOST_AUTO_TEST_CASE(no_proxy_option_overrides_the_variable)
{
  const int port = closed_port();
  const std::string proxy = "http://127.0.0.1:" + port_text(port);
  check_success(ask(https_url("echo"), { "--no-proxy", "127.0.0.1" }, with({ { "HTTPS_PROXY", proxy } })), reply);
  const Env exempt = with({ { "HTTPS_PROXY", proxy }, { "NO_PROXY", "127.0.0.1" }, { "no_proxy", "127.0.0.1" } });
  check_failure(
    ask(https_url("echo"), { "--retries", "0", "--no-proxy", "" }, exempt), 4, { "127.0.0.1:" + port_text(port) });
  check_failure(ask(https_url("echo"), { "--retries", "0", "--no-proxy", "example.com" }, exempt),
                4,
                { "127.0.0.1:" + port_text(port) });
}

BOOST_AUTO_TEST_CASE(no_proxy_option_exempts_from_the_proxy_option_too)
{
  // As curl: --noproxy applies to every proxy, -x included.
  check_success(ask(https_url("echo"), { "--proxy", dead_proxy(), "--no-proxy", "127.0.0.1" }), reply);
}

BOOST_AUTO_TEST_SUITE_END()

// --- HTTP proxies -------------------------------------------------------

BOOST_AUTO_TEST_SUITE(http_proxy)

BOOST_AUTO_TEST_CASE(http_proxy_gets_the_host_name_not_an_address)
{
  const Proxy proxy = Proxy::tinyproxy();
  const RunResult r =
    ask_named(base_url("https", ports().https, "echo", "localhost"), { "--proxy", proxy.url("http") });
  check_success(r, reply);
  BOOST_TEST(proxy_saw(proxy, "CONNECT localhost:" + port_text(ports().https) + " "), proxy.log());
}

BOOST_AUTO_TEST_CASE(closed_proxy_port_is_a_network_error_naming_the_proxy)
{
  const int port = closed_port();
  for (const std::string& target : { https_url("echo"), http_url("echo") }) {
    const RunResult r = ask(target, { "--proxy", "http://user:Secret-closed@127.0.0.1:" + port_text(port) });
    check_failure(r, 4, { "127.0.0.1:" + port_text(port) });
    check_hidden(r, { "Secret-closed" });
    BOOST_TEST(r.elapsed < seconds(10), r.describe());
  }
}

BOOST_AUTO_TEST_CASE(basic_auth_with_the_right_password_works)
{
  const Proxy proxy = Proxy::tinyproxy(tiny_user);
  check_success(ask(https_url("echo"), { "--proxy", proxy.url("http", tiny_userinfo) }), reply);
  BOOST_TEST(proxy_saw(proxy, "CONNECT 127.0.0.1:" + port_text(ports().https) + " "), proxy.log());
  check_success(ask(http_url("echo"), { "--proxy", proxy.url("http", tiny_userinfo) }), reply);
  check_success(ask(https_url("echo"), {}, with({ { "HTTPS_PROXY", proxy.url("http", tiny_userinfo) } })), reply);
}

BOOST_AUTO_TEST_CASE(verbose_names_the_proxy_but_never_its_password)
{
  const Proxy proxy = Proxy::tinyproxy(tiny_user);
  const RunResult r = ask(https_url("echo"), { "-v", "--proxy", proxy.url("http", tiny_userinfo) });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == reply, r.describe());
  check_verbose_lines(r);
  BOOST_TEST(contains(r.err, proxy.host_port()), r.describe());
  BOOST_TEST(contains(r.err, "127.0.0.1:" + port_text(ports().https)), r.describe());
  check_hidden(r, { tiny_user.password, "Secret%2Dpw.9", "Secret" });
}

BOOST_AUTO_TEST_CASE(wrong_password_is_a_proxy_refusal)
{
  // tinyproxy 1.11 refuses wrong credentials with 401 (and WWW-Authenticate),
  // not 407.
  const Proxy proxy = Proxy::tinyproxy(tiny_user);
  const RunResult r = ask(https_url("echo"), { "--proxy", proxy.url("http", "user:Wrong-SECRET") });
  check_failure(r, 4, { proxy.host_port(), "401" });
  check_hidden(r, { "Wrong-SECRET" });
  const RunResult verbose = ask(https_url("echo"), { "-v", "--proxy", proxy.url("http", "user:Wrong-SECRET") });
  BOOST_TEST(verbose.exit_code == 4, verbose.describe());
  BOOST_TEST(verbose.out == "", verbose.describe());
  check_verbose_lines(verbose);
  check_hidden(verbose, { "Wrong-SECRET" });
  const RunResult env = ask(https_url("echo"), {}, with({ { "HTTPS_PROXY", proxy.url("http", "user:Wrong-SECRET") } }));
  check_failure(env, 4, { proxy.host_port(), "401" });
  check_hidden(env, { "Wrong-SECRET" });
}

BOOST_AUTO_TEST_CASE(missing_credentials_are_a_proxy_refusal)
{
  // Without any credentials tinyproxy answers 407.
  const Proxy proxy = Proxy::tinyproxy(tiny_user);
  check_failure(ask(https_url("echo"), { "--proxy", proxy.url("http") }), 4, { proxy.host_port(), "407" });
}

struct Refusal {
  std::string scheme; // of the target: https (CONNECT) or http (absolute form)
  int status;
};

std::ostream& operator<<(std::ostream& os, const Refusal& r)
{
  return os << r.scheme << " " << r.status;
}

// The test server's http listener plays a proxy that refuses (see
// refuse-NNN.test in test_server.cpp). Through an HTTP proxy a plain http
// request is answered by the proxy as if by the server, so there only 407
// surely comes from the proxy.
const std::vector<Refusal> refusals{
  { "https", 407 }, { "https", 403 }, { "https", 502 }, { "https", 503 }, { "http", 407 },
};

BOOST_DATA_TEST_CASE(refusal_by_the_proxy_is_a_network_error_naming_it, data::make(refusals), refusal)
{
  const std::string proxy_host = "127.0.0.1:" + port_text(ports().http);
  const std::string target = refusal.scheme + "://refuse-" + std::to_string(refusal.status) + ".test/v1";
  const RunResult r = ask(target, { "--proxy", "http://someone:Refused-SECRET@" + proxy_host });
  check_failure(r, 4, { proxy_host, std::to_string(refusal.status) });
  check_hidden(r, { "Refused-SECRET" });
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
}

BOOST_AUTO_TEST_CASE(server_sees_the_key_but_no_proxy_credentials)
{
  const Proxy proxy = Proxy::tinyproxy(tiny_user);
  for (const std::string& target : { http_url("request"), https_url("request") }) {
    const RunResult r = ask(target, { "--proxy", proxy.url("http", tiny_userinfo) });
    const SeenRequest seen = seen_request(r);
    BOOST_TEST(seen.header("authorization").value_or("(none)") == "Bearer " + fake_key, r.describe());
    BOOST_TEST(!seen.header("proxy-authorization").has_value(), r.describe());
    BOOST_TEST(!contains(r.out, tiny_user.password), r.describe());
    BOOST_TEST(seen.target == "/request/v1/chat/completions", r.describe());
  }
  // Only plain http is relayed by the proxy (it adds Via); https is tunnelled.
  const RunResult relayed = ask(http_url("request"), { "--proxy", proxy.url("http", tiny_userinfo) });
  BOOST_TEST(contains(seen_request(relayed).header("via").value_or(""), "tinyproxy"), relayed.describe());
  BOOST_TEST(proxy_saw(proxy, "POST http://127.0.0.1:" + port_text(ports().http) + "/request/v1/chat/completions "),
             proxy.log());
}

BOOST_AUTO_TEST_CASE(proxy_that_never_answers_connect_hits_the_connect_timeout)
{
  const std::string silent = "127.0.0.1:" + port_text(ports().silent);
  const RunResult r = ask(https_url("echo"), { "--proxy", "http://" + silent, "--connect-timeout", "1" });
  check_failure(r, 4, { silent });
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
}

BOOST_AUTO_TEST_SUITE_END()

// --- SOCKS5 proxies -----------------------------------------------------

BOOST_AUTO_TEST_SUITE(socks_proxy)

BOOST_AUTO_TEST_CASE(socks5_resolves_locally_and_connects_to_the_address)
{
  const Proxy proxy = Proxy::microsocks();
  check_success(ask(https_url("echo"), { "--proxy", proxy.url("socks5") }), reply);
  BOOST_TEST(proxy_saw(proxy, "127.0.0.1:" + port_text(ports().https)), proxy.log());
  check_success(ask_named(base_url("https", ports().https, "echo", "localhost"), { "--proxy", proxy.url("socks5") }),
                reply);
  BOOST_TEST(!proxy_saw(proxy, "localhost:"), proxy.log());
}

BOOST_AUTO_TEST_CASE(socks5h_leaves_the_name_to_the_proxy)
{
  const Proxy proxy = Proxy::microsocks();
  check_success(ask_named(base_url("https", ports().https, "echo", "localhost"), { "--proxy", proxy.url("socks5h") }),
                reply);
  BOOST_TEST(proxy_saw(proxy, "localhost:" + port_text(ports().https)), proxy.log());
}

BOOST_AUTO_TEST_CASE(socks_carries_plain_http_and_comes_from_all_proxy)
{
  const Proxy proxy = Proxy::microsocks();
  check_success(ask(http_url("echo"), {}, with({ { "ALL_PROXY", proxy.url("socks5h") } })), reply);
  check_success(ask(https_url("echo"), {}, with({ { "HTTPS_PROXY", proxy.url("socks5") } })), reply);
  BOOST_TEST(proxy_saw(proxy, "127.0.0.1:" + port_text(ports().http)), proxy.log());
  BOOST_TEST(proxy_saw(proxy, "127.0.0.1:" + port_text(ports().https)), proxy.log());
}

BOOST_AUTO_TEST_CASE(socks_password_is_percent_decoded_and_never_shown)
{
  const Proxy proxy = Proxy::microsocks(socks_user);
  check_success(ask(https_url("echo"), { "--proxy", proxy.url("socks5", socks_userinfo) }), reply);
  const RunResult r = ask_named(base_url("https", ports().https, "echo", "localhost"),
                                { "-v", "--proxy", proxy.url("socks5h", socks_userinfo) });
  BOOST_TEST(r.exit_code == 0, r.describe());
  BOOST_TEST(r.out == reply, r.describe());
  check_verbose_lines(r);
  BOOST_TEST(contains(r.err, proxy.host_port()), r.describe());
  check_hidden(r, { socks_user.password, "p%40ss", "Zq9x" });
}

BOOST_AUTO_TEST_CASE(socks_wrong_or_missing_credentials_are_a_proxy_refusal)
{
  const Proxy proxy = Proxy::microsocks(socks_user);
  for (const std::string scheme : { "socks5", "socks5h" }) {
    const RunResult wrong = ask(https_url("echo"), { "--proxy", proxy.url(scheme, "user:Wrong-SECRET") });
    check_failure(wrong, 4, { proxy.host_port() });
    check_hidden(wrong, { "Wrong-SECRET" });
    const RunResult verbose = ask(https_url("echo"), { "-v", "--proxy", proxy.url(scheme, "user:Wrong-SECRET") });
    BOOST_TEST(verbose.exit_code == 4, verbose.describe());
    check_verbose_lines(verbose);
    check_hidden(verbose, { "Wrong-SECRET" });
    check_failure(ask(https_url("echo"), { "--proxy", proxy.url(scheme) }), 4, { proxy.host_port() });
  }
}

BOOST_AUTO_TEST_CASE(socks_refusing_the_target_is_a_network_error)
{
  const Proxy proxy = Proxy::microsocks();
  const RunResult r = ask(base_url("https", closed_port(), "echo"), { "--proxy", proxy.url("socks5") });
  check_failure(r, 4, { proxy.host_port() });
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
}

BOOST_AUTO_TEST_CASE(closed_socks_port_is_a_network_error_naming_the_proxy)
{
  const int port = closed_port();
  const RunResult r = ask(https_url("echo"), { "--proxy", "socks5h://u:Closed-SECRET@127.0.0.1:" + port_text(port) });
  check_failure(r, 4, { "127.0.0.1:" + port_text(port) });
  check_hidden(r, { "Closed-SECRET" });
}

BOOST_AUTO_TEST_CASE(socks_handshake_is_under_the_connect_timeout)
{
  const std::string silent = "127.0.0.1:" + port_text(ports().silent);
  const RunResult r = ask(https_url("echo"), { "--proxy", "socks5://" + silent, "--connect-timeout", "1" });
  check_failure(r, 4, { silent });
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
}

BOOST_AUTO_TEST_CASE(socks_default_port_is_1080)
{
  std::optional<Proxy> proxy;
  try {
    proxy.emplace(Proxy::microsocks(std::nullopt, 1080));
  } catch (const std::exception& e) {
    BOOST_TEST_MESSAGE("skipped: no microsocks on port 1080 (" << e.what() << ")");
    return;
  }
  check_success(ask(https_url("echo"), { "--proxy", "socks5://127.0.0.1" }), reply);
  BOOST_TEST(proxy_saw(*proxy, "127.0.0.1:" + port_text(ports().https)), proxy->log());
}

BOOST_AUTO_TEST_SUITE_END()

// --- Retries --------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(retry)

// "flaky/KEY/N/KIND" with a fresh KEY.
std::string flaky(const std::string& key, int failures, const std::string& kind)
{
  return https_url("flaky/" + key + "/" + std::to_string(failures) + "/" + kind);
}

BOOST_DATA_TEST_CASE(
  passing_failures_are_retried_silently,
  data::make(std::vector<std::string>{ "408", "409", "429", "500", "502", "503", "504", "429ms", "reset" }),
  kind)
{
  const std::string key = fresh_key("retried-" + kind);
  check_success(ask(flaky(key, 1, kind), { "--retries", "1" }), reply);
  BOOST_TEST(attempts(key) == 2);
}

struct Final {
  std::string kind;
  int exit_code;
};

std::ostream& operator<<(std::ostream& os, const Final& f)
{
  return os << f.kind;
}

const std::vector<Final> finals{
  { "400", 5 }, { "401", 3 }, { "403", 3 }, { "404", 5 }, { "422", 5 }, { "429quota", 6 }, { "noretry", 7 },
};

BOOST_DATA_TEST_CASE(lasting_failures_are_not_retried, data::make(finals), f)
{
  const std::string key = fresh_key("final-" + f.kind);
  check_failure(ask(flaky(key, 1, f.kind), { "--retries", "3" }), f.exit_code);
  BOOST_TEST(attempts(key) == 1);
}

BOOST_AUTO_TEST_CASE(two_retries_by_default)
{
  const std::string passes = fresh_key("default-passes");
  check_success(ask(flaky(passes, 2, "503")), reply);
  BOOST_TEST(attempts(passes) == 3);
  const std::string fails = fresh_key("default-fails");
  check_failure(ask(flaky(fails, 3, "503")), 7, { "503" });
  BOOST_TEST(attempts(fails) == 3);
}

BOOST_AUTO_TEST_CASE(the_last_failure_gives_the_exit_code)
{
  const std::string key = fresh_key("last");
  check_failure(ask(flaky(key, 2, "503"), { "--retries", "1" }), 7, { "503" });
  BOOST_TEST(attempts(key) == 2);
  const std::string limited = fresh_key("last-429");
  check_failure(ask(flaky(limited, 5, "429"), { "--retries", "2" }), 6, { "429" });
  BOOST_TEST(attempts(limited) == 3);
  const std::string reset = fresh_key("last-reset");
  check_failure(ask(flaky(reset, 5, "reset"), { "--retries", "1" }), 4);
  BOOST_TEST(attempts(reset) == 2);
}

BOOST_AUTO_TEST_CASE(no_retry_with_retries_0)
{
  const std::string key = fresh_key("zero");
  check_failure(ask(flaky(key, 1, "503"), { "--retries", "0" }), 7, { "503" });
  BOOST_TEST(attempts(key) == 1);
}

BOOST_AUTO_TEST_CASE(rate_limit_with_retry_after_0_is_retried_at_once)
{
  const std::string key = fresh_key("429-now");
  const RunResult r = ask(flaky(key, 2, "429"), { "--retries", "2" });
  check_success(r, reply);
  BOOST_TEST(attempts(key) == 3);
  BOOST_TEST(r.elapsed < seconds(5), r.describe());
}

BOOST_AUTO_TEST_CASE(connection_closed_without_a_response_is_retried)
{
  const std::string key = fresh_key("drop");
  check_failure(ask(https_url("counted/" + key + "/drop"), { "--retries", "1" }), 4);
  BOOST_TEST(attempts(key) == 2);
}

BOOST_AUTO_TEST_CASE(retry_after_as_a_date_is_waited_for)
{
  // The date is 1-2 s away; the backoff alone would wait at most 0.5 s.
  const std::string key = fresh_key("date");
  const RunResult r = ask(flaky(key, 1, "retry-date"), { "--retries", "1" });
  check_success(r, reply);
  BOOST_TEST(attempts(key) == 2);
  BOOST_TEST(r.elapsed >= milliseconds(900), r.describe());
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
}

BOOST_DATA_TEST_CASE(long_retry_after_fails_at_once_saying_when_to_retry,
                     data::make(std::vector<std::string>{ "retry-long", "retry-long-date" }),
                     kind)
{
  const std::string key = fresh_key(kind);
  const RunResult r = ask(flaky(key, 1, kind), { "--retries", "2" });
  check_failure(r, 7, { "503" });
  BOOST_TEST(attempts(key) == 1);
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
  BOOST_TEST((contains(lower(r.err), "retry") || contains(lower(r.err), "try again")), r.describe());
}

BOOST_AUTO_TEST_CASE(server_may_ask_for_a_retry)
{
  // x-should-retry: true makes even a 400 worth another try.
  const std::string key = fresh_key("should");
  check_success(ask(flaky(key, 1, "shouldretry"), { "--retries", "1" }), reply);
  BOOST_TEST(attempts(key) == 2);
}

BOOST_AUTO_TEST_CASE(verbose_shows_one_line_per_retry)
{
  auto retry_lines = [](const RunResult& r) {
    const auto lines = split_lines(r.err);
    return std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return contains(lower(l), "retr"); });
  };
  const RunResult once = ask(flaky(fresh_key("verbose-none"), 0, "503"), { "-v", "--retries", "2" });
  const RunResult twice = ask(flaky(fresh_key("verbose-two"), 2, "503"), { "-v", "--retries", "2" });
  for (const RunResult* r : { &once, &twice }) {
    BOOST_TEST(r->exit_code == 0, r->describe());
    BOOST_TEST(r->out == reply, r->describe());
    check_verbose_lines(*r);
    check_hidden(*r, {});
    BOOST_TEST(contains(r->err, "127.0.0.1:" + port_text(ports().https)), r->describe());
  }
  BOOST_TEST(retry_lines(twice) == retry_lines(once) + 2, once.describe() << "\n" << twice.describe());
  BOOST_TEST(contains(twice.err, "503"), twice.describe());
}

struct Started {
  std::string mode;
  std::vector<std::string> extra;
  int exit_code;
};

std::ostream& operator<<(std::ostream& os, const Started& s)
{
  return os << s.mode;
}

const std::vector<Started> started_replies{
  { "sse-drop", {}, 8 },
  { "sse-error", {}, 8 },
  { "sse-stall", { "--idle-timeout", "1" }, 4 },
};

BOOST_DATA_TEST_CASE(nothing_is_retried_once_the_reply_has_started, data::make(started_replies), s)
{
  const std::string key = fresh_key("started-" + s.mode);
  std::vector<std::string> extra{ "--retries", "3" };
  extra.insert(extra.end(), s.extra.begin(), s.extra.end());
  const RunResult r = ask(https_url("counted/" + key + "/" + s.mode), extra);
  BOOST_TEST(r.exit_code == s.exit_code, r.describe());
  BOOST_TEST(r.out == "abcdefgh\n", r.describe());
  BOOST_TEST(attempts(key) == 1);
}

BOOST_AUTO_TEST_CASE(retries_must_be_a_count)
{
  for (const std::string bad : { "-1", "x", "1.5", "" }) {
    check_failure(ask(https_url("echo"), { "--retries", bad }), 2, { "--retries" });
  }
}

BOOST_AUTO_TEST_SUITE_END()

// --- Timeouts -------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(network_timeouts)

BOOST_AUTO_TEST_CASE(slow_response_head_hits_the_idle_timeout)
{
  const RunResult r = ask(https_url("slow-head/3000"), { "--idle-timeout", "1" });
  check_failure(r, 4, { "--idle-timeout" });
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
}

BOOST_AUTO_TEST_CASE(slow_response_head_within_the_idle_timeout_is_fine)
{
  check_success(ask(https_url("slow-head/300"), { "--idle-timeout", "5" }), reply);
}

BOOST_AUTO_TEST_CASE(stalled_stream_hits_the_idle_timeout_and_keeps_the_text)
{
  const RunResult r = ask(https_url("sse-stall"), { "--idle-timeout", "1" });
  BOOST_TEST(r.exit_code == 4, r.describe());
  BOOST_TEST(r.out == "abcdefgh\n", r.describe());
  BOOST_TEST(starts_with(r.err, "gptq: "), r.describe());
  BOOST_TEST(split_lines(r.err).size() == 1u, r.describe());
  BOOST_TEST(contains(r.err, "--idle-timeout"), r.describe());
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
}

BOOST_AUTO_TEST_CASE(tls_handshake_through_a_proxy_is_under_the_connect_timeout)
{
  // tinyproxy connects to the silent listener, so CONNECT succeeds; the TLS
  // handshake inside the tunnel then never completes.
  const Proxy proxy = Proxy::tinyproxy();
  const RunResult r =
    ask(base_url("https", ports().silent, "echo"), { "--proxy", proxy.url("http"), "--connect-timeout", "1" });
  check_failure(r, 4, { "--connect-timeout" });
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
  BOOST_TEST(proxy_saw(proxy, "CONNECT 127.0.0.1:" + port_text(ports().silent) + " "), proxy.log());
}

BOOST_AUTO_TEST_CASE(tls_close_sends_close_notify_and_does_not_wait_for_the_servers)
{
  // The server never answers close_notify and holds the connection for
  // 300 s. It counts the request when gptq's close_notify is followed by
  // the close of the connection with nothing in between (which it may see
  // a moment after gptq has exited).
  const std::string key = fresh_key("close-notify");
  const RunResult r = ask(https_url("no-close-notify/" + key));
  check_success(r, reply);
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
  for (int i = 0; i < 200 && attempts(key) == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  BOOST_TEST(attempts(key) == 1);
}

BOOST_AUTO_TEST_CASE(whole_request_timeout_cuts_a_slow_stream)
{
  const RunResult r = ask(https_url("sse-delay/800"), { "--timeout", "1" });
  BOOST_TEST(r.exit_code == 4, r.describe());
  BOOST_TEST(starts_with(r.err, "gptq: "), r.describe());
  BOOST_TEST(split_lines(r.err).size() == 1u, r.describe());
  BOOST_TEST(contains(r.err, "--timeout"), r.describe());
  BOOST_TEST(starts_with(reply, r.out.substr(0, r.out.empty() ? 0 : r.out.size() - 1)), r.describe());
  BOOST_TEST(r.elapsed < seconds(10), r.describe());
}

BOOST_AUTO_TEST_SUITE_END()

// --- Request headers and addresses ------------------------------------------

BOOST_AUTO_TEST_SUITE(request_headers)

BOOST_AUTO_TEST_CASE(extra_headers_reach_the_server)
{
  const RunResult r = ask(https_url("request"), { "-H", "X-Test: 1", "--header", "X-Other:  two words " });
  const SeenRequest seen = seen_request(r);
  BOOST_TEST(seen.header("x-test").value_or("(none)") == "1", r.describe());
  BOOST_TEST(seen.header("x-other").value_or("(none)") == "two words", r.describe());
  BOOST_TEST(seen.header("authorization").value_or("(none)") == "Bearer " + fake_key, r.describe());
}

BOOST_AUTO_TEST_CASE(bad_headers_are_usage_errors)
{
  for (const std::string bad : { "NoColon", "X-Bad: a\r\nInjected: 1", "X-Bad: a\nb", ": no name" }) {
    check_failure(ask(https_url("request"), { "-H", bad }), 2, { "--header" });
  }
}

BOOST_AUTO_TEST_CASE(key_header_sends_the_bare_key_under_that_name)
{
  const RunResult r = ask(https_url("request"), { "--key-header", "api-key" });
  const SeenRequest seen = seen_request(r);
  BOOST_TEST(seen.header("api-key").value_or("(none)") == fake_key, r.describe());
  BOOST_TEST(!seen.header("authorization").has_value(), r.describe());
}

BOOST_AUTO_TEST_CASE(ipv6_literal_url_works)
{
  if (!ipv6_loopback_accepts(ports().https)) {
    BOOST_TEST_MESSAGE("skipped: the test server does not listen on [::1]");
    return;
  }
  check_success(ask("https://[::1]:" + port_text(ports().https) + "/echo/v1"), reply);
  const Proxy proxy = Proxy::tinyproxy();
  check_success(ask("https://[::1]:" + port_text(ports().https) + "/echo/v1", { "--proxy", proxy.url("http") }), reply);
  BOOST_TEST(proxy_saw(proxy, "CONNECT [::1]:" + port_text(ports().https) + " "), proxy.log());
}

BOOST_AUTO_TEST_SUITE_END()
