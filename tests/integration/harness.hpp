#pragma once

// What every integration test shares: the one test server of this run, the
// environments gptq is given, and the checks every success and every failure
// must pass.

#include "process.hpp"

#include <boost/json/object.hpp>

#include <filesystem>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptq::it {

// A recognisable fake key: it must never appear in gptq's output.
inline const std::string fake_key = "sk-test-SECRET-0123456789abcdef";

// The ports of the test server's listeners (see tests/server/test_server.cpp).
struct Ports {
  int https = 0;
  int expired = 0;
  int wronghost = 0;
  int selfsigned = 0;
  int http = 0;
  int silent = 0;
};

// The global fixture: starts gptq_test_server before the first test and
// stops it after the last, and owns a scratch directory for the run.
struct Suite {
  Suite();
  ~Suite();
};

// The ports of the running server. Only valid while Suite exists.
const Ports& ports();

// `name` in the certificates directory made by make_certs.sh, e.g. "ca.pem".
std::string cert(const std::string& name);

// A fresh directory for this test binary's own files, removed at the end.
const std::string& scratch_dir();

// A 127.0.0.1 port on which nothing listens (it was bound, then released).
int closed_port();

// "SCHEME://HOST:PORT/MODE/v1".
std::string base_url(const std::string& scheme,
                     int port,
                     const std::string& mode,
                     const std::string& host = "127.0.0.1");
std::string https_url(const std::string& mode);
std::string http_url(const std::string& mode);

// PATH plus a trust store that holds nothing: SSL_CERT_FILE an empty file,
// SSL_CERT_DIR an empty directory. Nothing is inherited from the test's own
// environment.
Env base_env();
// base_env() plus OPENAI_API_KEY=fake_key.
Env key_env();
// PATH plus the machine's system store only (no test CA anywhere).
Env system_store_env();

// The body of the test server's reply to GET `target` on its http listener
// (HTTP/1.0: the server closes after it); fails the test when none comes.
std::string http_get_body(const std::string& target);
// As http_get_body, with another method (DELETE) and no body.
std::string http_request_body(const std::string& method, const std::string& target);

// Runs the built gptq with `args` (argv without argv[0]).
RunResult run_gptq(const std::vector<std::string>& args,
                   const Env& env = key_env(),
                   const StdinSpec& in = StdinSpec::dev_null());

// Debian's default /etc/hosts: `localhost` is ::1 as well as 127.0.0.1,
// and the resolver gives ::1 first.
inline const std::string debian_hosts = "127.0.0.1\tlocalhost\n"
                                        "127.0.1.1\tdebian\n"
                                        "\n"
                                        "# The following lines are desirable for IPv6 capable hosts\n"
                                        "::1     localhost ip6-localhost ip6-loopback\n"
                                        "ff02::1 ip6-allnodes\n"
                                        "ff02::2 ip6-allrouters\n";

// Runs the built gptq as run_gptq does, but seeing `hosts` as /etc/hosts:
// in a mount namespace of its own (`unshare -m`), where a file holding
// `hosts` is bind-mounted over /etc/hosts, and over /etc/nsswitch.conf one
// that looks host names up in that file alone, so that neither the
// machine's file nor its DNS (or the lack of one) decides what a name
// resolves to: a name not in `hosts` does not exist. Every test that gives gptq a host
// name goes through here. Fails the test (it never passes silently) when
// that cannot be done: it needs root and unshare(1).
RunResult run_gptq_with_hosts(const std::string& hosts,
                              const std::vector<std::string>& args,
                              const Env& env = key_env(),
                              const StdinSpec& in = StdinSpec::dev_null(),
                              std::chrono::milliseconds limit = default_run_limit);

// Runs gptq against the https listener in `mode`, trusting the test CA via
// --cacert, with `extra` arguments after the URL options.
RunResult run_gptq_https(const std::string& mode,
                         const std::vector<std::string>& extra,
                         const StdinSpec& in = StdinSpec::dev_null(),
                         const Env& env = key_env());

// Runs gptq as run_gptq_https does with no stdin, calling
// `at_first_output(out, pid)` once, when the first of its stdout arrives
// (gptq may still be running then: tests of streaming and of signals act
// from there); `limit` as run()'s.
RunResult run_gptq_https_watched(const std::string& mode,
                                 const std::vector<std::string>& extra,
                                 const StdoutWatcher& at_first_output,
                                 std::chrono::milliseconds limit = default_run_limit);

// Checks a successful run: exit 0, stdout exactly `expected_out`, stderr
// empty, and the fake key nowhere.
void check_success(const RunResult& r, const std::string& expected_out);

// Checks a failed run: not killed, exit `code`, stdout empty, stderr exactly
// one line starting "gptq: " that contains each of `mentions`, and the fake
// key nowhere.
void check_failure(const RunResult& r, int code, const std::vector<std::string>& mentions = {});

// The request as the server described it: method, target, headers (names in
// lower case) and the parsed body.
struct SeenRequest {
  std::string method;
  std::string target;
  boost::json::object headers;
  boost::json::object body;

  std::optional<std::string> header(const std::string& name) const
  {
    if (const auto* v = headers.if_contains(name)) {
      return std::string(v->as_string());
    }
    return std::nullopt;
  }
};

// Parses the stdout of a run against the `request` mode; fails the test
// when the run failed or the text is not the expected JSON.
SeenRequest seen_request(const RunResult& r);

// Parses one reply of the `request` mode (the JSON text describing the
// request, e.g. a batch record's "output"); throws when it is not that.
SeenRequest parse_seen_request(std::string_view described);

bool contains(std::string_view haystack, std::string_view needle);
bool starts_with(std::string_view text, std::string_view prefix);

// The lines of `text`, each without its "\n"; a last line without one too.
std::vector<std::string> split_lines(const std::string& text);

// Writes `text` to `path`, making its directories first, with permissions
// `mode` when given; fails the test when it cannot. Returns `path`.
std::string write_file(const std::string& path,
                       const std::string& text,
                       std::optional<std::filesystem::perms> mode = std::nullopt);

// write_file() of `name` in the scratch directory; returns its path.
std::string scratch_file(const std::string& name, const std::string& text);

// The whole contents of the file at `path`; throws std::runtime_error when
// it cannot be read.
std::string read_file(const std::string& path);

// A KEY for the test server's counting modes (batch/KEY, flaky/KEY/...)
// that no other test uses: `label`, this process's id and a number of its
// own.
std::string fresh_key(const std::string& label);

} // namespace gptq::it
