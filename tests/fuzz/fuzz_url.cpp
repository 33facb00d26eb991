// Fuzzes gptq::parse_url, the --base-url parser. gptq::Error is how it
// rejects a URL. An accepted URL must give a Host value and a request target
// that are safe to write into an HTTP request, and must parse back to itself.
#include "url.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using gptq::fuzz::check;

namespace {

// True when `text` can go into a request line or a header as it is.
bool is_http_token_text(std::string_view text)
{
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      return false;
    }
  }
  return !text.empty();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  gptq::Url url;
  try {
    url = gptq::parse_url(text);
  } catch (const gptq::Error& e) {
    check(e.status() == gptq::ExitStatus::usage, "parse_url failed with a status other than usage");
    return 0;
  }
  check(url.scheme == "http" || url.scheme == "https", "parse_url accepted another scheme");
  check(url.port != 0, "parse_url accepted port 0");
  check(!url.host.empty(), "parse_url accepted an empty host");
  const std::string authority = url.authority();
  const std::string target = url.target();
  check(is_http_token_text(authority), "authority() has a space, a control or a non-ASCII byte");
  check(is_http_token_text(target), "target() has a space, a control or a non-ASCII byte");
  check(target.front() == '/', "target() does not start with '/'");
  check(authority.find_first_of("/?#@") == std::string::npos, "authority() has a delimiter");
  (void)url.host_is_ip();

  // What the transport would send must mean the same URL.
  gptq::Url again;
  try {
    again = gptq::parse_url(url.scheme + "://" + authority + target);
  } catch (const gptq::Error&) {
    check(false, "scheme://authority()target() does not parse");
  }
  check(again.host == url.host && again.port == url.port && again.target() == target,
        "scheme://authority()target() parses to another URL");

  const gptq::Url endpoint = gptq::endpoint_url(url, "/chat/completions");
  check(endpoint.target().find("/chat/completions") != std::string::npos, "endpoint_url lost the suffix");
  check(is_http_token_text(endpoint.target()), "endpoint target() is not request-line text");
  return 0;
}
