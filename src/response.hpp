#pragma once

#include "exit_status.hpp"
#include "headers.hpp"

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

// Returns the exit status for an HTTP error status code: 401/403 auth,
// 402/429 rate limit, 5xx server, other 4xx rejected, anything else (1xx,
// 3xx) a bad response.
ExitStatus exit_status_for_http(int status);

// Returns the reply text of a successful (2xx) Chat Completions response
// body: choices[0].message.content (a string, or an array of text parts).
// Throws gptq::Error: bad_response when `body` is not JSON, has no choices
// or no content; rejected when the model refused (the refusal text is the
// message); bad_response with the server's message when a 2xx body is an
// error object.
std::string extract_reply(std::string_view body);

// Returns the one-line description of an error response: the status, then
// the server's own message (OpenAI's error.message with code and type, or
// the other shapes compatible servers use: {"error":"..."}, {"message":...},
// {"detail":...}), or a short excerpt of a body that is not JSON (the
// <title> of an HTML page). A Retry-After header is mentioned.
std::string describe_error_response(const HttpResponse& response);

} // namespace gptq
