// gptq_test_server: a loopback HTTP/HTTPS server that imitates an
// OpenAI-compatible chat API, well and badly, for the integration tests.
//
// Usage: gptq_test_server --certs DIR [--verbose]
//   DIR is made by tests/certs/make_certs.sh. The server listens on
//   127.0.0.1 only, on ephemeral ports, one listener per kind:
//     https       TLS, server.pem/server.key (valid for localhost, 127.0.0.1, ::1)
//     expired     TLS, expired.pem/expired.key (validity in 2020)
//     wronghost   TLS, wronghost.pem/wronghost.key (SAN DNS:wrong.example only)
//     selfsigned  TLS, selfsigned.pem/selfsigned.key (not from the test CA)
//     http        plain HTTP
//     silent      plain TCP: accepts, never reads nor writes, keeps the
//                 connection until the peer closes it (or 300 s)
//   TLS listeners accept TLS 1.2 and 1.3; a failed handshake just drops the
//   connection. When all listen, one line goes to stdout (then a flush):
//     https=PORT expired=PORT wronghost=PORT selfsigned=PORT http=PORT silent=PORT
//   The server exits with status 0 when its stdin reaches EOF (so it dies
//   with the test that started it) and on SIGTERM or SIGINT.
//   --verbose logs one line per connection event to stderr.
//
// The mode of a request is the first segment of its target: a client given
// the base URL https://127.0.0.1:PORT/MODE/v1 posts to
// /MODE/v1/chat/completions (a ?query is ignored). Modes marked /NNN take a
// status code (200-599) as second segment: /status/429/v1/chat/completions.
// Replies are application/json with Content-Length and honour keep-alive
// unless stated otherwise. A "completion" is
//   {"id":"chatcmpl-test","object":"chat.completion","created":1700000000,
//    "model":<request model>,"choices":[{"index":0,"message":{"role":
//    "assistant","content":C},"finish_reason":"stop"}],
//    "usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}
// and an "OpenAI error" is
//   {"error":{"message":M,"type":T,"param":null,"code":K}}.
//
//   echo             200 completion; C = the content string of the last message
//                    with role "user", byte for byte. A body that is not JSON,
//                    or has no user message with string content: 400 OpenAI
//                    error (type invalid_request_error).
//   request          200 completion; C = a JSON text (a string) describing the
//                    request: {"method":..,"target":..,"headers":{<lower-case
//                    name>: value, ...},"body":<raw body>}. Repeated headers
//                    are joined with ", ".
//   chunked          like echo, Transfer-Encoding: chunked, 7-byte chunks.
//   close            like echo, no Content-Length nor chunking, Connection:
//                    close; the body ends at close (TLS: close_notify first).
//   close-noshutdown like close, but TLS closes TCP without close_notify.
//   status/NNN       NNN, OpenAI error: message "test error NNN", type
//                    "test_type", code "test_code"; 429 adds Retry-After: 7.
//   errstr/NNN       NNN, {"error":"plain error text NNN"}
//   errmsg/NNN       NNN, {"message":"message field NNN"}
//   detail/NNN       NNN, {"detail":"detail text NNN"}
//   detaillist/NNN   NNN, {"detail":[{"loc":["body","model"],
//                    "msg":"field required","type":"missing"}]}
//   numcode/NNN      NNN, {"error":{"message":"numeric code NNN","code":NNN}}
//   html502          502, text/html, an nginx "502 Bad Gateway" page.
//   leakkey          401, OpenAI error, message "Incorrect API key provided:
//                    KEY. You can find ..." where KEY is the Authorization
//                    value after "Bearer " (the whole value if no such prefix).
//   malformed        200, body {"choices":[{"message":{"content":"hi"
//                    (truncated JSON, correct Content-Length).
//   notjson          200, text/plain, body "hello, not json".
//   nocontent        200 completion with "choices":[].
//   nullcontent      200 completion with "content":null.
//   truncated        200, Content-Length: 1000, the first 40 bytes of a
//                    completion, then TCP close (no close_notify).
//   drop             reads the request, closes without a reply (TCP close,
//                    no close_notify).
//   hang             reads the request, sends nothing, keeps the connection
//                    until the peer closes it (or 300 s).
//   stall-body       200 head with Content-Length: 1000 and 20 body bytes,
//                    then nothing; kept until the peer closes it (or 300 s).
//   anything else    404, OpenAI error "unknown test mode: MODE" (also for a
//                    missing or invalid NNN).
// "TCP close" is a FIN after which the server waits (up to 10 s) for the
// peer's close, so no reset can destroy data the peer has not read yet.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <openssl/ssl.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

