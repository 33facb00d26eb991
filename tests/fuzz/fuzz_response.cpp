// Fuzzes the decoding of response bodies: gptq::decode_reply on the body
// (gptq::Error is its way to reject one) and gptq::describe_error_response
// and gptq::unsupported_encoding on the whole response, which must never
// throw and must return one line.
//
// Input, readable on purpose so that seeds are plain files:
//   byte 0          the status code, picked from a table (see `status_of`)
//   up to '\n'      the reason phrase
//   lines up to an empty line   header fields, "Name: value"
//   the rest        the body
#include "response.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using gptq::fuzz::check;

namespace {

int status_of(unsigned char b)
{
  constexpr int table[] = { 200, 400, 401, 403, 404, 429, 500, 502, 503, 504, 402, 413, 422, 301, 101, 0 };
  constexpr std::size_t n = sizeof table / sizeof table[0];
  // Half the values pick a common code, the other half spread from 0 to 765.
  return b < 128 ? table[b % n] : (b - 128) * 6;
}

// Removes and returns the text up to the next '\n' (all of it when none).
std::string_view take_line(std::string_view& rest)
{
  const auto end = rest.find('\n');
  const std::string_view line = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  return line;
}

gptq::HttpResponse response_of(std::string_view input)
{
  gptq::HttpResponse r;
  r.status = status_of(static_cast<unsigned char>(input[0]));
  input.remove_prefix(1);
  r.reason = std::string(take_line(input));
  while (!input.empty()) {
    const std::string_view line = take_line(input);
    if (line.empty()) {
      break;
    }
    const auto colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (value.starts_with(' ')) {
      value.remove_prefix(1);
    }
    r.headers.emplace_back(line.substr(0, colon), value);
  }
  r.body = std::string(input);
  return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size == 0) {
    return 0;
  }
  const gptq::HttpResponse response = response_of({ reinterpret_cast<const char*>(data), size });

  try {
    const gptq::Reply reply = gptq::decode_reply(response.body);
    (void)reply;
  } catch (const gptq::Error& e) {
    check(gptq::fuzz::is_one_line(e.what()), "a decode_reply error message is not one line");
  }

  // Without the URL requested, and with one whose https:// form a
  // redirect's Location may be.
  for (const std::string_view url :
       { std::string_view(), std::string_view("http://api.example/v1/chat/completions") }) {
    std::string description;
    try {
      description = gptq::describe_error_response(response, {}, url);
    } catch (...) {
      check(false, "describe_error_response threw");
    }
    check(gptq::fuzz::is_one_line(description), "describe_error_response is not one line");
    check(description.starts_with("HTTP "), "describe_error_response does not start with the status");
  }
  if (const auto compressed = gptq::unsupported_encoding(response)) {
    check(gptq::fuzz::is_one_line(*compressed), "unsupported_encoding is not one line");
  }

  (void)gptq::exit_status_for_http(response.status);
  return 0;
}
