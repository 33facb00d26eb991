// Connecting on real networks: a name with several addresses (Debian's
// `localhost` is ::1 and 127.0.0.1) against a server on one of them, an
// address that stays silent (Happy Eyeballs), a port closed on every
// address, proxies reached by name, and a system CA bundle that cannot be
// read. Names resolve through a hosts file of the test's own
// (run_gptq_with_hosts); every target is a loopback address.

#include "proxy.hpp"
#include "raw_server.hpp"

#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace gptq::it;
using std::chrono::seconds;

namespace {

// A server that answers every request of a connection with the content of
// its user message: an Ollama or llama.cpp server, which listen on
// 127.0.0.1 only.
RawServer echo_server()
{
  return RawServer([](RawConnection& c) {
    for (std::string request; !(request = c.read_request()).empty();) {
      c.send(completion_response(user_content_of(request)));
    }
  });
}

// A loopback address that takes no connection and refuses none: a socket
// listening with a backlog of one, filled by a connection of its own that
// is never accepted, so that the kernel drops every further SYN and a
// client's connect stays pending, as behind a broken IPv6 route. Binds
// `address` ("::1" or "127.0.0.1") at `port`, or at a free port when 0.
class SilentAddress {
public:
  SilentAddress(const std::string& address, int port)
  {
    const bool v6 = address.find(':') != std::string::npos;
    sockaddr_storage storage{};
    socklen_t size = 0;
    if (v6) {
      auto& a = reinterpret_cast<sockaddr_in6&>(storage);
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(static_cast<std::uint16_t>(port));
      inet_pton(AF_INET6, address.c_str(), &a.sin6_addr);
      size = sizeof a;
    } else {
      auto& a = reinterpret_cast<sockaddr_in&>(storage);
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<std::uint16_t>(port));
      inet_pton(AF_INET, address.c_str(), &a.sin_addr);
      size = sizeof a;
    }
    auto* addr = reinterpret_cast<sockaddr*>(&storage);
    listener_ = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    if (listener_ == -1 || (v6 && setsockopt(listener_, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
        bind(listener_, addr, size) != 0 || listen(listener_, 0) != 0 || getsockname(listener_, addr, &size) != 0) {
      fail("cannot listen on " + address + " port " + std::to_string(port));
    }
    port_ =
      ntohs(v6 ? reinterpret_cast<sockaddr_in6&>(storage).sin6_port : reinterpret_cast<sockaddr_in&>(storage).sin_port);
    // The filler: its handshake completes and it waits in the queue.
    filler_ = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (filler_ == -1 || connect(filler_, addr, size) != 0) {
      fail("cannot connect to " + address + " port " + std::to_string(port_));
    }
  }
  ~SilentAddress() { close_all(); }
  SilentAddress(const SilentAddress&) = delete;
  SilentAddress& operator=(const SilentAddress&) = delete;

  int port() const { return port_; }

private:
  [[noreturn]] void fail(const std::string& what)
  {
    const std::string why = std::strerror(errno);
    close_all();
    throw std::runtime_error(what + ": " + why + " (these tests need the IPv6 loopback, ::1)");
  }
  void close_all()
  {
    for (int* fd : { &filler_, &listener_ }) {
      if (*fd != -1) {
        close(*fd);
        *fd = -1;
      }
    }
  }

  int listener_ = -1;
  int filler_ = -1;
  int port_ = 0;
};

std::string port_text(int port)
{
  return std::to_string(port);
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_connect)

// Ollama and llama.cpp listen on 127.0.0.1 alone, and a fresh Debian's
// `localhost` is ::1 first: refused there, 127.0.0.1 must still be tried
// with a socket of its own.
BOOST_AUTO_TEST_CASE(localhost_reaches_a_server_on_127_0_0_1_only)
{
  RawServer server = echo_server();
  const std::string url = "http://localhost:" + port_text(server.port()) + "/v1";
  check_success(run_gptq_with_hosts(debian_hosts, { "--base-url", url, "--no-stdin", "hello" }), "hello\n");
}

// The README's Ollama example and the man page's llama.cpp example, as
// written (no key), against a server on 127.0.0.1 only.
BOOST_AUTO_TEST_CASE(documented_local_server_examples_work_with_debian_hosts)
{
  RawServer server = echo_server();
  const std::string url = "http://localhost:" + port_text(server.port()) + "/v1";
  Env ollama = base_env();
  ollama["OPENAI_BASE_URL"] = url;
  check_success(run_gptq_with_hosts(debian_hosts, { "-m", "llama3.2", "name three prime numbers" }, ollama),
                "name three prime numbers\n");
  check_success(run_gptq_with_hosts(debian_hosts, { "--base-url", url, "-m", "local", "hello" }, base_env()),
                "hello\n");
}

BOOST_AUTO_TEST_CASE(verbose_names_the_addresses_tried_and_the_one_that_answered)
{
  RawServer server = echo_server();
  const std::string where = "localhost:" + port_text(server.port());
  const RunResult r =
    run_gptq_with_hosts(debian_hosts, { "--base-url", "http://" + where + "/v1", "--no-stdin", "-v", "hello" });
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out == "hello\n");
    BOOST_TEST(contains(r.err, "gptq: cannot connect to [::1]:" + port_text(server.port()) + ": Connection refused\n"));
    BOOST_TEST(contains(r.err, "gptq: connected to " + where + " at 127.0.0.1:" + port_text(server.port())));
  }
}