namespace {

bool g_verbose = false;

// One listener: its name in the ports line and, for TLS, its certificate.
struct Kind {
  const char* name;
  const char* cert; // base name in the certs dir; nullptr for plain TCP
  bool silent;
};

constexpr std::array<Kind, 6> kKinds{{
    {"https", "server", false},
    {"expired", "expired", false},
    {"wronghost", "wronghost", false},
    {"selfsigned", "selfsigned", false},
    {"http", nullptr, false},
    {"silent", nullptr, true},
}};

constexpr int kHoldSeconds = 300;  // hang, stall-body, silent
constexpr int kLingerSeconds = 10; // waiting for the peer's close after ours

void log(const std::string& line) {
  if (g_verbose) {
    std::cerr << "gptq_test_server: " + line + "\n" << std::flush;
  }
}

// Waits until the peer closes `fd` (FIN or reset) or `seconds` pass. With
// `drain`, data that arrives meanwhile is read and discarded; without it
// nothing is ever read.
void wait_peer_close(int fd, int seconds, bool drain) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return;
    }
    pollfd p{};
    p.fd = fd;
    p.events = static_cast<short>(POLLRDHUP | (drain ? POLLIN : 0));
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      return;
    }
    if (drain) {
      char scratch[4096];
      const ssize_t got = ::recv(fd, scratch, sizeof scratch, 0);
      if (got <= 0) {
        return;
      }
    } else if ((p.revents & POLLRDHUP) != 0) {
      return;
    }
  }
}

// Sends FIN, waits for the peer to close its side, then closes the socket.
void linger_close(tcp::socket& sock) {
  error_code ec;
  sock.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    wait_peer_close(sock.native_handle(), kLingerSeconds, true);
  }
  sock.close(ec);
}

tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(ssl::stream<tcp::socket>& s) { return s.next_layer(); }

// Sends close_notify (TLS only) and waits for the peer's, or its EOF.
void close_notify(tcp::socket&) {}
void close_notify(ssl::stream<tcp::socket>& s) {
  error_code ec;
  s.shutdown(ec);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// --- Reply bodies ---------------------------------------------------------

json::object completion(json::value model, json::value content) {
  json::object message{{"role", "assistant"}, {"content", std::move(content)}};
  json::object choice{{"index", 0}, {"message", std::move(message)},
                      {"finish_reason", "stop"}};
  return json::object{
      {"id", "chatcmpl-test"},
      {"object", "chat.completion"},
      {"created", 1700000000},
      {"model", std::move(model)},
      {"choices", json::array{std::move(choice)}},
      {"usage", json::object{{"prompt_tokens", 5},
                             {"completion_tokens", 7},
                             {"total_tokens", 12}}},
  };
}

std::string openai_error(std::string_view message, std::string_view type,
                         json::value code) {
  return json::serialize(json::object{
      {"error", json::object{{"message", message},
                             {"type", type},
                             {"param", nullptr},
                             {"code", std::move(code)}}}});
}

// A complete reply. `raw` replies bypass Beast's framing (see the modes).
struct Reply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

Reply error_reply(unsigned status, std::string_view message,
                  std::string_view type = "invalid_request_error",
                  json::value code = nullptr) {
  return Reply{status, "application/json", openai_error(message, type, std::move(code)),
               {}};
}

// The request's model if its body is a JSON object with one, else a default.
json::value request_model(const json::value& body) {
  if (const auto* obj = body.if_object()) {
    if (const auto* model = obj->if_contains("model")) {
      return *model;
    }
  }
  return "test-model";
}

// The echo reply: a completion whose content is the last user message's.
Reply echo_reply(const std::string& body) {
  error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) {
    return error_reply(400, "request body is not valid JSON: " + ec.message());
  }
  const json::string* content = nullptr;
  if (const auto* obj = doc.if_object()) {
    if (const auto* msgs = obj->if_contains("messages"); msgs && msgs->is_array()) {
      for (const auto& m : msgs->get_array()) {
        const auto* mo = m.if_object();
        if (mo == nullptr) {
          continue;
        }
        const auto* role = mo->if_contains("role");
        if (role != nullptr && role->is_string() && role->get_string() == "user") {
          const auto* c = mo->if_contains("content");
          content = c != nullptr ? c->if_string() : nullptr;
        }
      }
    }
  }
  if (content == nullptr) {
    return error_reply(400, "no user message with string content");
  }
  return Reply{200, "application/json",
               json::serialize(completion(request_model(doc), *content)), {}};
}

