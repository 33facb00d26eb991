#pragma once

#include "chat_request.hpp"
#include "url.hpp"

#include <string>

namespace gptq {

// Returns the Chat Completions body (POST .../chat/completions) of
// `request`: model, messages, the sampling fields that are set,
// response_format, stream and stream_options, then the extra fields, each
// over a field of the same name where that one stood. `endpoint` decides the
// name of the token limit field: OpenAI's reasoning models reject
// `max_tokens`, while most other servers know only that name. The text of
// messages is escaped straight into the body, never copied into a JSON tree.
std::string chat_completions_body(const ChatRequest& request, const Url& endpoint);

// Returns `message` as the body's "messages" hold it, one line of JSON
// without its newline, {"role":...,"content":...}, payloads whole: how a -C
// thread keeps a turn, so that it is sent again as it was.
std::string chat_message_json(const Message& message);

} // namespace gptq
