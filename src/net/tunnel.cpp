#include "tunnel.hpp"

#include "connect.hpp"
#include "socks5.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>

namespace gptq {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;

[[noreturn]] void proxy_failed(const ExchangeContext& ctx, const error_code& ec, const std::string& doing)
{
  if (ec == beast::error::timeout) {
    ctx.deadlines.timed_out(ctx.proxy->display() + " did not answer within " +
                            seconds_text(ctx.options.connect_timeout) + " (--connect-timeout) while " + doing);
  }
  throw Error(FailureKind::proxy,
              ExitStatus::network,
              "proxy",
              ctx.proxy->display() + " failed while " + doing + ": " + ec.message());
}

net::awaitable<void> socks_write(const ExchangeContext& ctx, beast::tcp_stream& stream, const std::string& bytes)
{
  if (auto [ec, n] = co_await net::async_write(stream, net::buffer(bytes), use_tuple); ec) {
    proxy_failed(ctx, ec, "talking SOCKS5");
  }
}

net::awaitable<void> socks_read(const ExchangeContext& ctx, beast::tcp_stream& stream, char* data, std::size_t size)
{
  if (auto [ec, n] = co_await net::async_read(stream, net::buffer(data, size), use_tuple); ec) {
    proxy_failed(ctx, ec, "talking SOCKS5");
  }
}

} // namespace

// Asks an http proxy for a tunnel to the server (RFC 9110, CONNECT).
net::awaitable<void> connect_tunnel(ExchangeContext& ctx, beast::tcp_stream& stream)
{
  const std::string authority = ctx.url.authority().find(':') == std::string::npos
                                  ? ctx.url.authority() + ":" + std::to_string(ctx.url.port)
                                  : ctx.url.authority();
  http::request<http::empty_body> ask{ http::verb::connect, authority, 11 };
  ask.set(http::field::host, authority);
  ask.set(http::field::user_agent, user_agent());
  if (!ctx.proxy->username.empty()) {
    ask.set(http::field::proxy_authorization, proxy_authorization(*ctx.proxy));
  }
  stream.expires_at(ctx.deadlines.connect());
  if (auto [ec, n] = co_await http::async_write(stream, ask, use_tuple); ec) {
    proxy_failed(ctx, ec, "sending CONNECT");
  }
  // The proxy's answer is read byte-exactly up to the end of its head:
  // whatever follows belongs to the tunnel (the server's TLS bytes).
  http::response_parser<http::empty_body> parser;
  parser.skip(true); // a 2xx to CONNECT has no body
  beast::flat_buffer buffer;
  if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple); ec) {
    proxy_failed(ctx, ec, "reading its answer to CONNECT");
  }
  const auto& answer = parser.get();
  if (const unsigned status = answer.result_int(); status / 100 != 2) {
    // Proxies answer a login failure with 407, some (tinyproxy) with 401.
    const bool login = status == 407 || status == 401;
    const std::string hint = !login                        ? ""
                             : ctx.proxy->username.empty() ? " (it wants a login: user:password@ in the proxy URL)"
                                                           : " (wrong username or password?)";
    throw Error(FailureKind::proxy,
                ExitStatus::network,
                "proxy",
                ctx.proxy->display() + " refused the tunnel to " + ctx.where + ": " + std::to_string(status) + " " +
                  ctx.options.secrets.excerpt(answer.reason(), 60) + hint);
  }
  ctx.log("tunnel to " + ctx.where + " open after " + ctx.elapsed());
}

// RFC 1928, with RFC 1929 username/password when the proxy URL has them
// (the bytes are socks5.hpp's).
net::awaitable<void> socks5_handshake(ExchangeContext& ctx, beast::tcp_stream& stream)
{
  stream.expires_at(ctx.deadlines.connect());
  const bool with_password = !ctx.proxy->username.empty();
  co_await socks_write(ctx, stream, socks5::greeting(with_password));
  std::array<char, socks5::choice_size> choice{};
  co_await socks_read(ctx, stream, choice.data(), choice.size());
  if (socks5::password_chosen({ choice.data(), choice.size() }, with_password, *ctx.proxy)) {
    co_await socks_write(ctx, stream, socks5::login_request(*ctx.proxy));
    std::array<char, socks5::verdict_size> verdict{};
    co_await socks_read(ctx, stream, verdict.data(), verdict.size());
    socks5::check_login_verdict({ verdict.data(), verdict.size() }, *ctx.proxy);
  }
  // socks5h and names hand the name to the proxy; socks5 resolves here.
  const Url& url = ctx.url;
  std::string connect;
  if (ctx.proxy->kind == Proxy::Kind::socks5h && !url.host_is_ip()) {
    connect = socks5::connect_request_for_name(url.host, url.port);
  } else {
    const auto address = (co_await resolve(ctx, url.host, url.port, "host " + url.host)).begin()->endpoint().address();
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
  stream.expires_at(ctx.deadlines.connect());
  co_await socks_write(ctx, stream, connect);
  // The reply is read byte-exactly: what follows belongs to the tunnel.
  // Its fixed head, the length of a bound name when it has one, then the
  // rest of the bound address, which is of no use here.
  std::array<char, socks5::reply_head_size + 1 + 255 + 2> reply{};
  std::size_t have = socks5::reply_head_size;
  co_await socks_read(ctx, stream, reply.data(), have);
  auto size = socks5::connect_reply_size({ reply.data(), have }, *ctx.proxy, ctx.where);
  if (!size) {
    co_await socks_read(ctx, stream, reply.data() + have, 1);
    ++have;
    size = socks5::connect_reply_size({ reply.data(), have }, *ctx.proxy, ctx.where);
  }
  co_await socks_read(ctx, stream, reply.data() + have, *size - have);
  ctx.log("SOCKS5 connection to " + ctx.where + " open after " + ctx.elapsed());
}

} // namespace gptq
