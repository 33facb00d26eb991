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

// Returns the Boost.Beast/OpenSSL transport.
std::unique_ptr<Transport> make_network_transport(const TransportOptions& options);

// Returns a Connection that reaches the network through Boost.Beast and
// OpenSSL, as make_network_transport does for one request.
std::unique_ptr<Connection> make_network_connection(const boost::asio::any_io_executor& executor,
                                                    const TransportOptions& options);

} // namespace gptq
