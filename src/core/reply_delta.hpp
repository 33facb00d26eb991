#pragma once

#include "error.hpp"
#include "response.hpp"

#include <optional>
#include <string_view>

namespace gptq {

// What one step of a reply said, for the reply handler to act on: one event
// of a stream, the end of a stream, or a whole reply that was not streamed.
// The views and the pointer point into what produced the delta (a stream
// decoder's buffers, a decoded Reply) and are valid until its next call: a
// streamed piece of text is not copied on its way to stdout.
struct ReplyDelta {
  std::string_view json;                         // the server's JSON it came from, as sent (for --raw); empty when none
  std::string_view reasoning;                    // reasoning text, which never reaches stdout
  std::string_view refusal;                      // a piece of the model's refusal
  std::string_view content;                      // a piece of the reply text
  std::optional<std::string_view> finish_reason; // when this step said why the reply ended
  const Usage* usage = nullptr;                  // when this step carried the token usage
  bool done = false;                             // the stream's end (`data: [DONE]`, response.completed)
  std::optional<Error> error;                    // the server reported a failure, or sent something that is not a reply
};

} // namespace gptq
