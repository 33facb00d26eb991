#pragma once

// Reaching a host: resolving its name, then connecting to one of its
// addresses, racing them as RFC 8305 ("Happy Eyeballs") and curl do.

#include "exchange_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace gptq {

// Resolves `host`, which messages call `name` ("host api.example.com",
// "proxy host proxy.corp (from HTTPS_PROXY)"), within the connect limit.
// An IP address needs no lookup. Throws gptq::Error: resolve (lasting when
// the name does not exist: not retried; a lookup that failed for now is
// not), timeout.
boost::asio::awaitable<boost::asio::ip::tcp::resolver::results_type> resolve(ExchangeContext& ctx,
                                                                             const std::string& host,
                                                                             std::uint16_t port,
                                                                             const std::string& name);

// Connects `stream` to the first address of `endpoints` that answers,
// racing them as RFC 8305 and curl do: in attempt_order, each on a socket
// of its own, the next started when the one before has failed or has been
// pending for attempt_delay; the first to connect wins and the others are
// closed. All of it within one connect limit. Once the first attempt is on
// its way, runs and clears `meanwhile` (what may throw from it, is thrown
// from here). When every address fails, throws the failure that tells the
// most (gptq::Error connect, or timeout): a refusal (the host is there, the
// server is not), then any other error, then silence. `name` is how
// messages call the host ("proxy http://proxy:3128").
boost::asio::awaitable<void> connect(ExchangeContext& ctx,
                                     boost::beast::tcp_stream& stream,
                                     const boost::asio::ip::tcp::resolver::results_type& endpoints,
                                     const std::string& name,
                                     std::function<void()>& meanwhile);

} // namespace gptq
