#pragma once

#include "proxy.hpp"
#include "request.hpp"
#include "response.hpp"
#include "secrets.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// Receives a response as it arrives: the head once, then the body in pieces.
class ResponseHandler {
public:
  virtual ~ResponseHandler() = default;
  // `head` has status, reason and headers; its body is empty.
  virtual void on_head(const HttpResponse& head) = 0;
  virtual void on_body(std::string_view piece) = 0;
  // False once the response says all that is wanted of it (a stream that
  // sent [DONE]): the transport then stops reading the body and closes the
  // connection, whether or not the body has ended. Asked after each piece.
  virtual bool wants_more() const { return true; }
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{ 10'000 };    // resolve, connect, TLS handshake
  std::chrono::milliseconds idle_timeout{ 600'000 };      // longest silence while sending or receiving
  std::optional<std::chrono::milliseconds> total_timeout; // the whole exchange
  std::optional<std::string> cacert;                      // extra CA bundle, beside the system store
  std::optional<Proxy> proxy;                             // reach the server through this
  std::function<void(const std::string&)> log;            // --verbose lines (no secrets); unset: silent
  Secrets secrets;                                        // redacted from server text (reason phrases) in messages
};

// Sends one HTTP request and delivers its response. This interface is the
// only way the program reaches the network: the real implementation owns
// sockets and TLS; tests substitute a fake.
class Transport {
public:
  virtual ~Transport() = default;

  // Sends `request` and passes the response to `handler`. Returns when the
  // response is complete, or the handler wants no more of it. Interim
  // (1xx) responses are skipped. Throws gptq::Error: network (phase
  // resolve, connect, proxy, tls, certificate, timeout, network) when no
  // byte of response arrived or a time limit passed; bad_response (phase
  // response) when the bytes that came are not a valid HTTP/1.x head, or
  // the connection broke inside the body; usage when the --cacert file
  // cannot be loaded.
  // Exceptions thrown by `handler` propagate unchanged.
  virtual void send(const HttpRequest& request, ResponseHandler& handler) = 0;
};

} // namespace gptq
