#pragma once

// Tunnels through a proxy over a socket connected to it: an http proxy's
// CONNECT (RFC 9110) and SOCKS5 (RFC 1928; the bytes are socks5.hpp's).
// Afterwards the socket carries the server's bytes, as a direct one would.

#include "exchange_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace gptq {

// Asks the http proxy ctx.proxy for a tunnel to ctx.url's host and port,
// with the proxy URL's login if any. Reads the proxy's answer byte-exactly
// up to the end of its head. Throws gptq::Error: proxy (a refusal, with a
// hint for a login failure; or the proxy failed), timeout.
boost::asio::awaitable<void> connect_tunnel(ExchangeContext& ctx, boost::beast::tcp_stream& stream);

// Asks the SOCKS5 proxy ctx.proxy to connect to ctx.url's host and port,
// with RFC 1929 username/password when the proxy URL has them. socks5h and
// host names hand the name to the proxy; socks5 resolves it here. Throws
// gptq::Error: proxy, usage (a username, password or host name over 255
// bytes), resolve, timeout.
boost::asio::awaitable<void> socks5_handshake(ExchangeContext& ctx, boost::beast::tcp_stream& stream);

} // namespace gptq