// The request reply: a completion whose content describes the request.
template <class Request>
Reply request_reply(const Request& req) {
  json::object headers;
  for (const auto& field : req) {
    std::string name = lower(field.name_string());
    std::string_view value = field.value();
    if (auto* prev = headers.if_contains(name)) {
      json::string& s = prev->as_string();
      s.append(", ");
      s.append(value);
    } else {
      headers[name] = value;
    }
  }
  json::object described{
      {"method", std::string_view(req.method_string())},
      {"target", std::string_view(req.target())},
      {"headers", std::move(headers)},
      {"body", req.body()},
  };
  error_code ec;
  json::value doc = json::parse(req.body(), ec);
  json::value model = ec ? json::value("test-model") : request_model(doc);
  return Reply{200, "application/json",
               json::serialize(completion(std::move(model),
                                          json::string(json::serialize(described)))),
               {}};
}

const char* const kHtml502 =
    "<html>\r\n"
    "<head><title>502 Bad Gateway</title></head>\r\n"
    "<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx/1.22.1</center>\r\n"
    "</body>\r\n"
    "</html>\r\n";

// --- Request routing -----------------------------------------------------

// The path segments of `target`, without query; an absolute-form target
// (http://host/path) is reduced to its path.
std::vector<std::string> segments(std::string_view target) {
  if (auto q = target.find_first_of("?#"); q != std::string_view::npos) {
    target = target.substr(0, q);
  }
  if (auto scheme = target.find("://"); scheme != std::string_view::npos &&
                                       target.find('/') > scheme) {
    auto path = target.find('/', scheme + 3);
    target = path == std::string_view::npos ? std::string_view{} : target.substr(path);
  }
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < target.size()) {
    auto j = target.find('/', i);
    if (j == std::string_view::npos) {
      j = target.size();
    }
    if (j > i) {
      out.emplace_back(target.substr(i, j - i));
    }
    i = j + 1;
  }
  return out;
}

