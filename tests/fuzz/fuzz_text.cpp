// Fuzzes text.hpp: find_invalid_utf8 against a reference decoder written
// differently (decode, then reject by value), one_line's, escape_controls'
// and quoted's promises, redact against a plain left-to-right reference,
// Secrets::excerpt (never the secret, whatever the cut), and trim.
//
// Input: byte 0 is one_line's `max_bytes`; byte 1 modulo 32 is the length of
// the secret for redact, which follows; the rest is the text.
#include "text.hpp"

#include "fuzz_check.hpp"
#include "secrets.hpp"

#include <algorithm>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

using gptq::fuzz::check;

namespace {

// Returns the offset of the first sequence that does not decode to a Unicode
// scalar value in its shortest form, or nullopt.
std::optional<std::size_t> reference_find_invalid_utf8(std::string_view s)
{
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len;
    char32_t cp;
    if (b0 < 0x80) {
      len = 1;
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      cp = b0 & 0x07;
    } else {
      return i; // a continuation byte or 0xF8..0xFF
    }
    if (s.size() - i < len) {
      return i;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) {
        return i;
      }
      cp = (cp << 6) | (b & 0x3F);
    }
    constexpr char32_t shortest[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < shortest[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return i;
    }
    i += len;
  }
  return std::nullopt;
}

std::string reference_redact(std::string_view text, std::string_view secret)
{
  if (secret.empty()) {
    return std::string(text);
  }
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i).starts_with(secret)) {
      out += "[REDACTED]";
      i += secret.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

void check_one_line(std::string_view text, std::size_t max_bytes)
{
  const std::string line = gptq::one_line(text, max_bytes);
  check(gptq::fuzz::is_one_line(line), "one_line left a control character or malformed UTF-8");
  check(line.size() <= max_bytes + 3, "one_line is longer than max_bytes + 3");
  check(line.find("  ") == std::string::npos, "one_line left two spaces in a row");
  check(line.empty() || (line.front() != ' ' && line.back() != ' '), "one_line left a space at an end");
  // What one_line returns is already one line: only a cut adds to it.
  check(gptq::one_line(line, line.size()) == line, "one_line of its own result changed it");
  if (line.size() > max_bytes) {
    check(line.ends_with("..."), "one_line went over max_bytes without a cut");
  }
}

// escape_controls keeps what is printable and shows the rest, so that its
// result is one line and the text comes back from it.
void check_escape_controls(std::string_view text, std::size_t max_bytes)
{
  const std::string shown = gptq::escape_controls(text);
  check(gptq::fuzz::is_one_line(shown), "escape_controls left a control character or malformed UTF-8");
  check(shown.size() >= text.size(), "escape_controls dropped bytes");
  check(gptq::escape_controls(shown) == shown, "escape_controls of its own result changed it");
  if (!gptq::find_invalid_utf8(text) && gptq::fuzz::is_one_line(text)) {
    check(shown == text, "escape_controls changed printable text");
  }
  const std::string q = gptq::quoted(text, max_bytes);
  check(gptq::fuzz::is_one_line(q), "quoted left a control character or malformed UTF-8");
  check(q.size() >= 2 && q.front() == '\'' && q.back() == '\'', "quoted is not between quotes");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 2) {
    return 0;
  }
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t max_bytes = static_cast<unsigned char>(input[0]);
  const std::size_t secret_size = std::min<std::size_t>(static_cast<unsigned char>(input[1]) % 32, size - 2);
  const std::string_view secret = input.substr(2, secret_size);
  const std::string_view text = input.substr(2 + secret_size);
  const std::string_view all = input.substr(2);

  check(gptq::find_invalid_utf8(all) == reference_find_invalid_utf8(all),
        "find_invalid_utf8 disagrees with the reference decoder");

  check_one_line(all, max_bytes);
  check_one_line(all, 300);
  check_escape_controls(all, max_bytes);

  check(gptq::redact(std::string(text), secret) == reference_redact(text, secret),
        "redact disagrees with the reference");

  // A key-like secret (letters, digits, '-' and '_': nothing one_line
  // changes, nothing in "[REDACTED]" or "...") is never in an excerpt.
  const bool key_like = std::all_of(secret.begin(), secret.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  if (key_like && secret.size() >= gptq::Secrets::min_length) {
    gptq::Secrets secrets;
    secrets.add(secret);
    check(secrets.excerpt(text, max_bytes).find(secret) == std::string::npos, "an excerpt shows the secret");
  }

  const std::string_view trimmed = gptq::trim(all);
  check(trimmed.empty() || trimmed.data() >= all.data(), "trim returned a view outside its input");
  constexpr std::string_view space = " \t\r\n\f\v";
  check(trimmed.empty() || (space.find(trimmed.front()) == std::string_view::npos &&
                            space.find(trimmed.back()) == std::string_view::npos),
        "trim left white space at an end");
  return 0;
}
