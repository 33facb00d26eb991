#pragma once

// TLS over a connected socket: the context connections share, the
// handshake with its verification, close_notify, and reading the records
// already in hand.

#include "exchange_context.hpp"
#include "tls_trust.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <optional>
#include <string>

namespace gptq {

// What TLS connections share: OpenSSL's context (TLS 1.2 or newer, peer
// verification on) and what it trusts. Never moved, as the trust store's
// callback holds its address. Making one costs about 2.5 ms of CPU the
// first time, with OpenSSL's tables to load, and about 0.6 ms after.
class TlsContext {
public:
  // Throws gptq::Error (usage) when `cacert` cannot be loaded. `log` takes
  // the trust store's --verbose lines.
  TlsContext(const std::optional<std::string>& cacert, const TlsTrust::Log& log);
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context context;
  TlsTrust trust;
};

// Makes the TLS handshake on `stream` with ctx.url's host: SNI for a name
// (none for an IP literal), and the certificate verified against that name
// or address, with `trust` (the context's). Throws gptq::Error: timeout,
// certificate (why the certificate is not trusted), tls.
boost::asio::awaitable<void> tls_handshake(ExchangeContext& ctx,
                                           boost::beast::ssl_stream<boost::beast::tcp_stream>& stream,
                                           const TlsTrust& trust);

// Sends close_notify, as curl does, without waiting for the server's, within
// the shutdown limit. Never throws a failure: the response is in hand.
boost::asio::awaitable<void> send_close_notify(ExchangeContext& ctx,
                                               boost::beast::ssl_stream<boost::beast::tcp_stream>& stream);

// Decrypts the data records already whole in OpenSSL's input into `space`,
// without waiting; returns how many bytes they held. To be called right
// after async_read_some returned data (see tls.cpp). On a broken record
// sets `ec` as Asio would have.
std::size_t read_whole_records(boost::beast::ssl_stream<boost::beast::tcp_stream>& stream,
                               boost::asio::mutable_buffer space,
                               boost::system::error_code& ec);

// Over plain TCP a read takes all the socket holds already.
inline std::size_t read_whole_records(boost::beast::tcp_stream&,
                                      boost::asio::mutable_buffer,
                                      boost::system::error_code&)
{
  return 0;
}

} // namespace gptq
