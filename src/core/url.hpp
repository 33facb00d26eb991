#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gptq {

// An http:// or https:// URL split into the parts the transport needs.
struct Url {
  std::string scheme; // "http" or "https"
  std::string host;   // a DNS name or an IP literal, without IPv6 brackets
  std::uint16_t port = 0;
  std::string path;  // "" or starting with '/', as written (no decoding)
  std::string query; // after '?', without it; "" when absent

  bool is_https() const { return scheme == "https"; }

  // True when `host` is an IPv4 or IPv6 literal: such hosts get no SNI and
  // are verified against the certificate's IP addresses, not its names.
  bool host_is_ip() const;

  // "host" or "host:port" when the port is not the scheme's default, with
  // IPv6 literals bracketed: the value of the Host header.
  std::string authority() const;

  // The request target: path (or "/") followed by "?query" when present.
  std::string target() const;

  // The whole URL: scheme, authority and target.
  std::string text() const;
};

// Parses the --base-url value. Returns the URL; throws gptq::Error (usage)
// naming what is wrong when `text` is not an absolute http(s) URL with a
// host, has a bad port, or carries user:password@ (keys belong in
// OPENAI_API_KEY, not in a URL that shows in `ps` and logs).
Url parse_url(std::string_view text);

// Returns `base` with `suffix` appended to its path: the API endpoint
// (`suffix` "/chat/completions"). A trailing '/' of the base path is dropped
// first, and the query string is kept (Azure's ?api-version=...).
Url endpoint_url(const Url& base, std::string_view suffix);

} // namespace gptq
