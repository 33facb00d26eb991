#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// The secrets of one run that no message may show, even in part: the API
// key, the proxy's password and Basic credentials, credentials given with
// -H. Servers may quote any of them back (in an error body, a reason
// phrase, a stream chunk), so every server-provided string is redacted
// before it is cut to an excerpt: redacting after the cut would miss a
// secret that straddles it and leave its first bytes. Short strings are not
// secrets (OPENAI_API_KEY=1 for a local server): redacting them would blot
// out ordinary text, so they are not added.
class Secrets {
public:
  // Secrets shorter than this many bytes are not redacted.
  static constexpr std::size_t min_length = 8;

  // Adds `secret` to those redacted when it has at least `shortest` bytes
  // (min_length unless the caller knows better); otherwise does nothing.
  void add(std::string_view secret, std::size_t shortest = min_length);

  // Adds the credentials of a header value: the whole `value` and, when it
  // is "SCHEME CREDENTIALS" ("Bearer X", "Basic X": a first word of letters,
  // digits, '-' and '_'), the credentials alone, each as add() does.
  void add_credentials(std::string_view value);

  // Returns `text` with every occurrence of every secret replaced by
  // "[REDACTED]" (redacted_mask), the longest secrets first.
  std::string redact(std::string text) const;

  // Returns one_line(redact(text), max_bytes): the excerpt of a
  // server-provided string for a message.
  std::string excerpt(std::string_view text, std::size_t max_bytes) const;

  bool empty() const { return secrets_.empty(); }

private:
  std::vector<std::string> secrets_; // longest first, no duplicates
};

} // namespace gptq