// A server that is down is refused on every address: the message says so,
// not "Software caused connection abort" from a socket reused across the
// address families.
BOOST_AUTO_TEST_CASE(a_port_closed_on_every_address_is_refused)
{
  const int port = closed_port();
  const RunResult r = run_gptq_with_hosts(
    debian_hosts,
    { "--base-url", "http://localhost:" + port_text(port) + "/v1", "--retries", "0", "--no-stdin", "hi" });
  check_failure(r, 4, { "cannot connect to localhost:" + port_text(port), "refused" });
  BOOST_TEST(!contains(r.err, "abort"), r.describe());
}

// RFC 8305: while the first address stays silent, the next is tried after
// a moment, not after the whole --connect-timeout. A client that tries the
// addresses one after another would wait 20 s on ::1 and be killed at 10 s.
BOOST_AUTO_TEST_CASE(a_silent_first_address_does_not_hold_up_the_next)
{
  RawServer server = echo_server();
  const SilentAddress silent("::1", server.port());
  const std::string hosts = "::1 eyeballs.test\n127.0.0.1 eyeballs.test\n";
  const std::vector<std::string> args{ "--base-url",        "http://eyeballs.test:" + port_text(server.port()) + "/v1",
                                       "--connect-timeout", "20",
                                       "--retries",         "0",
                                       "--no-stdin",        "hello" };
  check_success(run_gptq_with_hosts(hosts, args, key_env(), StdinSpec::dev_null(), seconds(10)), "hello\n");
  // The first address was tried, and was still pending when the other won.
  std::vector<std::string> verbose = args;
  verbose.insert(verbose.end() - 1, "-v");
  const RunResult r = run_gptq_with_hosts(hosts, verbose, key_env(), StdinSpec::dev_null(), seconds(10));
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE(!r.killed);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(contains(r.err, "gptq: trying [::1]:" + port_text(server.port())));
    BOOST_TEST(contains(r.err, "gptq: connected to eyeballs.test:" + port_text(server.port()) + " at 127.0.0.1:"));
  }
}

// The same through TLS, whose context is made while the connections are
// pending: the handshake goes to the address that won. The wronghost
// listener (127.0.0.1 only) has a certificate for wrong.example.
BOOST_AUTO_TEST_CASE(a_silent_first_address_does_not_hold_up_tls)
{
  const SilentAddress silent("::1", ports().wronghost);
  const std::string hosts = "::1 wrong.example\n127.0.0.1 wrong.example\n";
  check_success(run_gptq_with_hosts(hosts,
                                    { "--base-url",
                                      base_url("https", ports().wronghost, "echo", "wrong.example"),
                                      "--cacert",
                                      cert("ca.pem"),
                                      "--connect-timeout",
                                      "20",
                                      "--retries",
                                      "0",
                                      "--no-stdin",
                                      "hello" },
                                    key_env(),
                                    StdinSpec::dev_null(),
                                    seconds(10)),
                "hello\n");
}

