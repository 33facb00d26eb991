#include "harness.hpp"

#include <boost/json/parse.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace gptq::it {

namespace {

namespace fs = std::filesystem;

const char* const path_value = "/usr/local/bin:/usr/bin:/bin";

struct State {
  std::string scratch;
  std::unique_ptr<ServerProcess> server;
  Ports ports;
};

State* g_state = nullptr;

State& state()
{
  if (g_state == nullptr) {
    throw std::logic_error("the integration test fixture is not running");
  }
  return *g_state;
}

Ports parse_ports(const std::string& line)
{
  Ports p;
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    const std::string name = word.substr(0, eq);
    const int port = std::stoi(word.substr(eq + 1));
    if (name == "https") {
      p.https = port;
    } else if (name == "expired") {
      p.expired = port;
    } else if (name == "wronghost") {
      p.wronghost = port;
    } else if (name == "selfsigned") {
      p.selfsigned = port;
    } else if (name == "http") {
      p.http = port;
    } else if (name == "silent") {
      p.silent = port;
    }
  }
  if (p.https == 0 || p.expired == 0 || p.wronghost == 0 || p.selfsigned == 0 || p.http == 0 || p.silent == 0) {
    throw std::runtime_error("the test server's ports line lacks a listener: '" + line + "'");
  }
  return p;
}

} // namespace

Suite::Suite()
{
  const fs::path certs(GPTQ_TEST_CERTS_DIR);
  for (const char* name :
       { "ca.pem", "server.pem", "expired.pem", "wronghost.pem", "selfsigned.pem", "other-ca.pem" }) {
    if (!fs::exists(certs / name)) {
      throw std::runtime_error((certs / name).string() +
                               " is missing: run tests/certs/make_certs.sh " GPTQ_TEST_CERTS_DIR
                               " first (ctest runs it as the 'make_certs' fixture)");
    }
  }

  auto s = std::make_unique<State>();
  std::string dir = (fs::temp_directory_path() / "gptq-it.XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for " + dir);
  }
  s->scratch = dir;
  std::ofstream(dir + "/empty-ca.pem").flush();
  fs::create_directory(dir + "/empty-ca-dir");

  std::vector<std::string> argv{ GPTQ_TEST_SERVER_BIN, "--certs", GPTQ_TEST_CERTS_DIR };
  if (std::getenv("GPTQ_TEST_SERVER_VERBOSE") != nullptr) {
    argv.emplace_back("--verbose");
  }
  try {
    s->server = std::make_unique<ServerProcess>(argv, Env{ { "PATH", path_value } }, std::chrono::seconds(20));
    s->ports = parse_ports(s->server->first_line());
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    throw;
  }
  g_state = s.release();
}

Suite::~Suite()
{
  if (g_state == nullptr) {
    return;
  }
  g_state->server->stop();
  std::error_code ignored;
  fs::remove_all(g_state->scratch, ignored);
  delete g_state;
  g_state = nullptr;
}

const Ports& ports()
{
  return state().ports;
}

std::string cert(const std::string& name)
{
  return std::string(GPTQ_TEST_CERTS_DIR) + "/" + name;
}

const std::string& scratch_dir()
{
  return state().scratch;
}

