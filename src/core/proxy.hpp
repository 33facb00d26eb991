#pragma once

#include "environment.hpp"
#include "url.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// A proxy to reach the server through.
struct Proxy {
  enum class Kind { http, socks5, socks5h };
  Kind kind = Kind::http;
  std::string host; // without IPv6 brackets
  std::uint16_t port = 1080;
  std::string username; // percent-decoded; empty when none
  std::string password; // percent-decoded; never to be printed
  std::string source;   // where it came from: "--proxy", "HTTPS_PROXY", ...

  // "scheme://user@host:port", without the password: safe to print.
  std::string display() const;
};

// Parses a proxy URL as curl does: http:// when there is no scheme,
// socks5:// and socks5h:// (names resolved by the proxy), port 1080 when
// none is given, user:password@ percent-decoded. Throws gptq::Error (usage)
// naming `source` (the option or variable) when `text` cannot be one; the
// message never repeats a password.
Proxy parse_proxy(std::string_view text, const std::string& source);

// The Proxy-Authorization value for `proxy`'s credentials: "Basic " and
// base64 of "user:password".
std::string proxy_authorization(const Proxy& proxy);

// True when the NO_PROXY-style comma list `list` exempts `host` (and
// `port`): "*" exempts everything; a name matches itself and its subdomains
// (a leading dot is ignored); an IP address matches itself; an entry with
// ":port" matches only that port. No entry means no exemption: localhost is
// not exempt unless listed, as in curl.
bool no_proxy_matches(std::string_view list, const std::string& host, std::uint16_t port);

// What choose_proxy decides for a target, and why.
struct ProxyChoice {
  std::optional<Proxy> proxy;          // nullopt for a direct connection
  std::string source;                  // of the proxy asked for: "--proxy" or a variable; "" when none
  std::optional<std::string> no_proxy; // the list that applies, if any
  std::string no_proxy_source;         // "--no-proxy" or a variable; "" when none
  bool bypassed = false;               // a proxy was asked for, and no_proxy exempts the target
};

// Returns choose_proxy's decision with its reasons. Throws like parse_proxy.
ProxyChoice explain_proxy(const Url& target,
                          const std::optional<std::string>& proxy_flag,
                          const std::optional<std::string>& no_proxy_flag,
                          const Environment& env);

// Returns the proxy for `target`, or nullopt for a direct connection.
// `proxy_flag` (--proxy; empty means none) beats the environment:
// HTTPS_PROXY/https_proxy for https targets, HTTP_PROXY/http_proxy for http
// ones, then ALL_PROXY/all_proxy (lower case first, as curl). `no_proxy_flag`
// (--no-proxy) beats NO_PROXY/no_proxy. Throws like parse_proxy.
std::optional<Proxy> choose_proxy(const Url& target,
                                  const std::optional<std::string>& proxy_flag,
                                  const std::optional<std::string>& no_proxy_flag,
                                  const Environment& env);

} // namespace gptq
