// The network transport: the only code that touches sockets and TLS.
//
// One request per connection, written as a C++20 coroutine on a private
// io_context so that every step can have a time limit: blocking Beast calls
// cannot time out. Each step sets the stream's expiry to the sooner of its
// own limit and the whole-request deadline, and a failure is reported with
// the phase it happened in, which decides the message and the exit status.
//
// The steps live in units of their own: connect.hpp (resolving, the
// connection race), tunnel.hpp (CONNECT, SOCKS5), tls.hpp (the context, the
// handshake), response_reader.hpp (parsing the response); this file opens
// the link with them, writes the request and moves the response's bytes.

#include "network.hpp"

#include "connect.hpp"
#include "error.hpp"
#include "exchange_context.hpp"
#include "response_reader.hpp"
#include "tls.hpp"
#include "tunnel.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <poll.h>

namespace gptq {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// A connection and what it needs to outlive one request: the TLS context
// and trust store, the stream, and bytes read past the last response.
struct Link {
  std::shared_ptr<TlsContext> tls_context;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::optional<beast::tcp_stream> plain;
  beast::flat_buffer buffer;

  bool is_open() const { return tls || plain; }
  void close()
  {
    tls.reset();
    plain.reset();
    buffer.clear();
  }

  // True when nothing has arrived since the last response: no bytes read
  // ahead, none waiting in OpenSSL, none (and no close) on the socket. A
  // connection with bytes after a complete response must not carry another
  // request: they would be taken for its answer (curl: "excess found").
  // Whatever Asio's TLS layer read past OpenSSL's input buffer is out of
  // sight, but it only holds bytes that did not fit there.
  bool quiet()
  {
    if (buffer.size() > 0) {
      return false;
    }
    if (tls) {
      SSL* ssl = tls->native_handle();
      if (SSL_pending(ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0) {
        return false;
      }
    }
    pollfd ready{};
    ready.fd = tls ? beast::get_lowest_layer(*tls).socket().native_handle() : plain->socket().native_handle();
    ready.events = POLLIN;
    return ::poll(&ready, 1, 0) == 0;
  }
};

class Exchange {
public:
  // `tls_slot` holds the TLS context that connections share, or null until
  // the first https connection makes it (NetworkClient owns it).
  Exchange(const TransportOptions& options,
           const HttpRequest& request,
           ResponseHandler& handler,
           std::shared_ptr<TlsContext>& tls_slot)
    : request_(request)
    , handler_(handler)
    , ctx_(options, request.url)
    , tls_slot_(tls_slot)
  {
  }

  // Sends the request on `link`'s connection, opening one when it has
  // none. With `keep`, a connection the server keeps open stays in `link`
  // for the next request; otherwise it is closed here, as it is when the
  // exchange fails: what is left of a response in it is unknown.
  net::awaitable<void> run(Link& link, bool keep)
  {
    try {
      if (request_.url.is_https()) {
        co_await run_on_tls(link, keep);
      } else {
        co_await run_on_tcp(link, keep);
      }
      ctx_.log("done in " + ctx_.elapsed());
    } catch (...) {
      link.close();
      throw;
    }
  }

private:
  net::awaitable<void> run_on_tls(Link& link, bool keep)
  {
    if (!link.tls) {
      co_await open_tls(link);
    }
    auto& stream = *link.tls;
    const error_code write_failure = co_await write_request(stream);
    const Ending ending = co_await read_response(stream, link.buffer, write_failure);
    if (!keep || !reusable(ending, link)) {
      // A server that already closed the connection cannot be told.
      if (!ending.peer_closed) {
        co_await send_close_notify(ctx_, stream);
      }
      link.close();
    }
  }

  net::awaitable<void> run_on_tcp(Link& link, bool keep)
  {
    if (!link.plain) {
      link.plain.emplace(co_await net::this_coro::executor);
      co_await open(*link.plain);
    }
    auto& stream = *link.plain;
    const error_code write_failure = co_await write_request(stream);
    const Ending ending = co_await read_response(stream, link.buffer, write_failure);
    if (!keep || !reusable(ending, link)) {
      error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      link.close();
    }
  }

