#pragma once

// Real proxies for the network tests: tinyproxy (an HTTP proxy: CONNECT
// tunnels and absolute-form requests) and microsocks (a SOCKS5 proxy), each
// run on 127.0.0.1 at a free port, with its configuration and log in the
// scratch directory. Each runs under a small shell that holds a pipe from
// this process: when the Proxy is destroyed, or the test binary dies, the
// pipe closes and the shell stops the proxy.

#include "process.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gptq::it {

// A user name and password a proxy demands.
struct ProxyUser {
  std::string name;
  std::string password;
};

class Proxy {
public:
  // Starts `tinyproxy -d -c CONF`, allowing 127.0.0.1 to CONNECT to any port,
  // with `BasicAuth` when `user` is given (tinyproxy's configuration syntax
  // allows only [-A-Za-z0-9._] there). Returns once it accepts connections;
  // throws std::runtime_error when it cannot be started.
  static Proxy tinyproxy(const std::optional<ProxyUser>& user = std::nullopt);

  // Starts `microsocks -i 127.0.0.1 -p PORT`, with `-u -P` when `user` is
  // given, on `port` or, when 0, on a free port. Returns once it accepts
  // connections; throws std::runtime_error when it cannot be started.
  static Proxy microsocks(const std::optional<ProxyUser>& user = std::nullopt, int port = 0);

  Proxy(Proxy&&) noexcept;
  Proxy& operator=(Proxy&&) noexcept;
  ~Proxy();

  int port() const { return port_; }

  // "SCHEME://USERINFO@127.0.0.1:PORT", without "USERINFO@" when it is empty.
  std::string url(const std::string& scheme, const std::string& userinfo = {}) const;

  // "127.0.0.1:PORT": how an error message names this proxy.
  std::string host_port() const;

  // What the proxy was asked to do so far, one entry per request, from its
  // log: tinyproxy's request lines ("CONNECT 127.0.0.1:443 HTTP/1.1",
  // "POST http://127.0.0.1:80/x HTTP/1.1"), microsocks' targets as the client
  // named them ("localhost:443", "127.0.0.1:443").
  std::vector<std::string> requests() const;

  // The whole log, for failure messages.
  std::string log() const;

private:
  Proxy() = default;
  // Runs `argv_for(port)` with its output appended to `log_path_for(port)`,
  // at `port` or, when it is 0, at a free port (a few tries: another process
  // may take the port between our probe and the proxy's bind).
  static Proxy start(bool tiny,
                     int port,
                     const std::function<std::vector<std::string>(int)>& argv_for,
                     const std::function<std::string(int)>& log_path_for);

  bool tiny_ = false;
  int port_ = 0;
  std::string log_path_;
  std::unique_ptr<ServerProcess> process_;
};

} // namespace gptq::it
