#pragma once

// The bytes of a SOCKS5 client (RFC 1928, with RFC 1929 username/password
// login): what to send and what the proxy's answers mean. No socket here;
// the network layer moves these bytes (src/net/tunnel.cpp).

#include "proxy.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gptq::socks5 {

// The greeting: version 5 and the ways to log in offered, none, and also
// username/password when `with_password`.
std::string greeting(bool with_password);

// How many bytes each answer to a request starts with: the choice of login
// method and the login verdict are 2 bytes, a CONNECT reply's fixed head 4.
inline constexpr std::size_t choice_size = 2;
inline constexpr std::size_t verdict_size = 2;
inline constexpr std::size_t reply_head_size = 4;

// Returns true when the proxy, in its answer `choice` to greeting(), chose
// username/password, false when it chose no login. Throws gptq::Error
// (network, phase proxy) naming `proxy` when it chose none of those offered.
// `choice` holds choice_size bytes.
bool password_chosen(std::string_view choice, bool with_password, const Proxy& proxy);

// The RFC 1929 login request for `proxy`'s username and password. Throws
// gptq::Error (usage, phase `proxy.source`) when either is over 255 bytes.
std::string login_request(const Proxy& proxy);

// Throws gptq::Error (network, phase proxy) when `verdict`, the proxy's
// answer to login_request(), rejects the login. `verdict` holds
// verdict_size bytes.
void check_login_verdict(std::string_view verdict, const Proxy& proxy);

// The CONNECT request for host name `host` and `port`, for the proxy to
// resolve (socks5h). Throws gptq::Error (usage, phase --base-url) when the
// name is over 255 bytes.
std::string connect_request_for_name(const std::string& host, std::uint16_t port);

// The CONNECT request for an address, `address` holding its 4 (IPv4) or 16
// (IPv6) bytes in network order, and `port`.
std::string connect_request_for_address(std::string_view address, std::uint16_t port);

// What the reply to a CONNECT request means: `reply` holds its first bytes,
// as read so far. Returns nullopt while too few have come to tell its size
// (reply_head_size, and one more when the bound address is a name), else
// the size of the whole reply, the bound address and port included (they
// are of no use here, but must be read). Throws gptq::Error (network, phase
// proxy) naming `proxy` and `where` (the server, "host:port") when the
// reply refuses the connection.
std::optional<std::size_t> connect_reply_size(std::string_view reply, const Proxy& proxy, const std::string& where);

// The reason a CONNECT reply's code gives, in words ("connection refused"),
// "unknown error" for a code RFC 1928 does not define.
std::string reply_reason(unsigned char code);

} // namespace gptq::socks5
