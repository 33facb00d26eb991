// The network transport: the only code that touches sockets and TLS.
//
// One request per connection, written as a C++20 coroutine on a private
// io_context so that every step can have a time limit: blocking Beast calls
// cannot time out. Each step sets the stream's expiry to the sooner of its
// own limit and the whole-request deadline, and a failure is reported with
// the phase it happened in, which decides the message and the exit status.

#include "network.hpp"

#include "error.hpp"
#include "response_reader.hpp"
#include "socks5.hpp"
#include "text.hpp"
#include "tls_trust.hpp"

#include <openssl/crypto.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include <poll.h>

namespace gptq {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// How long sending TLS close_notify may take once the response is complete:
// the reply is already in hand, so this only bounds how long exiting can
// take (the alert waits only for room in the socket's send buffer).
constexpr std::chrono::milliseconds shutdown_limit{ 1000 };

// RFC 8305's Connection Attempt Delay: how long a connection attempt runs
// alone before the next address is tried beside it (curl waits 200 ms).
constexpr std::chrono::milliseconds attempt_delay{ 250 };

std::string seconds_text(std::chrono::milliseconds ms)
{
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g s", static_cast<double>(ms.count()) / 1000.0);
  return buffer;
}

// The time limits of one exchange: each step's own limit, capped by the
// deadline of the whole request.
class Deadlines {
public:
  explicit Deadlines(const TransportOptions& options)
    : options_(options)
    , total_(options.total_timeout ? Clock::now() + *options.total_timeout : Clock::time_point::max())
  {
  }

  Clock::time_point connect() const { return capped(options_.connect_timeout); }
  Clock::time_point idle() const { return capped(options_.idle_timeout); }
  Clock::time_point shutdown() const { return capped(shutdown_limit); }
  bool total_passed() const { return Clock::now() >= total_; }

  // Throws the timeout error for a step that ran out of time: the
  // whole-request limit when that is what passed, else `step_message`.
  [[noreturn]] void timed_out(const std::string& step_message) const
  {
    if (total_passed()) {
      throw Error(ExitStatus::network,
                  "timeout",
                  "no complete response within " + seconds_text(*options_.total_timeout) + " (--timeout)");
    }
    throw Error(ExitStatus::network, "timeout", step_message);
  }

private:
  Clock::time_point capped(std::chrono::milliseconds limit) const
  {
    const auto now = Clock::now();
    return total_ - now < limit ? total_ : now + limit;
  }

  const TransportOptions& options_;
  Clock::time_point total_;
};

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

// Returns the addresses of `endpoints` in the order to try them (RFC 8305
// section 4): the families take turns, starting with the family of the
// resolver's first answer, each in the resolver's order (RFC 6724's, which
// puts IPv6 first where it is usable). An address listed twice is tried once.
std::vector<tcp::endpoint> attempt_order(const tcp::resolver::results_type& endpoints)
{
  std::vector<tcp::endpoint> first;
  std::vector<tcp::endpoint> other;
  for (const auto& entry : endpoints) {
    const tcp::endpoint& endpoint = entry.endpoint();
    auto& family = first.empty() || endpoint.protocol() == first.front().protocol() ? first : other;
    if (std::find(family.begin(), family.end(), endpoint) == family.end()) {
      family.push_back(endpoint);
    }
  }
  std::vector<tcp::endpoint> order;
  for (std::size_t i = 0; i < std::max(first.size(), other.size()); ++i) {
    for (const auto* family : { &first, &other }) {
      if (i < family->size()) {
        order.push_back((*family)[i]);
      }
    }
  }
  return order;
}

// The connection attempts of one connect, one socket per address (a socket
// whose connect failed is no use for another address: Linux then reports
// the next one's failure, or even its success, as "connection aborted").
// Shared with the attempts' completion handlers, since those of the losers
// run after the race is over.
struct ConnectRace {
  struct Attempt {
    Attempt(const tcp::endpoint& to, const net::any_io_executor& executor)
      : endpoint(to)
      , socket(executor)
    {
    }
    tcp::endpoint endpoint;
    tcp::socket socket;
    bool done = false;  // the connect has completed, with `ec`
    bool noted = false; // its failure has been taken into account
    error_code ec;
  };

