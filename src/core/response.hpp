#pragma once

#include "error.hpp"
#include "exit_status.hpp"
#include "headers.hpp"
#include "secrets.hpp"

#include <boost/json/fwd.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gptq {

// One HTTP response as the transport received it.
struct HttpResponse {
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

// Token counts a server reports, as the numbers it wrote ("12"), so that a
// count too large for any integer type is shown as given, not as 0 (beyond
// 2^64 - 1 as the double it was read as: "1e+20").
struct Usage {
  std::string prompt_tokens = "0";
  std::string completion_tokens = "0";
  std::string total_tokens = "0";              // the sum when the server gave none ("?" when it cannot be summed)
  std::optional<std::string> reasoning_tokens; // of the completion, when the server said (Responses API)
  std::optional<std::string> cached_tokens;    // of the prompt, when the server said (Responses API)
};

// How deep the JSON a server sends may nest (Boost.JSON's own default, set
// on every parser so that the message that names it stays true).
inline constexpr std::size_t max_json_depth = 32;

// What a whole (non-streamed) completion says.
struct Reply {
  std::string content;                      // the reply text
  std::string refusal;                      // the model's refusal, if it refused
  std::string reasoning;                    // reasoning text some servers return
  std::optional<std::string> finish_reason; // "stop", "length", ...
  std::optional<Usage> usage;
};

// Returns the exit status for an HTTP error status code: 401/403 auth,
// 402/429 rate limit, 5xx server, other 4xx rejected, anything else (1xx,
// 3xx) a bad response.
ExitStatus exit_status_for_http(int status);

// Returns the reply of a successful (2xx) Chat Completions response body:
// choices[0].message.content (a string, or an array of text parts), its
// refusal, finish_reason and the usage. A lone UTF-16 surrogate escape in
// it becomes U+FFFD. Throws gptq::Error (bad_response) when `body` is not
// JSON (saying so when it nests deeper than max_json_depth) or has no
// choices, and with the server's message when a 2xx body is an error object;
// its excerpts of the body are made without `secrets`.
// A Responses API object (no "choices", an "output" array: a Batch API
// output file does not say which API its bodies came from) is decoded as
// decode_responses_object() says.
Reply decode_reply(std::string_view body, const Secrets& secrets = {});

// As decode_reply, of a body already parsed (a Batch API output line's).
Reply decode_reply_object(const boost::json::value& body, const Secrets& secrets = {});

// Returns the reply of a Responses API response object: the text is the
// output_text parts of all `message` items, in order (reasoning items come
// first), the refusal their refusal parts, the reasoning the summary and
// reasoning text of `reasoning` items; finish_reason "stop" when it
// completed, else the reason in incomplete_details ("max_output_tokens",
// "content_filter"), else its status; the usage with its reasoning and
// cached tokens. Throws gptq::Error (bad_response, phase "api") with the
// server's message when its status is "failed" or it holds an error.
Reply decode_responses_object(const boost::json::value& response, const Secrets& secrets = {});

// True when `finish_reason` says the reply was cut at the token limit:
// Chat Completions' "length", the Responses API's "max_output_tokens".
bool cut_at_token_limit(const std::optional<std::string>& finish_reason);

// How a message names `finish_reason`: "finish_reason: length", or for the
// Responses API's token limit "incomplete: max_output_tokens".
std::string finish_label(std::string_view finish_reason);

// The one verdict on whether a reply can be used, of one-shot and batch
// mode alike: nullopt when it can. Otherwise the failure: the model refused
// (`refusal` is not empty; rejected, kind refusal, phase "refusal", an
// excerpt of the refusal), or the reply has no text (bad_response, phase
// "response", naming `finish_reason`; when it is "length" and there is a
// `token_limit_hint`, saying the limit was reached, with the hint).
// The refusal is judged first: nothing of a refused reply is used.
std::optional<Error> unusable_reply(std::string_view refusal,
                                    bool has_text,
                                    const std::optional<std::string>& finish_reason,
                                    const Secrets& secrets,
                                    std::string_view token_limit_hint = {});

// Returns the usage in the "usage" member of a completion or chunk, if any:
// prompt_tokens and completion_tokens, or the Responses API's input_tokens
// and output_tokens with the reasoning and cached tokens of their details.
std::optional<Usage> usage_of(const boost::json::value& completion);

// Returns the server's message from a JSON error body: OpenAI's
// error.message with code and type, or the other shapes compatible servers
// use ({"error":"..."}, with its "message" when it has one, {"message":...},
// {"detail":...}); nullopt when the body has none of them.
std::optional<std::string> describe_json_error(const boost::json::value& body);

// Returns the one-line description of an error response: the status, then
// the server's own message (OpenAI's error.message with code and type, or
// the other shapes compatible servers use: {"error":"..."}, {"message":...},
// {"detail":...}), or a short excerpt of a body that is not JSON (the
// <title> of an HTML page). A Retry-After header is mentioned. A redirect
// (3xx) names its Location instead, and says to use https:// when it points
// to the https:// form of `request_url` (the URL requested, when given). A
// compressed body is not read. Every piece of the server's text in it is
// redacted of `secrets` before it is cut.
std::string describe_error_response(const HttpResponse& response,
                                    const Secrets& secrets = {},
                                    std::string_view request_url = {});

// Returns the message for a response whose body is compressed (a
// Content-Encoding other than identity), which gptq cannot read: it asks
// for none. nullopt when the body is not compressed.
std::optional<std::string> unsupported_encoding(const HttpResponse& head);

} // namespace gptq