  // Opens `link`'s TLS connection. The first connection of the process
  // makes the TLS context; the others share it. It costs about 2.5 ms of
  // CPU, so it is made while the connection is on its way, which takes a
  // round trip: a bad --cacert is reported after the first SYN, before any
  // byte of the request. The trust store logs with a copy of the log of
  // the exchange that made it: the app's, which serves the whole run.
  net::awaitable<void> open_tls(Link& link)
  {
    const auto make_context = [this] {
      if (!tls_slot_) {
        tls_slot_ = std::make_shared<TlsContext>(ctx_.options.cacert, ctx_.options.log);
      }
    };
    meanwhile_ = make_context;
    beast::tcp_stream tcp(co_await net::this_coro::executor);
    co_await open(tcp);
    make_context(); // a no-op once connect() has run it
    link.tls_context = tls_slot_;
    link.tls.emplace(std::move(tcp), link.tls_context->context);
    co_await tls_handshake(ctx_, *link.tls, link.tls_context->trust);
  }

  bool reusable(const Ending& ending, Link& link) const
  {
    if (!ending.reusable) {
      return false;
    }
    if (!link.quiet()) {
      ctx_.log("more bytes, or a close, after the end of the response; the connection is not used again");
      return false;
    }
    return true;
  }

  // Opens the byte stream to the server: a direct connection, or one
  // through the proxy (a CONNECT tunnel or SOCKS5 for https targets; an
  // http proxy forwards plain http requests itself).
  net::awaitable<void> open(beast::tcp_stream& stream)
  {
    const Url& url = request_.url;
    const Proxy* proxy = ctx_.proxy;
    if (!proxy) {
      co_await connect(
        ctx_, stream, co_await resolve(ctx_, url.host, url.port, "host " + url.host), ctx_.where, meanwhile_);
      co_return;
    }
    const std::string proxy_name = "proxy " + proxy->display();
    ctx_.log("using " + proxy_name + " (from " + proxy->source + ")");
    // A proxy's name comes from a variable the user may have forgotten.
    co_await connect(
      ctx_,
      stream,
      co_await resolve(ctx_, proxy->host, proxy->port, "proxy host " + proxy->host + " (from " + proxy->source + ")"),
      proxy_name,
      meanwhile_);
    if (proxy->kind != Proxy::Kind::http) {
      co_await socks5_handshake(ctx_, stream);
    } else if (url.is_https()) {
      co_await connect_tunnel(ctx_, stream);
    }
  }

  // Writes piece by piece so that the idle limit measures silence, not the
  // time a large prompt takes to upload. Returns how writing failed: a
  // server may answer before the body is all sent (413 to a large upload)
  // and close, and that answer is still to be read. Throws gptq::Error when
  // the idle limit passes.
  template<class Stream>
  net::awaitable<error_code> write_request(Stream& stream)
  {
    // An http proxy forwarding plain http wants the absolute URL.
    const bool via_http_proxy = ctx_.proxy && ctx_.proxy->kind == Proxy::Kind::http && !request_.url.is_https();
    const std::string target =
      via_http_proxy ? "http://" + request_.url.authority() + request_.url.target() : request_.url.target();
    if (request_.body_source) {
      co_return co_await write_streamed(stream, target, via_http_proxy);
    }
    http::request<http::span_body<const char>> message{ http::string_to_verb(request_.method), target, 11 };
    set_headers(message, via_http_proxy);
    message.body() = { request_.body.data(), request_.body.size() };
    message.prepare_payload();
    http::request_serializer<http::span_body<const char>> serializer{ message };
    while (!serializer.is_done()) {
      beast::get_lowest_layer(stream).expires_at(ctx_.deadlines.idle());
      auto [ec, n] = co_await http::async_write_some(stream, serializer, use_tuple);
      if (auto failed = write_failed(ec)) {
        co_return *failed;
      }
    }
    co_return error_code{};
  }

  template<class Message>
  void set_headers(Message& message, bool via_http_proxy)
  {
    for (const auto& [name, value] : request_.headers) {
      message.set(name, value);
    }
    if (via_http_proxy && !ctx_.proxy->username.empty()) {
      message.set(http::field::proxy_authorization, proxy_authorization(*ctx_.proxy));
    }
  }

  // How a write ended: nothing when it went on, the error to report after
  // reading what the server answered. Throws when the idle limit passed.
  std::optional<error_code> write_failed(error_code ec)
  {
    if (ec == beast::error::timeout) {
      ctx_.deadlines.timed_out("cannot send the request to " + ctx_.where + ": no progress for " +
                               seconds_text(ctx_.options.idle_timeout) + " (--idle-timeout)");
    }
    if (ec && ec != http::error::need_buffer) {
      ctx_.log("sending the request failed (" + ec.message() + "); reading what the server answered");
      return ec;
    }
    return std::nullopt;
  }

