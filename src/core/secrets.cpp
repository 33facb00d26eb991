#include "secrets.hpp"

#include "text.hpp"

#include <algorithm>

namespace gptq {

void Secrets::add(std::string_view secret, std::size_t shortest)
{
  if (secret.size() < std::max<std::size_t>(shortest, 1) ||
      std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) {
    return;
  }
  // Longest first: a secret inside another (a key inside "Bearer KEY") must
  // not break the longer one up before it is found whole.
  const auto at =
    std::find_if(secrets_.begin(), secrets_.end(), [&](const std::string& s) { return s.size() < secret.size(); });
  secrets_.insert(at, std::string(secret));
}

void Secrets::add_credentials(std::string_view value)
{
  value = trim(value);
  add(value);
  // Only an auth scheme's word counts ("Bearer", "Basic", "Token"): the
  // rest of "a=1; b=2" (a cookie) is not a credential of its own.
  const auto space = value.find_first_of(" \t");
  const auto scheme = value.substr(0, space);
  const bool is_scheme = std::all_of(scheme.begin(), scheme.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  if (space != std::string_view::npos && is_scheme) {
    add(trim(value.substr(space)));
  }
}

std::string Secrets::redact(std::string text) const
{
  for (const auto& secret : secrets_) {
    text = gptq::redact(std::move(text), secret);
  }
  return text;
}

std::string Secrets::excerpt(std::string_view text, std::size_t max_bytes) const
{
  // Bodies may be large (up to the 128 MiB of a whole reply): copied only
  // when a secret is in them.
  const bool found =
    std::any_of(secrets_.begin(), secrets_.end(), [&](const std::string& s) { return text.find(s) != text.npos; });
  return found ? one_line(redact(std::string(text)), max_bytes) : one_line(text, max_bytes);
}

} // namespace gptq
