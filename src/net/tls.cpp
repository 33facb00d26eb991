#include "tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <climits>

namespace gptq {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
using boost::system::error_code;

// `trust_problem` is why part of the system store could not be read, or "".
std::string describe_verify_failure(long code, const std::string& host, const std::string& trust_problem)
{
  switch (code) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "the certificate of " + host + " has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "the certificate of " + host + " is not valid yet (is the system clock right?)";
    case X509_V_ERR_HOSTNAME_MISMATCH:
      return "the certificate presented by " + host + " is for another host name (host name mismatch)";
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "the certificate presented by " + host + " does not cover that IP address (IP address mismatch)";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "the certificate of " + host +
             " is not trusted (untrusted issuer: " + X509_verify_cert_error_string(code) + ")" +
             (trust_problem.empty() ? "" : ", and " + trust_problem) +
             "; if a private CA issued it, pass that CA with --cacert FILE";
    default:
      return "the certificate of " + host + " failed verification: " + X509_verify_cert_error_string(code);
  }
}

// Returns a TLS client context: TLS 1.2 or newer, peer verification on.
// What it trusts is set by a TlsTrust.
ssl::context make_tls_context()
{
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

// Returns true when `bio`, OpenSSL's input, starts with a whole TLS record
// of the application data type. Looks without taking anything; false when
// it cannot tell (the bytes wrap around the end of the BIO pair's buffer, or
// the BIO is not a pair). The type keeps TLS 1.2 handshake records (a
// renegotiation, whose answer Asio must send) and alerts for Asio; TLS 1.3
// hides every type behind this one, and has no renegotiation.
bool whole_data_record_in(BIO* bio)
{
  char* bytes = nullptr;
  const int n = BIO_nread0(bio, &bytes);
  if (n < 5 || !bytes || bytes[0] != 23) {
    return false;
  }
  const auto length =
    static_cast<std::size_t>(static_cast<unsigned char>(bytes[3]) << 8 | static_cast<unsigned char>(bytes[4]));
  return static_cast<std::size_t>(n) >= 5 + length;
}

} // namespace

TlsContext::TlsContext(const std::optional<std::string>& cacert, const TlsTrust::Log& log)
  : context(make_tls_context())
  , trust(context.native_handle(), cacert, log)
{
}

net::awaitable<void> tls_handshake(ExchangeContext& ctx,
                                   beast::ssl_stream<beast::tcp_stream>& stream,
                                   const TlsTrust& trust)
{
  SSL* ssl = stream.native_handle();
  const std::string& host = ctx.url.host;
  if (ctx.url.host_is_ip()) {
    // No SNI for IP literals (RFC 6066); verify against the IP SANs.
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  }
  beast::get_lowest_layer(stream).expires_at(ctx.deadlines.connect());
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (!ec) {
    ctx.log(std::string(SSL_get_version(ssl)) + " with " + host + " (" + SSL_get_cipher_name(ssl) + ") after " +
            ctx.elapsed());
    co_return;
  }
  if (ec == beast::error::timeout) {
    ctx.deadlines.timed_out("no TLS handshake with " + ctx.where + " within " +
                            seconds_text(ctx.options.connect_timeout) + " (--connect-timeout)");
  }
  if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
    throw Error(FailureKind::certificate,
                ExitStatus::network,
                "certificate",
                describe_verify_failure(verify, host, trust.bundle_problem()));
  }
  // A plain-HTTP server answers a ClientHello with an HTTP error (which
  // OpenSSL reads as a wrong version number) or just closes.
  const bool plain_http_likely = ec == ssl::error::stream_truncated || ec == net::error::eof ||
                                 (ec.category() == net::error::get_ssl_category() &&
                                  ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_WRONG_VERSION_NUMBER);
  throw Error(FailureKind::tls,
              ExitStatus::network,
              "tls",
              "TLS handshake with " + ctx.where + " failed: " +
                (plain_http_likely ? "the server does not speak TLS (is it an http:// server?)" : ec.message()));
}

net::awaitable<void> send_close_notify(ExchangeContext& ctx, beast::ssl_stream<beast::tcp_stream>& stream)
{
  // The server's close_notify is not waited for: the response is complete,
  // and waiting would cost a round trip (or the whole limit, with a server
  // that never sends one). Marking it as received makes SSL_shutdown finish
  // once ours is written, without reading. Errors are ignored for the same
  // reason.
  SSL* ssl = stream.native_handle();
  SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
  beast::get_lowest_layer(stream).expires_at(ctx.deadlines.shutdown());
  co_await stream.async_shutdown(use_tuple);
}

// Over TLS one read of the socket brings in many records when they are
// small (servers write one per event), but async_read_some returns the data
// of one record: each further one would cost a turn of the event loop, and
// its events a write to stdout of their own. So the data records already
// whole in OpenSSL's input are decrypted here, at once, into `space`;
// returns how many bytes they held. Never waits: a record not yet whole is
// left to the next async_read_some, and so is whatever follows a record
// that holds no data (a TLS 1.3 close_notify or session ticket). On a
// broken record sets `ec` as Asio would have.
//
// It runs only right after async_read_some returned data, so OpenSSL's
// input starts at a record boundary, and SSL_read is called only when it
// can return without reading more than is there. (A TLS 1.3 key update the
// server asks for is answered when Asio next writes, at the latest with
// close_notify: the server does not wait for it.)
std::size_t read_whole_records(beast::ssl_stream<beast::tcp_stream>& stream, net::mutable_buffer space, error_code& ec)
{
  SSL* ssl = stream.native_handle();
  char* const data = static_cast<char*>(space.data());
  const std::size_t size = std::min<std::size_t>(space.size(), INT_MAX);
  std::size_t got = 0;
  while (got < size && (SSL_pending(ssl) > 0 || whole_data_record_in(SSL_get_rbio(ssl)))) {
    ERR_clear_error();
    const int n = SSL_read(ssl, data + got, static_cast<int>(size - got));
    if (n > 0) {
      got += static_cast<std::size_t>(n);
      continue;
    }
    if (const int kind = SSL_get_error(ssl, n); kind == SSL_ERROR_SSL || kind == SSL_ERROR_SYSCALL) {
      const auto code = static_cast<int>(ERR_get_error());
      ec =
        code != 0 ? error_code(code, net::error::get_ssl_category()) : error_code(ssl::error::unspecified_system_error);
    }
    break;
  }
  return got;
}

} // namespace gptq