int closed_port()
{
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) {
    throw std::runtime_error("socket failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  // Bound but never listening: a connection is refused even before close.
  close(fd);
  return ntohs(addr.sin_port);
}

std::string base_url(const std::string& scheme, int port, const std::string& mode, const std::string& host)
{
  return scheme + "://" + host + ":" + std::to_string(port) + "/" + mode + "/v1";
}

std::string https_url(const std::string& mode)
{
  return base_url("https", ports().https, mode);
}

std::string http_url(const std::string& mode)
{
  return base_url("http", ports().http, mode);
}

Env base_env()
{
  return {
    { "PATH", path_value },
    { "SSL_CERT_FILE", scratch_dir() + "/empty-ca.pem" },
    { "SSL_CERT_DIR", scratch_dir() + "/empty-ca-dir" },
  };
}

Env key_env()
{
  Env env = base_env();
  env["OPENAI_API_KEY"] = fake_key;
  return env;
}

Env system_store_env()
{
  return {
    { "PATH", path_value },
    { "SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt" },
    { "SSL_CERT_DIR", "/etc/ssl/certs" },
    { "OPENAI_API_KEY", fake_key },
  };
}

std::string http_get_body(const std::string& target)
{
  return http_request_body("GET", target);
}

std::string http_request_body(const std::string& method, const std::string& target)
{
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_TEST_REQUIRE(fd != -1);
  timeval limit{ 5, 0 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(ports().http));
  std::string text;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = method + " " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n = 0;
      while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) {
        text.append(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  close(fd);
  const auto body = text.find("\r\n\r\n");
  BOOST_TEST_REQUIRE(body != std::string::npos,
                     "no reply from the test server to " << method << " " << target << ": '" << text << "'");
  return text.substr(body + 4);
}

RunResult run_gptq(const std::vector<std::string>& args, const Env& env, const StdinSpec& in)
{
  std::vector<std::string> argv{ GPTQ_BIN };
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, env, in);
}

RunResult run_gptq_with_hosts(const std::string& hosts,
                              const std::vector<std::string>& args,
                              const Env& env,
                              const StdinSpec& in,
                              std::chrono::milliseconds limit)
{
  const char* const unshare = "/usr/bin/unshare";
  BOOST_REQUIRE_MESSAGE(geteuid() == 0,
                        "this test resolves host names through a hosts file of its own, which needs root "
                        "(unshare -m and mount --bind); run the integration tests as root");
  BOOST_REQUIRE_MESSAGE(fs::exists(unshare), "this test needs " << unshare << " (util-linux)");
  // One file per distinct text, so that a file is never rewritten while a
  // mount of it may still be in use.
  static int serial = 0;
  const std::string path = scratch_dir() + "/hosts-" + std::to_string(++serial);
  {
    std::ofstream out(path, std::ios::binary);
    out << hosts;
    BOOST_REQUIRE_MESSAGE(out.flush(), "cannot write " << path);
  }
  // The machine's nsswitch.conf with hosts looked up in the file alone: a
  // name missing from it is "not found" (EAI_NONAME) at once, on a machine
  // with DNS or without (where it would be EAI_AGAIN after a timeout), and
  // no systemd-resolved or myhostname answers for `localhost`.
  static const std::string nsswitch = [] {
    const std::string files_only = scratch_dir() + "/nsswitch.conf";
    std::ifstream in("/etc/nsswitch.conf");
    std::ofstream out(files_only);
    for (std::string line; std::getline(in, line);) {
      if (!line.starts_with("hosts:")) {
        out << line << '\n';
      }
    }
    out << "hosts: files\n";
    BOOST_REQUIRE_MESSAGE(out.flush(), "cannot write " << files_only);
    return files_only;
  }();
  BOOST_REQUIRE_MESSAGE(fs::exists("/etc/nsswitch.conf"), "this test needs /etc/nsswitch.conf to mount over");
  // unshare execs sh, which execs gptq: the child's pid is gptq's, and
  // gptq's environment is `env` alone (sh finds mount on its default PATH).
  std::vector<std::string> argv{
    unshare,
    "-m",
    "/bin/sh",
    "-c",
    "mount --bind \"$1\" /etc/hosts && mount --bind \"$2\" /etc/nsswitch.conf || exit 125; "
    "shift 2; exec \"$@\"",
    "sh",
    path,
    nsswitch,
    GPTQ_BIN
  };
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv, env, in, limit);
  BOOST_REQUIRE_MESSAGE(r.exit_code != 125 && !starts_with(r.err, "unshare: "),
                        "cannot give gptq a hosts file of its own (unshare -m, mount --bind): " << r.describe());
  return r;
}

