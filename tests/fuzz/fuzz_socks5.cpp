// Fuzzes gptq::socks5::connect_reply_size, which reads a SOCKS5 proxy's
// reply to CONNECT. gptq::Error is how it reports a refusal. It must never
// read past the bytes it is given, must ask for more only while the reply
// is too short to tell its size, and the size it tells must cover the bytes
// it looked at.
#include "socks5.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

using gptq::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  static const gptq::Proxy proxy = gptq::parse_proxy("socks5h://user@127.0.0.1:7890", "ALL_PROXY");
  // A copy of exactly `size` bytes, so that AddressSanitizer sees a read past them.
  const auto bytes = std::make_unique<char[]>(size);
  std::copy(data, data + size, bytes.get());
  const std::string_view reply(bytes.get(), size);
  std::optional<std::size_t> whole;
  try {
    whole = gptq::socks5::connect_reply_size(reply, proxy, "api.example.com:443");
  } catch (const gptq::Error& e) {
    check(e.status() == gptq::ExitStatus::network, "a refusal with a status other than network");
    check(e.phase() == "proxy", "a refusal in a phase other than proxy");
    check(size >= gptq::socks5::reply_head_size, "refused before the head was whole");
    check(gptq::fuzz::is_one_line(e.what()), "the refusal is not one line");
    return 0;
  }
  if (!whole) {
    check(size < gptq::socks5::reply_head_size + 1, "asked for more bytes after the name's length");
    return 0;
  }
  check(*whole >= gptq::socks5::reply_head_size + 2, "a reply shorter than its head and port");
  check(*whole <= gptq::socks5::reply_head_size + 1 + 255 + 2, "a reply longer than the longest bound address");
  // The prefix that told the size tells the same size.
  for (std::size_t n = gptq::socks5::reply_head_size; n <= size; ++n) {
    const auto again = gptq::socks5::connect_reply_size(reply.substr(0, n), proxy, "api.example.com:443");
    if (again) {
      check(*again == *whole, "a longer reply told another size");
    }
  }
  return 0;
}
