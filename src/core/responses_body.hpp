#pragma once

#include "chat_request.hpp"

#include <string>

namespace gptq {

// Returns the Responses API body (POST .../responses) of `request`: model,
// the system message as `instructions`, the other messages as `input` (the
// user's text as a plain string when it is the only message, else message
// items whose parts are input_text, input_image and input_file; an
// assistant's text is output_text), the sampling fields that are set, the
// token limit as `max_output_tokens`, the response format as `text.format`,
// `reasoning.summary` "auto" when the request asks for reasoning, `stream`,
// and `store: false` (the API stores replies unless told not to; Chat
// Completions does not, and gptq does not change that silently), then the
// extra fields, each over a field of the same name where that one stood.
// The text of messages is escaped straight into the body. Throws
// gptq::Error (usage) for what the Responses API has no field for: --seed,
// --stop, an audio part.
std::string responses_body(const ChatRequest& request);

} // namespace gptq