RunResult run_gptq_https(const std::string& mode,
                         const std::vector<std::string>& extra,
                         const StdinSpec& in,
                         const Env& env)
{
  std::vector<std::string> args{ "--base-url", https_url(mode), "--cacert", cert("ca.pem") };
  args.insert(args.end(), extra.begin(), extra.end());
  return run_gptq(args, env, in);
}

RunResult run_gptq_https_watched(const std::string& mode,
                                 const std::vector<std::string>& extra,
                                 const StdoutWatcher& at_first_output,
                                 std::chrono::milliseconds limit)
{
  std::vector<std::string> argv{ GPTQ_BIN, "--base-url", https_url(mode), "--cacert", cert("ca.pem") };
  argv.insert(argv.end(), extra.begin(), extra.end());
  bool called = false;
  return run(argv, key_env(), StdinSpec::dev_null(), limit, {}, [&](const std::string& out, int pid) {
    if (!called) {
      called = true;
      at_first_output(out, pid);
    }
  });
}

bool contains(std::string_view haystack, std::string_view needle)
{
  return haystack.find(needle) != std::string_view::npos;
}

bool starts_with(std::string_view text, std::string_view prefix)
{
  return text.substr(0, prefix.size()) == prefix;
}

std::vector<std::string> split_lines(const std::string& text)
{
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::string write_file(const std::string& path, const std::string& text, std::optional<fs::perms> mode)
{
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  BOOST_TEST_REQUIRE(out.flush().good(), "cannot write " << path);
  if (mode) {
    fs::permissions(path, *mode);
  }
  return path;
}

std::string scratch_file(const std::string& name, const std::string& text)
{
  return write_file(scratch_dir() + "/" + name, text);
}

std::string read_file(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string fresh_key(const std::string& label)
{
  static int serial = 0;
  return label + "-" + std::to_string(getpid()) + "-" + std::to_string(++serial);
}

void check_success(const RunResult& r, const std::string& expected_out)
{
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE_MESSAGE(!r.killed, "gptq did not finish within the time limit and was killed");
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out == expected_out);
    BOOST_TEST(r.err == "");
    BOOST_TEST(!contains(r.out, fake_key));
    BOOST_TEST(!contains(r.err, fake_key));
  }
}

void check_failure(const RunResult& r, int code, const std::vector<std::string>& mentions)
{
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE_MESSAGE(!r.killed, "gptq did not finish within the time limit and was killed");
    BOOST_TEST(r.exit_code == code);
    BOOST_TEST(r.out == "");
    BOOST_TEST(starts_with(r.err, "gptq: "), "stderr starts with 'gptq: '");
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, "stderr is exactly one line");
    BOOST_TEST((!r.err.empty() && r.err.back() == '\n'), "stderr ends with a newline");
    BOOST_TEST(!contains(r.out, fake_key), "the key is not on stdout");
    BOOST_TEST(!contains(r.err, fake_key), "the key is not on stderr");
    for (const auto& m : mentions) {
      BOOST_TEST(contains(r.err, m), "stderr mentions '" << m << "'");
    }
  }
}

SeenRequest seen_request(const RunResult& r)
{
  SeenRequest seen;
  BOOST_TEST_CONTEXT(r.describe())
  {
    BOOST_REQUIRE(!r.killed);
    BOOST_REQUIRE(r.exit_code == 0);
    BOOST_TEST(r.err == "");
    BOOST_TEST(!contains(r.err, fake_key));
    BOOST_REQUIRE(!r.out.empty());
    BOOST_REQUIRE(r.out.back() == '\n');
    seen = parse_seen_request(std::string_view(r.out).substr(0, r.out.size() - 1));
  }
  return seen;
}

SeenRequest parse_seen_request(std::string_view text)
{
  SeenRequest seen;
  const boost::json::value described = boost::json::parse(text);
  seen.method = described.at("method").as_string();
  seen.target = described.at("target").as_string();
  seen.headers = described.at("headers").as_object();
  seen.body = boost::json::parse(described.at("body").as_string()).as_object();
  return seen;
}

} // namespace gptq::it