  explicit ConnectRace(const net::any_io_executor& executor)
    : wake(executor)
  {
  }
  ~ConnectRace() { close(); }

  // Gives up every attempt still open.
  void close()
  {
    for (auto& attempt : attempts) {
      error_code ignored;
      attempt.socket.close(ignored);
    }
  }

  std::vector<Attempt> attempts; // reserved for every address: never moves
  net::steady_timer wake;        // slept on between events; each completion cancels it
};

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

// Over plain TCP a read takes all the socket holds already.
std::size_t read_whole_records(beast::tcp_stream&, net::mutable_buffer, error_code&)
{
  return 0;
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

} // namespace

// What TLS connections share: OpenSSL's context and what it trusts. Never
// moved, as the trust store's callback holds its address.
class TlsContext {
public:
  TlsContext(const std::optional<std::string>& cacert, const TlsTrust::Log& log)
    : context(make_tls_context())
    , trust(context.native_handle(), cacert, log)
  {
  }
  ssl::context context;
  TlsTrust trust;
};

namespace {

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
  Exchange(const TransportOptions& options, const HttpRequest& request, ResponseHandler& handler)
    : options_(options)
    , request_(request)
    , handler_(handler)
    , deadlines_(options)
    , proxy_(options.proxy ? &*options.proxy : nullptr)
    , started_(Clock::now())
    , where_(request.url.host.find(':') != std::string::npos
               ? "[" + request.url.host + "]:" + std::to_string(request.url.port)
               : request.url.host + ":" + std::to_string(request.url.port))
  {
  }

