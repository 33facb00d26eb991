#include "url.hpp"

#include "error.hpp"
#include "text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace gptq {

namespace {

// `text` without the user:password@ of its authority, if any: error
// messages must not show a password.
std::string without_userinfo(std::string_view text)
{
  const auto scheme_end = text.find("://");
  const auto start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto authority_end = text.find_first_of("/?#", start);
  const auto at = text.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < start) {
    return std::string(text);
  }
  return std::string(text.substr(0, start)) + std::string(redacted_mask) + std::string(text.substr(at));
}

[[noreturn]] void bad_url(std::string_view text, std::string_view why)
{
  throw Error(
    ExitStatus::usage, "--base-url", quoted(without_userinfo(text)) + " is not a usable URL: " + std::string(why));
}

bool is_ipv4(const std::string& host)
{
  in_addr addr;
  return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& host)
{
  in6_addr addr;
  return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

bool valid_host_char(char c)
{
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// Returns the host of `authority` (lower case, without IPv6 brackets),
// part of the URL `text`, and sets `port_text` to the port after it, if
// any. Throws gptq::Error (usage) when either is unusable.
std::string parse_host(std::string_view text, std::string_view authority, std::string_view& port_text)
{
  std::string host;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      bad_url(text, "an IPv6 address needs a closing ']'");
    }
    host = std::string(authority.substr(1, close - 1));
    // inet_pton stops at a NUL byte, so check the characters first.
    const bool hex_colon_dot = std::all_of(host.begin(), host.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
    if (!hex_colon_dot || !is_ipv6(host)) {
      bad_url(text, quoted(host) + " is not an IPv6 address");
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        bad_url(text, "unexpected text after ']'");
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        bad_url(text, "the port after ':' is missing");
      }
    }
  } else {
    const auto colon = authority.find(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        bad_url(text, "the port after ':' is missing");
      }
    }
    if (!std::all_of(host.begin(), host.end(), valid_host_char)) {
      bad_url(text, "the host name has characters a host name cannot have");
    }
  }
  if (host.empty()) {
    bad_url(text, "the host is missing");
  }
  if (host.find(':') == std::string::npos) {
    std::transform(
      host.begin(), host.end(), host.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return host;
}

// Returns the port `port_text` gives, part of the URL `text`, or
// `default_port` when it is empty. Throws gptq::Error (usage) when it is not
// a port number.
std::uint16_t parse_port(std::string_view text, std::string_view port_text, std::uint16_t default_port)
{
  if (port_text.empty()) {
    return default_port;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
    bad_url(text, "the port must be a number from 1 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

} // namespace

bool Url::host_is_ip() const
{
  return is_ipv4(host) || is_ipv6(host);
}

std::string Url::authority() const
{
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::uint16_t default_port = is_https() ? 443 : 80;
  if (port != default_port) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string Url::target() const
{
  std::string out = path.empty() ? "/" : path;
  if (!query.empty()) {
    out += "?" + query;
  }
  return out;
}

std::string Url::text() const
{
  return scheme + "://" + authority() + target();
}

Url parse_url(std::string_view text)
{
  Url url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    bad_url(text, "it must start with https:// or http://");
  }
  url.scheme = std::string(text.substr(0, scheme_end));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  if (url.scheme != "https" && url.scheme != "http") {
    bad_url(text, "the scheme must be https:// or http://");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  const auto authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path_and_query =
    authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

  if (authority.find('@') != std::string_view::npos) {
    bad_url(text, "credentials in the URL are not supported; put the key in OPENAI_API_KEY");
  }

  std::string_view port_text;
  url.host = parse_host(text, authority, port_text);
  url.port = parse_port(text, port_text, url.is_https() ? 443 : 80);

  const auto question = path_and_query.find('?');
  url.path = std::string(path_and_query.substr(0, question));
  if (question != std::string_view::npos) {
    url.query = std::string(path_and_query.substr(question + 1));
  }
  for (const char c : url.path + url.query) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      bad_url(text, "spaces, control characters and non-ASCII must be percent-encoded");
    }
  }
  return url;
}

Url endpoint_url(const Url& base, std::string_view suffix)
{
  Url url = base;
  while (!url.path.empty() && url.path.back() == '/') {
    url.path.pop_back();
  }
  url.path += suffix;
  return url;
}

} // namespace gptq
