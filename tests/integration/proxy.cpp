#include "proxy.hpp"

#include "harness.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gptq::it {

namespace {

// Runs "$@" in the background with its output appended to $1 and waits
// until it accepts connections on 127.0.0.1:$2; then prints "ready" and
// holds on until its stdin (our pipe) closes, and stops the proxy. Prints
// another first line when the proxy ends or does not listen within 10 s.
const char* const wrapper_script = R"(exec 2>/dev/null
log=$1 port=$2
shift 2
"$@" >>"$log" 2>&1 </dev/null &
child=$!
for _ in $(seq 1 400); do
  if ! kill -0 "$child" || grep -q '^State:.*Z' "/proc/$child/status"; then
    echo "exited"
    exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port"); then
    echo "ready"
    cat >/dev/null
    kill "$child"
    wait "$child"
    exit 0
  fi
  sleep 0.025
done
echo "not listening"
kill "$child"
exit 1
)";

std::string which(const std::string& program)
{
  for (const char* dir : { "/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin" }) {
    const std::string path = std::string(dir) + "/" + program;
    if (std::filesystem::exists(path)) {
      return path;
    }
  }
  // tinyproxy-bin: the program without the daemon that the tinyproxy package starts.
  const std::string package = program == "tinyproxy" ? "tinyproxy-bin" : program;
  throw std::runtime_error(program + " is not installed: the network tests need it (apt-get install " + package + ")");
}

} // namespace

Proxy Proxy::tinyproxy(const std::optional<ProxyUser>& user)
{
  const std::string program = which("tinyproxy");
  auto log_path = [](int port) { return scratch_dir() + "/tinyproxy-" + std::to_string(port) + ".log"; };
  auto argv = [&](int port) {
    // No User/Group: tinyproxy then keeps the current user (as root it only
    // warns). No ConnectPort: CONNECT may reach any port.
    const std::string conf = scratch_dir() + "/tinyproxy-" + std::to_string(port) + ".conf";
    std::ofstream out(conf);
    out << "Port " << port << "\n"
        << "Listen 127.0.0.1\n"
        << "Allow 127.0.0.1\n"
        << "Timeout 60\n"
        << "MaxClients 100\n"
        << "LogFile \"" << log_path(port) << "\"\n"
        << "LogLevel Info\n";
    if (user) {
      out << "BasicAuth " << user->name << " " << user->password << "\n";
    }
    out.close();
    if (!out) {
      throw std::runtime_error("cannot write " + conf);
    }
    return std::vector<std::string>{ program, "-d", "-c", conf };
  };
  return start(true, 0, argv, log_path);
}

Proxy Proxy::microsocks(const std::optional<ProxyUser>& user, int port)
{
  const std::string program = which("microsocks");
  auto log_path = [](int p) { return scratch_dir() + "/microsocks-" + std::to_string(p) + ".log"; };
  auto argv = [&](int p) {
    std::vector<std::string> args{ program, "-i", "127.0.0.1", "-p", std::to_string(p) };
    if (user) {
      args.insert(args.end(), { "-u", user->name, "-P", user->password });
    }
    return args;
  };
  return start(false, port, argv, log_path);
}

Proxy Proxy::start(bool tiny,
                   int port,
                   const std::function<std::vector<std::string>(int)>& argv_for,
                   const std::function<std::string(int)>& log_path_for)
{
  std::string failures;
  for (int attempt = 0; attempt < (port == 0 ? 3 : 1); ++attempt) {
    Proxy p;
    p.tiny_ = tiny;
    p.port_ = port != 0 ? port : closed_port();
    p.log_path_ = log_path_for(p.port_);
    std::vector<std::string> argv{ "/bin/bash",     "-c",        wrapper_script,
                                   "proxy-wrapper", p.log_path_, std::to_string(p.port_) };
    const auto proxy_argv = argv_for(p.port_);
    argv.insert(argv.end(), proxy_argv.begin(), proxy_argv.end());
    p.process_ = std::make_unique<ServerProcess>(
      argv, Env{ { "PATH", "/usr/local/bin:/usr/bin:/bin" } }, std::chrono::seconds(15));
    if (p.process_->first_line() == "ready") {
      return p;
    }
    failures += "\n  port " + std::to_string(p.port_) + ": " + p.process_->first_line() + "; log: " + p.log();
  }
  throw std::runtime_error("cannot start " + argv_for(0).front() + ":" + failures);
}

Proxy::Proxy(Proxy&&) noexcept = default;
Proxy& Proxy::operator=(Proxy&&) noexcept = default;
Proxy::~Proxy() = default;

std::string Proxy::url(const std::string& scheme, const std::string& userinfo) const
{
  return scheme + "://" + (userinfo.empty() ? "" : userinfo + "@") + host_port();
}

std::string Proxy::host_port() const
{
  return "127.0.0.1:" + std::to_string(port_);
}

std::vector<std::string> Proxy::requests() const
{
  const std::string marker = tiny_ ? "]: Request (file descriptor " : ": connected to ";
  std::vector<std::string> out;
  std::istringstream lines(log());
  std::string line;
  while (std::getline(lines, line)) {
    const auto at = line.find(marker);
    if (at == std::string::npos) {
      continue;
    }
    if (tiny_) {
      const auto colon = line.find("): ", at);
      if (colon != std::string::npos) {
        out.push_back(line.substr(colon + 3));
      }
    } else {
      out.push_back(line.substr(at + marker.size()));
    }
  }
  return out;
}

std::string Proxy::log() const
{
  // Empty until the proxy has logged something.
  return std::filesystem::exists(log_path_) ? read_file(log_path_) : std::string();
}

} // namespace gptq::it
