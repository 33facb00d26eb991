#pragma once

#include "chat_request.hpp"
#include "headers.hpp"
#include "options.hpp"
#include "url.hpp"

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gptq {

// One HTTP request as the transport sends it. Plain data: the transport adds
// nothing but framing (Content-Length).
struct HttpRequest {
  Url url; // the full endpoint, including path and query
  std::string method = "POST";
  Headers headers;
  std::string body;

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
