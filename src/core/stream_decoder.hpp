#pragma once

#include "reply_delta.hpp"
#include "response.hpp"
#include "sse.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// A decoder of one API's event stream into ReplyDelta steps: what the reply
// handler takes, whichever API the reply comes from (chat_stream.hpp,
// responses_stream.hpp).
class StreamDecoder {
public:
  virtual ~StreamDecoder() = default;

  // Returns what one event said; its views are valid until the next call. A
  // failure is the delta's `error`, never thrown.
  virtual ReplyDelta decode(const SseEvent& event) = 0;

  // Ends the stream: returns what was held back waiting for more (half a
  // surrogate pair, as U+FFFD).
  virtual ReplyDelta finish() = 0;

  // True once the stream's end marker was seen: nothing after it is read.
  virtual bool done() const = 0;

  // Why the reply ended, once the stream said.
  virtual const std::optional<std::string>& finish_reason() const = 0;

  // The token usage, if the stream carried it.
  virtual const std::optional<Usage>& usage() const = 0;

  // True when the stream ended as the API ends a whole reply.
  virtual bool complete() const = 0;

  // What a stream that is not complete() lacked, for the error message:
  // "no [DONE] and no finish_reason".
  virtual std::string_view missing_end() const = 0;
};

} // namespace gptq