// Parses a status code argument; nullopt unless it is 200..599.
std::optional<unsigned> status_arg(const std::vector<std::string>& seg) {
  if (seg.size() < 2 || seg[1].size() != 3 ||
      !std::all_of(seg[1].begin(), seg[1].end(),
                   [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return std::nullopt;
  }
  unsigned v = static_cast<unsigned>(std::stoul(seg[1]));
  if (v < 200 || v > 599) {
    return std::nullopt;
  }
  return v;
}

// --- Connection handling -------------------------------------------------

using Request = http::request<http::string_body>;

template <class Stream>
bool write_all(Stream& stream, std::string_view bytes) {
  error_code ec;
  net::write(stream, net::buffer(bytes.data(), bytes.size()), ec);
  return !ec;
}

// Writes a framed reply; returns whether the connection may carry on.
template <class Stream>
bool write_reply(Stream& stream, const Request& req, Reply reply) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.result(reply.status);
  if (http::int_to_status(reply.status) == http::status::unknown) {
    res.reason("Test Status");
  }
  res.set(http::field::server, "gptq-test-server");
  res.set(http::field::content_type, reply.content_type);
  for (auto& [name, value] : reply.extra_headers) {
    res.set(name, value);
  }
  res.keep_alive(req.keep_alive());
  res.body() = std::move(reply.body);
  res.prepare_payload();
  error_code ec;
  http::write(stream, res, ec);
  return !ec && !res.need_eof();
}

// Writes `reply` in Transfer-Encoding: chunked, 7 bytes per chunk.
template <class Stream>
bool write_chunked(Stream& stream, const Request& req, const Reply& reply) {
  http::response<http::empty_body> res{http::status::ok, req.version()};
  res.set(http::field::server, "gptq-test-server");
  res.set(http::field::content_type, reply.content_type);
  res.keep_alive(req.keep_alive());
  res.chunked(true);
  http::response_serializer<http::empty_body> sr{res};
  error_code ec;
  http::write_header(stream, sr, ec);
  const std::string& body = reply.body;
  for (std::size_t i = 0; !ec && i < body.size(); i += 7) {
    std::size_t n = std::min<std::size_t>(7, body.size() - i);
    net::write(stream, http::make_chunk(net::buffer(body.data() + i, n)), ec);
  }
  if (!ec) {
    net::write(stream, http::make_chunk_last(), ec);
  }
  return !ec && req.keep_alive();
}

// A raw HTTP/1.1 head; `length` adds Content-Length, `close` Connection: close.
std::string raw_head(unsigned status, std::string_view reason,
                     std::string_view content_type,
                     std::optional<std::size_t> length, bool close) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                  "\r\nServer: gptq-test-server\r\nContent-Type: " +
                  std::string(content_type) + "\r\n";
  if (length) {
    h += "Content-Length: " + std::to_string(*length) + "\r\n";
  }
  if (close) {
    h += "Connection: close\r\n";
  }
  return h + "\r\n";
}

// What happens to the connection after a mode has been served.
enum class After { keep_alive, graceful_close, tcp_close, hold, done };

