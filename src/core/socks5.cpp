#include "socks5.hpp"

#include "error.hpp"

#include <iterator>

namespace gptq::socks5 {

namespace {

unsigned char byte_at(std::string_view bytes, std::size_t i)
{
  return static_cast<unsigned char>(bytes[i]);
}

} // namespace

std::string greeting(bool with_password)
{
  return with_password ? std::string("\x05\x02\x00\x02", 4) : std::string("\x05\x01\x00", 3);
}

bool password_chosen(std::string_view choice, bool with_password, const Proxy& proxy)
{
  const bool valid = choice.size() >= choice_size && byte_at(choice, 0) == 5 &&
                     (byte_at(choice, 1) == 0 || (with_password && byte_at(choice, 1) == 2));
  if (!valid) {
    throw Error(FailureKind::proxy,
                ExitStatus::network,
                "proxy",
                proxy.display() + (with_password ? " accepts none of the offered ways to log in"
                                                 : " wants a login (user:password@ in the proxy URL)"));
  }
  return byte_at(choice, 1) == 2;
}

std::string login_request(const Proxy& proxy)
{
  if (proxy.username.size() > 255 || proxy.password.size() > 255) {
    throw Error(ExitStatus::usage, proxy.source, "SOCKS5 user names and passwords are at most 255 bytes");
  }
  std::string login = "\x01";
  login += static_cast<char>(proxy.username.size());
  login += proxy.username;
  login += static_cast<char>(proxy.password.size());
  login += proxy.password;
  return login;
}

void check_login_verdict(std::string_view verdict, const Proxy& proxy)
{
  if (verdict.size() < verdict_size || byte_at(verdict, 1) != 0) {
    throw Error(
      FailureKind::proxy, ExitStatus::network, "proxy", proxy.display() + " rejected the username and password");
  }
}

std::string connect_request_for_name(const std::string& host, std::uint16_t port)
{
  if (host.size() > 255) {
    throw Error(ExitStatus::usage, "--base-url", "the host name is too long for SOCKS5");
  }
  std::string connect("\x05\x01\x00", 3);
  connect += '\x03';
  connect += static_cast<char>(host.size());
  connect += host;
  connect += static_cast<char>(port >> 8);
  connect += static_cast<char>(port & 0xFF);
  return connect;
}

std::string connect_request_for_address(std::string_view address, std::uint16_t port)
{
  std::string connect("\x05\x01\x00", 3);
  connect += address.size() == 4 ? '\x01' : '\x04';
  connect += address;
  connect += static_cast<char>(port >> 8);
  connect += static_cast<char>(port & 0xFF);
  return connect;
}

std::string reply_reason(unsigned char code)
{
  static const char* const reasons[] = { "succeeded",           "general failure",       "not allowed by its rules",
                                         "network unreachable", "host unreachable",      "connection refused",
                                         "TTL expired",         "command not supported", "address type not supported" };
  return code < std::size(reasons) ? reasons[code] : "unknown error";
}

std::optional<std::size_t> connect_reply_size(std::string_view reply, const Proxy& proxy, const std::string& where)
{
  if (reply.size() < reply_head_size) {
    return std::nullopt;
  }
  if (byte_at(reply, 0) != 5 || byte_at(reply, 1) != 0) {
    const std::string reason = reply_reason(byte_at(reply, 1));
    throw Error(FailureKind::proxy,
                ExitStatus::network,
                "proxy",
                proxy.display() + " could not connect to " + where + ": " + reason);
  }
  // The bound address, by its type: IPv4, a name (a length byte, then the
  // name), IPv6; an unknown type is taken to have none. Then the port.
  switch (byte_at(reply, 3)) {
    case 1:
      return reply_head_size + 4 + 2;
    case 3:
      if (reply.size() < reply_head_size + 1) {
        return std::nullopt;
      }
      return reply_head_size + 1 + byte_at(reply, reply_head_size) + 2;
    case 4:
      return reply_head_size + 16 + 2;
    default:
      return reply_head_size + 2;
  }
}

} // namespace gptq::socks5