  // Sends the request on `link`'s connection, opening one when it has
  // none. With `keep`, a connection the server keeps open stays in `link`
  // for the next request; otherwise it is closed here, as it is when the
  // exchange fails: what is left of a response in it is unknown.
  net::awaitable<void> run(Link& link, bool keep)
  {
    try {
      co_await run_on(link, keep);
    } catch (...) {
      link.close();
      throw;
    }
  }

private:
  net::awaitable<void> run_on(Link& link, bool keep)
  {
    const auto executor = co_await net::this_coro::executor;
    if (request_.url.is_https()) {
      if (!link.tls) {
        // The first connection made with these options makes the context;
        // the others share it. It costs about 2.5 ms of CPU, so it is made
        // while the connection is on its way, which takes a round trip: a
        // bad --cacert is reported after the first SYN, before any byte of
        // the request. The trust store logs through the options, which
        // outlive this exchange (the link may reconnect in a later one).
        auto& shared = options_.tls->context;
        const auto make_context = [this, &shared] {
          if (!shared) {
            shared = std::make_shared<TlsContext>(options_.cacert, options_.log);
          }
        };
        meanwhile_ = make_context;
        beast::tcp_stream tcp(executor);
        co_await open(tcp);
        make_context(); // a no-op once connect() has run it
        link.tls_context = shared;
        link.tls.emplace(std::move(tcp), link.tls_context->context);
        co_await handshake(*link.tls, link.tls_context->trust);
      }
      auto& stream = *link.tls;
      const error_code write_failure = co_await write_request(stream);
      const Ending ending = co_await read_response(stream, link.buffer, write_failure);
      if (!keep || !reusable(ending, link)) {
        // A server that already closed the connection cannot be told.
        if (!ending.peer_closed) {
          // close_notify is sent, as curl does, but the server's is not
          // waited for: the response is complete, and waiting would cost a
          // round trip (or the whole limit, with a server that never sends
          // one). Marking it as received makes SSL_shutdown finish once
          // ours is written, without reading. Errors are ignored for the
          // same reason.
          SSL* ssl = stream.native_handle();
          SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
          beast::get_lowest_layer(stream).expires_at(deadlines_.shutdown());
          co_await stream.async_shutdown(use_tuple);
        }
        link.close();
      }
    } else {
      if (!link.plain) {
        link.plain.emplace(executor);
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
    log("done in " + elapsed());
  }

  bool reusable(const Ending& ending, Link& link) const
  {
    if (!ending.reusable) {
      return false;
    }
    if (!link.quiet()) {
      log("more bytes, or a close, after the end of the response; the connection is not used again");
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
    if (!proxy_) {
      co_await connect(stream, co_await resolve(url.host, url.port, "host " + url.host), where_);
      co_return;
    }
    const std::string proxy_name = "proxy " + proxy_->display();
    log("using " + proxy_name + " (from " + proxy_->source + ")");
    // A proxy's name comes from a variable the user may have forgotten.
    co_await connect(
      stream,
      co_await resolve(proxy_->host, proxy_->port, "proxy host " + proxy_->host + " (from " + proxy_->source + ")"),
      proxy_name);
    if (proxy_->kind != Proxy::Kind::http) {
      co_await socks5_handshake(stream);
    } else if (url.is_https()) {
      co_await connect_tunnel(stream);
    }
  }

  // Resolves `host`, which messages call `name` ("host api.example.com",
  // "proxy host proxy.corp (from HTTPS_PROXY)"). A name that does not exist
  // is a lasting failure (not retried); a lookup that failed for now, or ran
  // out of time, is not.
  net::awaitable<tcp::resolver::results_type> resolve(const std::string& host,
                                                      std::uint16_t port,
                                                      const std::string& name)
  {
    const auto executor = co_await net::this_coro::executor;
    // An address needs no lookup, and Asio would start a thread for one.
    error_code not_an_address;
    const auto address = net::ip::make_address(host, not_an_address);
    if (!not_an_address) {
      co_return tcp::resolver::results_type::create(tcp::endpoint(address, port), host, std::to_string(port));
    }
    tcp::resolver resolver(executor);
    // The stream's timer does not cover the resolver; a timer of its own
    // cancels it.
    net::steady_timer timer(executor);
    timer.expires_at(deadlines_.connect());
    bool timed_out = false;
    timer.async_wait([&](error_code ec) {
      if (!ec) {
        timed_out = true;
        resolver.cancel();
      }
    });
    auto [ec, results] =
      co_await resolver.async_resolve(host, std::to_string(port), tcp::resolver::numeric_service, use_tuple);
    timer.cancel();
    if (timed_out) {
      deadlines_.timed_out("cannot resolve " + name + " within " + seconds_text(options_.connect_timeout) +
                           " (--connect-timeout)");
    }
    if (ec) {
      Error failure(ExitStatus::network, "resolve", "cannot resolve " + name + ": " + ec.message());
      // EAI_NONAME and EAI_NODATA: the name server answered that there is
      // no such name (or no address for it), which a second try will not
      // change; EAI_AGAIN (host_not_found_try_again) may.
      if (ec == net::error::host_not_found) {
        failure.make_lasting();
      }
      throw failure;
    }
    co_return results;
  }

  // Connects `stream` to the first address of `endpoints` that answers,
  // racing them as RFC 8305 ("Happy Eyeballs") and curl do: in
  // attempt_order, each on a socket of its own, the next started when the
  // one before has failed or has been pending for attempt_delay; the first
  // to connect wins and the others are closed. All of it within one
  // connect limit. Once the first attempt is on its way, runs and clears
  // `meanwhile_` (what may throw from it, is thrown from here). When every
  // address fails, throws the failure that tells the most: a refusal (the
  // host is there, the server is not), then any other error, then silence.
  net::awaitable<void> connect(beast::tcp_stream& stream,
                               const tcp::resolver::results_type& endpoints,
                               const std::string& name)
  {
    const std::vector<tcp::endpoint> order = attempt_order(endpoints);
    if (order.empty()) {
      throw Error(ExitStatus::network, "connect", "cannot connect to " + name + ": no address");
    }
    const auto deadline = deadlines_.connect();
    const auto race = std::make_shared<ConnectRace>(co_await net::this_coro::executor);
    race->attempts.reserve(order.size());
    // However this ends, no attempt outlives it: a silent one would hold
    // the io_context for minutes.
    const std::unique_ptr<ConnectRace, void (*)(ConnectRace*)> closer(race.get(), [](ConnectRace* r) { r->close(); });
    std::size_t pending = 0;
    auto next_start = Clock::now(); // when the next address is tried
    for (;;) {
      for (auto& attempt : race->attempts) {
        if (attempt.done && !attempt.ec) {
          win(stream, *race, attempt, name);
          co_return;
        }
        if (attempt.done && !attempt.noted) {
          attempt.noted = true;
          --pending;
          log("cannot connect to " + endpoint_text(attempt.endpoint) + ": " + attempt.ec.message());
          next_start = Clock::now();
        }
      }
      const auto now = Clock::now();
      const bool all_started = race->attempts.size() == order.size();
      if (!all_started && now >= next_start && now < deadline) {
        start(race, order[race->attempts.size()], order.size() > 1);
        ++pending;
        next_start = now + attempt_delay;
        if (meanwhile_) {
          std::exchange(meanwhile_, {})();
        }
        continue;
      }
      if (pending == 0 || now >= deadline) {
        break;
      }
      race->wake.expires_at(all_started ? deadline : std::min(next_start, deadline));
      co_await race->wake.async_wait(use_tuple);
    }

    const ConnectRace::Attempt* telling = nullptr;
    const auto rank = [](const ConnectRace::Attempt& attempt) {
      return !attempt.done ? 2 : attempt.ec == net::error::connection_refused ? 0 : 1;
    };
    for (const auto& attempt : race->attempts) {
      if (!attempt.done) {
        log("cannot connect to " + endpoint_text(attempt.endpoint) + ": no answer");
      }
      if (!telling || rank(attempt) < rank(*telling)) {
        telling = &attempt;
      }
    }
    if (telling && telling->done) {
      throw Error(ExitStatus::network, "connect", "cannot connect to " + name + ": " + telling->ec.message());
    }
    deadlines_.timed_out("cannot connect to " + name + ": no answer within " + seconds_text(options_.connect_timeout) +
                         " (--connect-timeout)");
  }

  // Starts the connection attempt to `endpoint`; a socket that cannot be
  // opened (no IPv6 here) is an attempt that failed at once.
  void start(const std::shared_ptr<ConnectRace>& race, const tcp::endpoint& endpoint, bool say)
  {
    auto& attempt = race->attempts.emplace_back(endpoint, race->wake.get_executor());
    if (say) {
      log("trying " + endpoint_text(endpoint) + " after " + elapsed());
    }
    attempt.socket.open(endpoint.protocol(), attempt.ec);
    if (attempt.ec) {
      attempt.done = true;
      return;
    }
    attempt.socket.async_connect(endpoint, [race, index = race->attempts.size() - 1](error_code ec) {
      auto& done = race->attempts[index];
      done.done = true;
      done.ec = ec;
      race->wake.cancel();
    });
  }

  // Makes `winner`'s socket `stream`'s; the other attempts are given up.
  void win(beast::tcp_stream& stream, const ConnectRace& race, ConnectRace::Attempt& winner, const std::string& name)
  {
    stream.socket() = std::move(winner.socket);
    for (const auto& attempt : race.attempts) {
      if (!attempt.done) {
        log("gave up on " + endpoint_text(attempt.endpoint) + ": " + endpoint_text(winner.endpoint) +
            " answered first");
      }
    }
    error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    log("connected to " + name + " at " + endpoint_text(winner.endpoint) + " after " + elapsed());
  }

  // Asks an http proxy for a tunnel to the server (RFC 9110, CONNECT).
  net::awaitable<void> connect_tunnel(beast::tcp_stream& stream)
  {
    const std::string authority = request_.url.authority().find(':') == std::string::npos
                                    ? request_.url.authority() + ":" + std::to_string(request_.url.port)
                                    : request_.url.authority();
    http::request<http::empty_body> ask{ http::verb::connect, authority, 11 };
    ask.set(http::field::host, authority);
    ask.set(http::field::user_agent, user_agent());
    if (!proxy_->username.empty()) {
      ask.set(http::field::proxy_authorization, proxy_authorization(*proxy_));
    }
    stream.expires_at(deadlines_.connect());
    if (auto [ec, n] = co_await http::async_write(stream, ask, use_tuple); ec) {
      proxy_failed(ec, "sending CONNECT");
    }
    // The proxy's answer is read byte-exactly up to the end of its head:
    // whatever follows belongs to the tunnel (the server's TLS bytes).
    http::response_parser<http::empty_body> parser;
    parser.skip(true); // a 2xx to CONNECT has no body
    beast::flat_buffer buffer;
    if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple); ec) {
      proxy_failed(ec, "reading its answer to CONNECT");
    }
    const auto& answer = parser.get();
    if (const unsigned status = answer.result_int(); status / 100 != 2) {
      // Proxies answer a login failure with 407, some (tinyproxy) with 401.
      const bool login = status == 407 || status == 401;
      const std::string hint = !login                     ? ""
                               : proxy_->username.empty() ? " (it wants a login: user:password@ in the proxy URL)"
                                                          : " (wrong username or password?)";
      throw Error(ExitStatus::network,
                  "proxy",
                  proxy_->display() + " refused the tunnel to " + where_ + ": " + std::to_string(status) + " " +
                    options_.secrets.excerpt(answer.reason(), 60) + hint);
    }
    log("tunnel to " + where_ + " open after " + elapsed());
  }

  // RFC 1928, with RFC 1929 username/password when the proxy URL has them
  // (the bytes are socks5.hpp's).
  net::awaitable<void> socks5_handshake(beast::tcp_stream& stream)
  {
    stream.expires_at(deadlines_.connect());
    const bool with_password = !proxy_->username.empty();
    co_await socks_write(stream, socks5::greeting(with_password));
    std::array<char, socks5::choice_size> choice{};
    co_await socks_read(stream, choice.data(), choice.size());
    if (socks5::password_chosen({ choice.data(), choice.size() }, with_password, *proxy_)) {
      co_await socks_write(stream, socks5::login_request(*proxy_));
      std::array<char, socks5::verdict_size> verdict{};
      co_await socks_read(stream, verdict.data(), verdict.size());
      socks5::check_login_verdict({ verdict.data(), verdict.size() }, *proxy_);
    }
    // socks5h and names hand the name to the proxy; socks5 resolves here.
    const Url& url = request_.url;
    std::string connect;
    if (proxy_->kind == Proxy::Kind::socks5h && !url.host_is_ip()) {
      connect = socks5::connect_request_for_name(url.host, url.port);
    } else {
      const auto address = (co_await resolve(url.host, url.port, "host " + url.host)).begin()->endpoint().address();
      if (address.is_v4()) {
        const auto bytes = address.to_v4().to_bytes();
        connect =
          socks5::connect_request_for_address({ reinterpret_cast<const char*>(bytes.data()), bytes.size() }, url.port);
      } else {
        const auto bytes = address.to_v6().to_bytes();
        connect =
          socks5::connect_request_for_address({ reinterpret_cast<const char*>(bytes.data()), bytes.size() }, url.port);
      }
    }
    stream.expires_at(deadlines_.connect());
    co_await socks_write(stream, connect);
    // The reply is read byte-exactly: what follows belongs to the tunnel.
    // Its fixed head, the length of a bound name when it has one, then the
    // rest of the bound address, which is of no use here.
    std::array<char, socks5::reply_head_size + 1 + 255 + 2> reply{};
    std::size_t have = socks5::reply_head_size;
    co_await socks_read(stream, reply.data(), have);
    auto size = socks5::connect_reply_size({ reply.data(), have }, *proxy_, where_);
    if (!size) {
      co_await socks_read(stream, reply.data() + have, 1);
      ++have;
      size = socks5::connect_reply_size({ reply.data(), have }, *proxy_, where_);
    }
    co_await socks_read(stream, reply.data() + have, *size - have);
    log("SOCKS5 connection to " + where_ + " open after " + elapsed());
  }

  net::awaitable<void> socks_write(beast::tcp_stream& stream, const std::string& bytes)
  {
    if (auto [ec, n] = co_await net::async_write(stream, net::buffer(bytes), use_tuple); ec) {
      proxy_failed(ec, "talking SOCKS5");
    }
  }

  net::awaitable<void> socks_read(beast::tcp_stream& stream, char* data, std::size_t size)
  {
    if (auto [ec, n] = co_await net::async_read(stream, net::buffer(data, size), use_tuple); ec) {
      proxy_failed(ec, "talking SOCKS5");
    }
  }

  [[noreturn]] void proxy_failed(const error_code& ec, const std::string& doing) const
  {
    if (ec == beast::error::timeout) {
      deadlines_.timed_out(proxy_->display() + " did not answer within " + seconds_text(options_.connect_timeout) +
                           " (--connect-timeout) while " + doing);
    }
    throw Error(ExitStatus::network, "proxy", proxy_->display() + " failed while " + doing + ": " + ec.message());
  }

  void log(const std::string& line) const
  {
    if (options_.log) {
      options_.log(line);
    }
  }

  std::string elapsed() const
  {
    char buffer[32];
    std::snprintf(
      buffer, sizeof buffer, "%.1f ms", std::chrono::duration<double, std::milli>(Clock::now() - started_).count());
    return buffer;
  }

  static std::string endpoint_text(const tcp::endpoint& endpoint)
  {
    const auto address = endpoint.address().to_string();
    return (endpoint.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(endpoint.port());
  }

  net::awaitable<void> handshake(beast::ssl_stream<beast::tcp_stream>& stream, const TlsTrust& trust)
  {
    SSL* ssl = stream.native_handle();
    const std::string& host = request_.url.host;
    if (request_.url.host_is_ip()) {
      // No SNI for IP literals (RFC 6066); verify against the IP SANs.
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, host.c_str());
      SSL_set1_host(ssl, host.c_str());
    }
    beast::get_lowest_layer(stream).expires_at(deadlines_.connect());
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (!ec) {
      log(std::string(SSL_get_version(ssl)) + " with " + host + " (" + SSL_get_cipher_name(ssl) + ") after " +
          elapsed());
      co_return;
    }
    if (ec == beast::error::timeout) {
      deadlines_.timed_out("no TLS handshake with " + where_ + " within " + seconds_text(options_.connect_timeout) +
                           " (--connect-timeout)");
    }
    if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
      throw Error(ExitStatus::network, "certificate", describe_verify_failure(verify, host, trust.bundle_problem()));
    }
    // A plain-HTTP server answers a ClientHello with an HTTP error (which
    // OpenSSL reads as a wrong version number) or just closes.
    const bool plain_http_likely =
      ec == ssl::error::stream_truncated || ec == net::error::eof ||
      (ec.category() == net::error::get_ssl_category() &&
       ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_WRONG_VERSION_NUMBER);
    throw Error(ExitStatus::network,
                "tls",
                "TLS handshake with " + where_ + " failed: " +
                  (plain_http_likely ? "the server does not speak TLS (is it an http:// server?)" : ec.message()));
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
    const bool via_http_proxy = proxy_ && proxy_->kind == Proxy::Kind::http && !request_.url.is_https();
    const std::string target =
      via_http_proxy ? "http://" + request_.url.authority() + request_.url.target() : request_.url.target();
    http::request<http::span_body<const char>> message{ http::string_to_verb(request_.method), target, 11 };
    for (const auto& [name, value] : request_.headers) {
      message.set(name, value);
    }
    if (via_http_proxy && !proxy_->username.empty()) {
      message.set(http::field::proxy_authorization, proxy_authorization(*proxy_));
    }
    message.body() = { request_.body.data(), request_.body.size() };
    message.prepare_payload();
    http::request_serializer<http::span_body<const char>> serializer{ message };
    while (!serializer.is_done()) {
      beast::get_lowest_layer(stream).expires_at(deadlines_.idle());
      auto [ec, n] = co_await http::async_write_some(stream, serializer, use_tuple);
      if (ec == beast::error::timeout) {
        deadlines_.timed_out("cannot send the request to " + where_ + ": no progress for " +
                             seconds_text(options_.idle_timeout) + " (--idle-timeout)");
      }
      if (ec) {
        log("sending the request failed (" + ec.message() + "); reading what the server answered");
        co_return ec;
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
      handler_, where_, options_.log, [this](const ResponseReader::Head& head) { check_head(head); });
    // One read gives at most read_size bytes (over TLS: the records whole
    // in hand, see read_whole_records).
    constexpr std::size_t read_size = ResponseReader::piece_size;
    error_code read_ec; // how the last read ended, once what it read is parsed
    for (;;) {
      buffer.consume(reader.feed({ static_cast<const char*>(buffer.data().data()), buffer.size() }));
      if (const auto& ending = reader.ending()) {
        // After the request was not all sent the connection is not used again.
        co_return Ending{ ending->peer_closed, ending->reusable && !write_failure };
      }
      error_code ec = reader.error();
      if (!ec && read_ec) {
        ec = reader.end_input(std::exchange(read_ec, {}));
        if (!ec) {
          continue;
        }
      }
      if (!ec) {
        beast::get_lowest_layer(stream).expires_at(deadlines_.idle());
        auto [error, n] = co_await stream.async_read_some(buffer.prepare(read_size), use_tuple);
        buffer.commit(n);
        read_ec = error;
        if (!read_ec && n < read_size) {
          buffer.commit(read_whole_records(stream, buffer.prepare(read_size - n), read_ec));
        }
        continue;
      }
      if (write_failure && !reader.answered()) {
        throw Error(
          ExitStatus::network, "network", "sending the request to " + where_ + " failed: " + write_failure.message());
      }
      if (ec == beast::error::timeout) {
        deadlines_.timed_out(reader.head_delivered() ? "the server stopped sending in the middle of the response for " +
                                                         seconds_text(options_.idle_timeout) + " (--idle-timeout)"
                                                     : "no response from " + where_ + " within " +
                                                         seconds_text(options_.idle_timeout) + " (--idle-timeout)");
      }
      co_return reader.fail(ec, { static_cast<const char*>(buffer.data().data()), buffer.size() });
    }
  }

  // Looks at the response head before the handler gets it. Throws
  // gptq::Error when it is an http proxy's refusal to forward a plain http
  // request (407).
  void check_head(const ResponseReader::Head& head)
  {
    if (proxy_ && proxy_->kind == Proxy::Kind::http && !request_.url.is_https() && head.result_int() == 407) {
      throw Error(ExitStatus::network,
                  "proxy",
                  proxy_->display() + " refused to forward the request to " + where_ + ": 407 " +
                    options_.secrets.excerpt(head.reason(), 60) +
                    (proxy_->username.empty() ? " (it wants a login: user:password@ in the proxy URL)"
                                              : " (wrong username or password?)"));
    }
    log("HTTP " + std::to_string(head.result_int()) + " " + options_.secrets.excerpt(head.reason(), 60) +
        ", first byte after " + elapsed());
  }

  const TransportOptions& options_;
  const HttpRequest& request_;
  ResponseHandler& handler_;
  Deadlines deadlines_;
  const Proxy* proxy_; // null: a direct connection
  Clock::time_point started_;
  std::string where_;
  // Work to do while the first connection attempt is on its way.
  std::function<void()> meanwhile_;
};

class NetworkTransport : public Transport {
public:
  explicit NetworkTransport(const TransportOptions& options)
    : options_(options)
  {
  }

