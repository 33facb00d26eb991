#include "proxy.hpp"

#include "error.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>

namespace gptq {

namespace {

std::string lower(std::string_view s)
{
  std::string out(s);
  std::transform(
    out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Returns `text` with %XX escapes decoded, or nullopt when an escape is bad.
std::optional<std::string> percent_decode(std::string_view text)
{
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

std::optional<std::string> first_set(const Environment& env,
                                     std::initializer_list<const char*> names,
                                     std::string& which)
{
  for (const char* name : names) {
    if (auto value = env(name)) {
      which = name;
      return value;
    }
  }
  return std::nullopt;
}

} // namespace

std::string Proxy::display() const
{
  std::string out = kind == Kind::http ? "http://" : kind == Kind::socks5 ? "socks5://" : "socks5h://";
  if (!username.empty()) {
    out += one_line(username, 60);
    out += '@';
  }
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  out += ':';
  out += std::to_string(port);
  return out;
}

Proxy parse_proxy(std::string_view text, const std::string& source)
{
  Proxy proxy;
  proxy.source = source;
  std::string_view rest = text;
  const auto scheme_end = text.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string scheme = lower(text.substr(0, scheme_end));
    if (scheme == "http") {
      proxy.kind = Proxy::Kind::http;
    } else if (scheme == "socks5") {
      proxy.kind = Proxy::Kind::socks5;
    } else if (scheme == "socks5h") {
      proxy.kind = Proxy::Kind::socks5h;
    } else {
      throw Error(ExitStatus::usage,
                  source,
                  "proxy scheme " + quoted(std::string(scheme) + "://", 24) +
                    " is not supported; use http://, socks5:// or socks5h://");
    }
    rest = text.substr(scheme_end + 3);
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  // The password may hold anything, even '@': the last '@' ends it.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password =
      colon == std::string_view::npos ? std::optional<std::string>("") : percent_decode(userinfo.substr(colon + 1));
    if (!user || !password) {
      throw Error(ExitStatus::usage, source, "the proxy credentials have a bad %-escape");
    }
    proxy.username = *user;
    proxy.password = *password;
    rest = rest.substr(at + 1);
  }
  // The rest is host[:port], which the base URL parser already knows how to
  // check (brackets, ports).
  try {
    const Url url = parse_url("http://" + std::string(rest));
    proxy.host = url.host;
    const auto host_end = rest.starts_with('[') ? rest.find(']') : 0;
    const bool port_given = host_end != std::string_view::npos && rest.find(':', host_end) != std::string_view::npos;
    proxy.port = port_given ? url.port : 1080;
  } catch (const Error&) {
    throw Error(ExitStatus::usage, source, quoted(rest, 100) + " is not a proxy host[:port]");
  }
  return proxy;
}

std::string proxy_authorization(const Proxy& proxy)
{
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = proxy.username + ":" + proxy.password;
  std::string out = "Basic ";
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, in.size() - i);
    unsigned value = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      value = value << 8 | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out += k <= n ? alphabet[(value >> (18 - 6 * k)) & 0x3F] : '=';
    }
  }
  return out;
}

bool no_proxy_matches(std::string_view list, const std::string& host, std::uint16_t port)
{
  const std::string target = lower(host);
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    std::string entry =
      lower(trim(list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    start = comma == std::string_view::npos ? list.size() + 1 : comma + 1;
    if (entry.empty()) {
      continue;
    }
    if (entry == "*") {
      return true;
    }
    // An optional port: "host:port", "[v6]:port"; a bare IPv6 address has
    // several colons and no port.
    std::optional<std::uint16_t> entry_port;
    if (entry.front() == '[') {
      const auto close = entry.find(']');
      if (close != std::string::npos && close + 1 < entry.size() && entry[close + 1] == ':') {
        entry_port = static_cast<std::uint16_t>(std::atoi(entry.c_str() + close + 2));
      }
      entry = entry.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
      const auto colon = entry.find(':');
      entry_port = static_cast<std::uint16_t>(std::atoi(entry.c_str() + colon + 1));
      entry.resize(colon);
    }
    if (entry_port && *entry_port != port) {
      continue;
    }
    if (!entry.empty() && entry.front() == '.') {
      entry.erase(0, 1);
    }
    if (target == entry) {
      return true;
    }
    if (target.size() > entry.size() && target.ends_with(entry) && target[target.size() - entry.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

ProxyChoice explain_proxy(const Url& target,
                          const std::optional<std::string>& proxy_flag,
                          const std::optional<std::string>& no_proxy_flag,
                          const Environment& env)
{
  ProxyChoice choice;
  std::optional<std::string> text;
  if (proxy_flag) {
    text = proxy_flag;
    choice.source = "--proxy";
  } else if (target.is_https()) {
    text = first_set(env, { "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" }, choice.source);
  } else {
    text = first_set(env, { "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY" }, choice.source);
  }
  if (no_proxy_flag) {
    choice.no_proxy = no_proxy_flag;
    choice.no_proxy_source = "--no-proxy";
  } else {
    choice.no_proxy = first_set(env, { "no_proxy", "NO_PROXY" }, choice.no_proxy_source);
  }
  if (!text || trim(*text).empty()) {
    return choice;
  }
  if (choice.no_proxy && no_proxy_matches(*choice.no_proxy, target.host, target.port)) {
    choice.bypassed = true;
    return choice;
  }
  choice.proxy = parse_proxy(trim(*text), choice.source);
  return choice;
}

std::optional<Proxy> choose_proxy(const Url& target,
                                  const std::optional<std::string>& proxy_flag,
                                  const std::optional<std::string>& no_proxy_flag,
                                  const Environment& env)
{
  return explain_proxy(target, proxy_flag, no_proxy_flag, env).proxy;
}

} // namespace gptq