  // Writes a body that comes from its source in pieces (BodySource): never
  // more of it in memory than one piece.
  template<class Stream>
  net::awaitable<error_code> write_streamed(Stream& stream, const std::string& target, bool via_http_proxy)
  {
    const BodySource& source = *request_.body_source;
    http::request<http::buffer_body> message{ http::string_to_verb(request_.method), target, 11 };
    set_headers(message, via_http_proxy);
    message.content_length(source.size);
    message.body().data = nullptr;
    message.body().more = source.size > 0;
    http::request_serializer<http::buffer_body> serializer{ message };
    beast::get_lowest_layer(stream).expires_at(ctx_.deadlines.idle());
    auto [head_ec, head_n] = co_await http::async_write_header(stream, serializer, use_tuple);
    if (auto failed = write_failed(head_ec)) {
      co_return *failed;
    }
    std::vector<char> piece(256 * 1024);
    for (std::uint64_t sent = 0; sent < source.size;) {
      const std::size_t got = source.read_at(sent, piece.data(), piece.size());
      if (got == 0) {
        throw Error(FailureKind::other, ExitStatus::usage, "upload", "the file being sent ended early");
      }
      sent += got;
      message.body().data = piece.data();
      message.body().size = got;
      message.body().more = sent < source.size;
      beast::get_lowest_layer(stream).expires_at(ctx_.deadlines.idle());
      auto [ec, n] = co_await http::async_write(stream, serializer, use_tuple);
      if (auto failed = write_failed(ec)) {
        co_return *failed;
      }
    }
    co_return error_code{};
  }

  // Reads the response and hands it to the handler as it arrives (see
  // ResponseReader). Returns how it ended. Reading stops early, leaving the
  // connection unusable, when the handler wants no more of the body.
  // `write_failure` is how sending the request failed, if it did: the
  // answer the server gave before it stopped reading is delivered, and only
  // when none came is the failure to send reported.
  template<class Stream>
  net::awaitable<Ending> read_response(Stream& stream, beast::flat_buffer& buffer, error_code write_failure)
  {
    // `buffer` holds what was read and not yet parsed: a head or chunk
    // header split across reads waits there for the rest, and it lives with
    // the connection.
    ResponseReader reader(
      handler_, ctx_.where, ctx_.options.log, [this](const ResponseReader::Head& head) { check_head(head); });
    // One read gives at most read_size bytes (over TLS: the records whole
    // in hand, see read_whole_records).
    constexpr std::size_t read_size = ResponseReader::piece_size;
    error_code read_ec; // how the last read ended, once what it read is parsed
    for (;;) {
      std::size_t used = 0;
      const error_code ec = reader.feed(
        { static_cast<const char*>(buffer.data().data()), buffer.size() }, std::exchange(read_ec, {}), used);
      buffer.consume(used);
      if (const auto& ending = reader.ending()) {
        // After the request was not all sent the connection is not used again.
        co_return Ending{ ending->peer_closed, ending->reusable && !write_failure };
      }
      if (!ec) {
        beast::get_lowest_layer(stream).expires_at(ctx_.deadlines.idle());
        auto [error, n] = co_await stream.async_read_some(buffer.prepare(read_size), use_tuple);
        buffer.commit(n);
        read_ec = error;
        if (!read_ec && n < read_size) {
          buffer.commit(read_whole_records(stream, buffer.prepare(read_size - n), read_ec));
        }
        continue;
      }
      if (write_failure && !reader.answered()) {
        throw Error(FailureKind::network,
                    ExitStatus::network,
                    "network",
                    "sending the request to " + ctx_.where + " failed: " + write_failure.message());
      }
      if (ec == beast::error::timeout) {
        ctx_.deadlines.timed_out(reader.head_delivered()
                                   ? "the server stopped sending in the middle of the response for " +
                                       seconds_text(ctx_.options.idle_timeout) + " (--idle-timeout)"
                                   : "no response from " + ctx_.where + " within " +
                                       seconds_text(ctx_.options.idle_timeout) + " (--idle-timeout)");
      }
      co_return reader.fail(ec, { static_cast<const char*>(buffer.data().data()), buffer.size() });
    }
  }

