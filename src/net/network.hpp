#pragma once

// The network layer's public face: the only declarations that name Asio.
// The app makes its transports and connections here; nothing else of
// Asio, Beast or OpenSSL is visible outside src/net.

#include "transport.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace gptq {

// One connection to the server that carries requests one after another
// (HTTP/1.1 keep-alive): opened on first use, opened again when the server
// closed it. Batch mode gives each of its workers one.
class Connection {
public:
  virtual ~Connection() = default;
  // Sends `request` and hands the response to `handler`, within
  // `time_limit` when there is one (instead of the options' total_timeout:
  // what is left of a request's --timeout after its earlier tries). Throws
  // gptq::Error as Transport::send does.
  virtual boost::asio::awaitable<void> send(const HttpRequest& request,
                                            ResponseHandler& handler,
                                            std::optional<std::chrono::milliseconds> time_limit) = 0;
};

// Sets up OpenSSL for a short-lived process; call once, first thing in main.
void init_network_library();

// The OpenSSL that is loaded, as `--version` shows it: the shared library
// found at run time, which a system update may have changed since the
// build, and then the version built with when it differs.
std::string tls_library_version();

// The network layer's TLS context and trust store (tls.hpp).
class TlsContext;

// The program's way to the network, made once: it makes the transports and
// connections, which reach the network through Boost.Beast and OpenSSL, and
// owns what they share, the TLS context. That is made once, by the first
// https connection, while its connect is on its way, with that
// connection's --cacert and log (a process has one --cacert): the first
// costs about 2.5 ms of CPU, each further one, with OpenSSL's tables
// already loaded, about 0.6 ms, so the attempts of one request and batch
// mode's connections share it. Must outlive every transport and connection
// it makes.
class NetworkClient {
public:
  NetworkClient();
  ~NetworkClient();
  NetworkClient(const NetworkClient&) = delete;
  NetworkClient& operator=(const NetworkClient&) = delete;

  // Returns a transport for one request at a time, each on a connection
  // of its own.
  std::unique_ptr<Transport> make_transport(const TransportOptions& options);

  // Returns a Connection that carries requests one after another, as
  // make_transport's does for one request.
  std::unique_ptr<Connection> make_connection(const boost::asio::any_io_executor& executor,
                                              const TransportOptions& options);

private:
  std::shared_ptr<TlsContext> tls_; // null until the first https connection
};

} // namespace gptq