  void send(const HttpRequest& request, ResponseHandler& handler) override
  {
    net::io_context ioc{ 1 };
    Exchange exchange(options_, request, handler);
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
  explicit NetworkConnection(const TransportOptions& options)
    : options_(options)
  {
  }

  net::awaitable<void> send(const HttpRequest& request, ResponseHandler& handler) override
  {
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
        Exchange exchange(options_, request, watched);
        co_await exchange.run(link_, true);
      } catch (const Error& e) {
        if (watched.answered || e.phase() != "network") {
          throw;
        }
        stale = true;
      }
      if (!stale) {
        co_return;
      }
      link_.close();
    }
    Exchange exchange(options_, request, handler);
    co_await exchange.run(link_, true);
  }

private:
  TransportOptions options_;
  Link link_;
};

} // namespace

std::unique_ptr<Transport> make_network_transport(const TransportOptions& options)
{
  return std::make_unique<NetworkTransport>(options);
}

std::unique_ptr<Connection> make_network_connection(const net::any_io_executor&, const TransportOptions& options)
{
  return std::make_unique<NetworkConnection>(options);
}

} // namespace gptq

namespace gptq {

void init_network_library()
{
  // OpenSSL's exit handler frees every provider and algorithm table, about
  // half a millisecond of work whose only effect is on memory the kernel
  // is about to reclaim.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
}

} // namespace gptq