  // Looks at the response head before the handler gets it. Throws
  // gptq::Error when it is an http proxy's refusal to forward a plain http
  // request (407).
  void check_head(const ResponseReader::Head& head)
  {
    if (ctx_.proxy && ctx_.proxy->kind == Proxy::Kind::http && !request_.url.is_https() && head.result_int() == 407) {
      throw Error(FailureKind::proxy,
                  ExitStatus::network,
                  "proxy",
                  ctx_.proxy->display() + " refused to forward the request to " + ctx_.where + ": 407 " +
                    ctx_.options.secrets.excerpt(head.reason(), 60) +
                    (ctx_.proxy->username.empty() ? " (it wants a login: user:password@ in the proxy URL)"
                                                  : " (wrong username or password?)"));
    }
    ctx_.log("HTTP " + std::to_string(head.result_int()) + " " + ctx_.options.secrets.excerpt(head.reason(), 60) +
             ", first byte after " + ctx_.elapsed());
  }

  const HttpRequest& request_;
  ResponseHandler& handler_;
  ExchangeContext ctx_;
  std::shared_ptr<TlsContext>& tls_slot_;
  // Work to do while the first connection attempt is on its way.
  std::function<void()> meanwhile_;
};

class NetworkTransport : public Transport {
public:
  NetworkTransport(const TransportOptions& options, std::shared_ptr<TlsContext>& tls_slot)
    : options_(options)
    , tls_slot_(tls_slot)
  {
  }

  void send(const HttpRequest& request, ResponseHandler& handler) override
  {
    net::io_context ioc{ 1 };
    Exchange exchange(options_, request, handler, tls_slot_);
    Link link;
    std::exception_ptr failure;
    net::co_spawn(ioc, exchange.run(link, false), [&](std::exception_ptr e) { failure = e; });
    ioc.run();
    if (failure) {
      std::rethrow_exception(failure);
    }
  }

private:
  TransportOptions options_;
  std::shared_ptr<TlsContext>& tls_slot_;
};

// Passes a response on, noting whether any of it came.
class Watched : public ResponseHandler {
public:
  explicit Watched(ResponseHandler& handler)
    : handler_(handler)
  {
  }
  void on_head(const HttpResponse& head) override
  {
    answered = true;
    handler_.on_head(head);
  }
  void on_body(std::string_view piece) override { handler_.on_body(piece); }
  bool wants_more() const override { return handler_.wants_more(); }
  bool answered = false;

private:
  ResponseHandler& handler_;
};

class NetworkConnection : public Connection {
public:
  NetworkConnection(const TransportOptions& options, std::shared_ptr<TlsContext>& tls_slot)
    : options_(options)
    , tls_slot_(tls_slot)
  {
  }

  net::awaitable<void> send(const HttpRequest& request,
                            ResponseHandler& handler,
                            std::optional<std::chrono::milliseconds> time_limit) override
  {
    TransportOptions options = options_;
    options.total_timeout = time_limit;
    if (link_.is_open() && !link_.quiet()) {
      // Bytes came while the connection was idle: a stray response, or the
      // server closing it. Either way it cannot carry this request.
      if (options_.log) {
        options_.log("the idle connection is readable (data or a close); opening a new one");
      }
      link_.close();
    }
    if (link_.is_open()) {
      // A server may close a kept-alive connection just as the next request
      // goes out; with no byte of response, it was not processed, and it is
      // sent once more on a new connection, as HTTP clients do.
      Watched watched(handler);
      bool stale = false;
      try {
        Exchange exchange(options, request, watched, tls_slot_);
        co_await exchange.run(link_, true);
      } catch (const Error& e) {
        if (watched.answered || e.kind() != FailureKind::network) {
          throw;
        }
        stale = true;
      }
      if (!stale) {
        co_return;
      }
      link_.close();
    }
    Exchange exchange(options, request, handler, tls_slot_);
    co_await exchange.run(link_, true);
  }

private:
  TransportOptions options_;
  std::shared_ptr<TlsContext>& tls_slot_;
  Link link_;
};

} // namespace

NetworkClient::NetworkClient() = default;
NetworkClient::~NetworkClient() = default;

std::unique_ptr<Transport> NetworkClient::make_transport(const TransportOptions& options)
{
  return std::make_unique<NetworkTransport>(options, tls_);
}

std::unique_ptr<Connection> NetworkClient::make_connection(const net::any_io_executor&, const TransportOptions& options)
{
  return std::make_unique<NetworkConnection>(options, tls_);
}

void init_network_library()
{
  // OpenSSL's exit handler frees every provider and algorithm table, about
  // half a millisecond of work whose only effect is on memory the kernel
  // is about to reclaim.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
}

std::string tls_library_version()
{
  std::string text = OpenSSL_version(OPENSSL_VERSION);
  if (OpenSSL_version_num() != OPENSSL_VERSION_NUMBER) {
    text += std::string(" (built with ") + OPENSSL_VERSION_TEXT + ")";
  }
  return text;
}

} // namespace gptq