// Serves one request; returns what to do with the connection next.
template <class Stream>
After serve(Stream& stream, const Request& req, const std::string& kind) {
  const auto seg = segments(req.target());
  const std::string mode = seg.empty() ? std::string() : seg[0];
  log(kind + ": " + std::string(req.method_string()) + " " +
      std::string(req.target()) + " -> mode " + (mode.empty() ? "(none)" : mode));
  auto reply = [&](Reply r) {
    return write_reply(stream, req, std::move(r)) ? After::keep_alive
                                                  : After::graceful_close;
  };
  auto simple = [&](unsigned status, std::string body) {
    return reply(Reply{status, "application/json", std::move(body), {}});
  };

  if (mode == "echo") {
    return reply(echo_reply(req.body()));
  }
  if (mode == "request") {
    return reply(request_reply(req));
  }
  if (mode == "chunked") {
    Reply r = echo_reply(req.body());
    if (r.status != 200) {
      return reply(std::move(r));
    }
    return write_chunked(stream, req, r) ? After::keep_alive : After::graceful_close;
  }
  if (mode == "close" || mode == "close-noshutdown") {
    Reply r = echo_reply(req.body());
    std::string reason(http::obsolete_reason(http::int_to_status(r.status)));
    write_all(stream, raw_head(r.status, reason, r.content_type, std::nullopt, true) +
                          r.body);
    return mode == "close" ? After::graceful_close : After::tcp_close;
  }
  if (mode == "html502") {
    return reply(Reply{502, "text/html", kHtml502, {}});
  }
  if (mode == "leakkey") {
    std::string_view auth;
    if (auto it = req.find(http::field::authorization); it != req.end()) {
      auth = it->value();
    }
    if (auth.size() >= 7 && lower(auth.substr(0, 7)) == "bearer ") {
      auth.remove_prefix(7);
    }
    return reply(error_reply(
        401,
        "Incorrect API key provided: " + std::string(auth) +
            ". You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error", "invalid_api_key"));
  }
  if (mode == "malformed") {
    return simple(200, R"({"choices":[{"message":{"content":"hi")");
  }
  if (mode == "notjson") {
    return reply(Reply{200, "text/plain", "hello, not json", {}});
  }
  if (mode == "nocontent" || mode == "nullcontent") {
    error_code ec;
    json::value doc = json::parse(req.body(), ec);
    json::object c = completion(ec ? json::value("test-model") : request_model(doc),
                                nullptr);
    if (mode == "nocontent") {
      c["choices"] = json::array{};
    }
    return simple(200, json::serialize(c));
  }
  if (mode == "truncated") {
    std::string body = json::serialize(completion("test-model", "truncated reply"));
    write_all(stream, raw_head(200, "OK", "application/json", 1000, false) +
                          body.substr(0, 40));
    return After::tcp_close;
  }
  if (mode == "drop") {
    return After::tcp_close;
  }
  if (mode == "hang") {
    return After::hold;
  }
  if (mode == "stall-body") {
    std::string body = json::serialize(completion("test-model", "stalled reply"));
    write_all(stream, raw_head(200, "OK", "application/json", 1000, false) +
                          body.substr(0, 20));
    return After::hold;
  }

  const auto nnn = status_arg(seg);
  const std::string n = nnn ? std::to_string(*nnn) : std::string();
  if (nnn && mode == "status") {
    Reply r = error_reply(*nnn, "test error " + n, "test_type", "test_code");
    if (*nnn == 429) {
      r.extra_headers.emplace_back("Retry-After", "7");
    }
    return reply(std::move(r));
  }
  if (nnn && mode == "errstr") {
    return simple(*nnn, json::serialize(json::object{{"error", "plain error text " + n}}));
  }
  if (nnn && mode == "errmsg") {
    return simple(*nnn,
                  json::serialize(json::object{{"message", "message field " + n}}));
  }
  if (nnn && mode == "detail") {
    return simple(*nnn, json::serialize(json::object{{"detail", "detail text " + n}}));
  }
  if (nnn && mode == "detaillist") {
    return simple(
        *nnn,
        R"({"detail":[{"loc":["body","model"],"msg":"field required","type":"missing"}]})");
  }
  if (nnn && mode == "numcode") {
    return simple(*nnn, json::serialize(json::object{
                            {"error", json::object{{"message", "numeric code " + n},
                                                   {"code", *nnn}}}}));
  }
  std::string what = mode;
  if (mode == "status" || mode == "errstr" || mode == "errmsg" || mode == "detail" ||
      mode == "detaillist" || mode == "numcode") {
    what += "/" + (seg.size() > 1 ? seg[1] : std::string()) + " (NNN must be 200-599)";
  }
  return reply(error_reply(404, "unknown test mode: " + what, "invalid_request_error",
                           "unknown_test_mode"));
}

// Reads and serves requests on `stream` until the connection ends.
template <class Stream>
void serve_connection(Stream& stream, const std::string& kind) {
  boost::beast::flat_buffer buffer; // must persist between reads (keep-alive)
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(64 * 1024 * 1024);
    error_code ec;
    // Read the head first so that Expect: 100-continue can be answered.
    http::read_header(stream, buffer, parser, ec);
    if (ec) {
      log(kind + ": read header: " + ec.message());
      lowest(stream).close(ec);
      return;
    }
    if (lower(parser.get()[http::field::expect]) == "100-continue") {
      write_all(stream, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    http::read(stream, buffer, parser, ec);
    if (ec) {
      log(kind + ": read body: " + ec.message());
      lowest(stream).close(ec);
      return;
    }
    const Request req = parser.release();
    switch (serve(stream, req, kind)) {
    case After::keep_alive:
      if (req.keep_alive()) {
        continue;
      }
      [[fallthrough]];
    case After::graceful_close:
      close_notify(stream);
      linger_close(lowest(stream));
      return;
    case After::tcp_close:
      linger_close(lowest(stream));
      return;
    case After::hold:
      wait_peer_close(lowest(stream).native_handle(), kHoldSeconds, true);
      lowest(stream).close(ec);
      return;
    case After::done:
      return;
    }
  }
}

// Runs one accepted connection to its end; never throws.
void run_connection(tcp::socket sock, const Kind& kind, ssl::context* tls) {
  try {
    if (kind.silent) {
      wait_peer_close(sock.native_handle(), kHoldSeconds, false);
      log("silent: connection ended");
      return;
    }
    if (tls == nullptr) {
      serve_connection(sock, kind.name);
      return;
    }
    ssl::stream<tcp::socket> stream(std::move(sock), *tls);
    error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) {
      // Typically the client rejecting our certificate: drop the connection.
      log(std::string(kind.name) + ": handshake: " + ec.message());
      stream.next_layer().close(ec);
      return;
    }
    serve_connection(stream, kind.name);
  } catch (const std::exception& e) {
    log(std::string(kind.name) + ": connection error: " + e.what());
  } catch (...) {
    log(std::string(kind.name) + ": unknown connection error");
  }
}