// Every address silent: one --connect-timeout in all, not one per address.
BOOST_AUTO_TEST_CASE(silent_addresses_share_one_connect_timeout)
{
  const SilentAddress silent6("::1", 0);
  const SilentAddress silent4("127.0.0.1", silent6.port());
  const std::string hosts = "::1 silent.test\n127.0.0.1 silent.test\n";
  const std::string where = "silent.test:" + port_text(silent6.port());
  const RunResult r = run_gptq_with_hosts(
    hosts,
    { "--base-url", "http://" + where + "/v1", "--connect-timeout", "3", "--retries", "0", "--no-stdin", "hi" },
    key_env(),
    StdinSpec::dev_null(),
    seconds(5));
  check_failure(r, 4, { "cannot connect to " + where, "no answer within 3 s (--connect-timeout)" });
}

// A refusal is the most telling failure: it wins over an address that never
// answered.
BOOST_AUTO_TEST_CASE(a_refusal_is_named_over_a_silent_address)
{
  const SilentAddress silent("::1", 0);
  const std::string hosts = "::1 half.test\n127.0.0.1 half.test\n";
  const std::string where = "half.test:" + port_text(silent.port());
  const RunResult r = run_gptq_with_hosts(
    hosts, { "--base-url", "http://" + where + "/v1", "--connect-timeout", "1", "--retries", "0", "--no-stdin", "hi" });
  check_failure(r, 4, { "cannot connect to " + where, "refused" });
}

// The TLS context, and so --cacert, is made while the first attempt is
// pending: a bad one ends the run at once, without waiting for an address
// that never answers.
BOOST_AUTO_TEST_CASE(a_bad_cacert_ends_the_run_while_an_address_is_silent)
{
  const SilentAddress silent("127.0.0.1", 0);
  const RunResult r = run_gptq({ "--base-url",
                                 "https://127.0.0.1:" + port_text(silent.port()) + "/v1",
                                 "--cacert",
                                 "/nonexistent/ca.pem",
                                 "--connect-timeout",
                                 "20",
                                 "--no-stdin",
                                 "hi" },
                               key_env(),
                               StdinSpec::dev_null());
  check_failure(r, 2, { "--cacert", "/nonexistent/ca.pem" });
}

// Proxies are reached through the same connect: by name, with Debian's
// hosts, while listening on 127.0.0.1 only.
BOOST_AUTO_TEST_CASE(proxies_named_localhost_are_reached)
{
  RawServer server = echo_server();
  const Proxy socks = Proxy::microsocks();
  for (const std::string scheme : { "socks5h", "socks5" }) {
    check_success(run_gptq_with_hosts(debian_hosts,
                                      { "--base-url",
                                        server.url(),
                                        "--proxy",
                                        scheme + "://localhost:" + port_text(socks.port()),
                                        "--no-stdin",
                                        "hello" }),
                  "hello\n");
  }
  const Proxy tiny = Proxy::tinyproxy();
  check_success(
    run_gptq_with_hosts(
      debian_hosts,
      { "--base-url", server.url(), "--proxy", "http://localhost:" + port_text(tiny.port()), "--no-stdin", "hello" }),
    "hello\n");
}

// When the system store does not verify the server and SSL_CERT_FILE cannot
// be read as a bundle, the message names it: the likely cause.
BOOST_AUTO_TEST_CASE(an_unusable_ssl_cert_file_is_named_when_verification_fails)
{
  const std::string directory = scratch_dir() + "/empty-ca-dir";
  const std::string garbage = scratch_file("garbage-bundle.pem", "this is not a certificate\n");
  for (const auto& [file, why] :
       { std::pair{ directory, "is a directory" },
         std::pair{ garbage, "holds no PEM certificate" },
         std::pair{ scratch_dir() + "/no-such-bundle.pem", "cannot be read: No such file" } }) {
    Env env = key_env();
    env["SSL_CERT_FILE"] = file;
    check_failure(run_gptq({ "--base-url", https_url("echo"), "--no-stdin", "hello" }, env),
                  4,
                  { "not trusted", "SSL_CERT_FILE " + file, why });
  }
}

BOOST_AUTO_TEST_SUITE_END()
