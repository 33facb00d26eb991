#pragma once

#include "chat_request.hpp"
#include "headers.hpp"
#include "options.hpp"
#include "url.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gptq {

// A body too large to hold in memory (a Batch API upload of 200 MB): its
// `size` bytes, read at any offset, so that a retry sends it again from the
// start. `read_at` fills `buffer` with up to `room` bytes from `offset` and
// returns how many; it throws gptq::Error when the bytes cannot be read.
struct BodySource {
  std::uint64_t size = 0;
  std::function<std::size_t(std::uint64_t offset, char* buffer, std::size_t room)> read_at;
};

// One HTTP request as the transport sends it. Plain data: the transport adds
// nothing but framing (Content-Length).
struct HttpRequest {
  Url url; // the full endpoint, including path and query
  std::string method = "POST";
  Headers headers;
  std::string body;
  std::optional<BodySource> body_source; // when set, the body, in place of `body`

  std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

// True when `url` is OpenAI's own API, which gets OpenAI-only fields
// (max_completion_tokens) and requires a key.
bool is_openai(const Url& url);

// Returns the request body for `options` and `user_message` in the wire
// format of `options.api`: chat_request() written by chat_completions_body()
// or responses_body(), with `earlier` (a thread's messages) before the user
// message. Throws like those.
std::string build_request_body(const Options& options,
                               std::string_view user_message,
                               const Url& endpoint,
                               std::span<const Message> earlier = {},
                               std::span<const ContentPart> parts = {});

// Returns the header that carries the key for `endpoint`: `flag`
// (--key-header) when given, "api-key" for Azure OpenAI hosts, else
// "Authorization" (as a Bearer token).
std::string key_header_for(const Url& endpoint, const std::optional<std::string>& flag);

// Returns the HTTP request that POSTs `body` to `endpoint`, with the key in
// `key_header` only when `api_key` is set ("Authorization: Bearer KEY", or
// "NAME: KEY" for another header), accepting an event stream when `stream`,
// and `extra` headers last (they replace defaults of the same name).
HttpRequest build_http_request(const Url& endpoint,
                               std::string body,
                               const std::optional<std::string>& api_key,
                               bool stream,
                               const std::string& key_header = "Authorization",
                               const Headers& extra = {});

// The User-Agent value, "gptq/<version>".
std::string user_agent();

} // namespace gptq