// Accepts connections forever, one detached thread each.
void accept_loop(tcp::acceptor& acceptor, const Kind& kind, ssl::context* tls) {
  for (;;) {
    error_code ec;
    tcp::socket sock(acceptor.get_executor());
    acceptor.accept(sock, ec);
    if (ec) {
      log(std::string(kind.name) + ": accept: " + ec.message());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    try {
      std::thread(run_connection, std::move(sock), std::cref(kind), tls).detach();
    } catch (const std::exception& e) {
      log(std::string(kind.name) + ": cannot start thread: " + e.what());
    }
  }
}

std::unique_ptr<ssl::context> make_tls(const std::string& dir, const char* name) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("cannot set the minimum TLS version");
  }
  const std::string base = dir + "/" + name;
  ctx->use_certificate_chain_file(base + ".pem");
  ctx->use_private_key_file(base + ".key", ssl::context::pem);
  return ctx;
}

[[noreturn]] void quit(int status) {
  std::fflush(stdout);
  std::fflush(stderr);
  // Connection threads are detached and may be blocked in I/O: skip static
  // destructors rather than race them.
  std::_Exit(status);
}

const char* const kUsage =
    "usage: gptq_test_server --certs DIR [--verbose]\n"
    "  Serves test modes on 127.0.0.1, prints the ports line, and exits\n"
    "  when stdin reaches EOF or on SIGTERM/SIGINT.\n";

} // namespace

int main(int argc, char** argv) {
  std::string certs;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--certs" && i + 1 < argc) {
      certs = argv[++i];
    } else if (arg.substr(0, 8) == "--certs=") {
      certs = std::string(arg.substr(8));
    } else if (arg == "--verbose") {
      g_verbose = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "gptq_test_server: unknown argument: " << arg << "\n" << kUsage;
      return 2;
    }
  }
  if (certs.empty()) {
    std::cerr << kUsage;
    return 2;
  }

  // Signals are taken by one thread with sigwait; every thread started below
  // inherits this mask. Writes to closed sockets must fail, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  net::io_context io;
  std::vector<std::unique_ptr<ssl::context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::string ports;
  try {
    for (const Kind& kind : kKinds) {
      contexts.push_back(kind.cert ? make_tls(certs, kind.cert) : nullptr);
      auto acc = std::make_unique<tcp::acceptor>(
          io, tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), 0));
      ports += (ports.empty() ? "" : " ") + std::string(kind.name) + "=" +
               std::to_string(acc->local_endpoint().port());
      acceptors.push_back(std::move(acc));
    }
  } catch (const std::exception& e) {
    std::cerr << "gptq_test_server: setup: " << e.what() << "\n";
    return 1;
  }
  for (std::size_t i = 0; i < kKinds.size(); ++i) {
    std::thread(accept_loop, std::ref(*acceptors[i]), std::cref(kKinds[i]),
                contexts[i].get())
        .detach();
  }

  std::thread([stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    log("signal " + std::to_string(sig) + ": exiting");
    quit(0);
  }).detach();

  std::cout << ports << "\n" << std::flush;
  if (!std::cout) {
    std::cerr << "gptq_test_server: cannot write the ports line\n";
    quit(1);
  }

  // Stdin EOF (or error) means the test that started us is gone.
  char scratch[256];
  for (;;) {
    const ssize_t got = ::read(STDIN_FILENO, scratch, sizeof scratch);
    if (got == 0 || (got < 0 && errno != EINTR)) {
      break;
    }
  }
  log("stdin closed: exiting");
  quit(0);
}
