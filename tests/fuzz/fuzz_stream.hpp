#pragma once

// What the stream decoders' harnesses share (fuzz_chat_stream.cpp,
// fuzz_responses_stream.cpp): the error of a delta (a gptq::Error) is how a
// decoder rejects a bad stream and ends that input; any exception escaping
// it is a bug (libFuzzer reports it as a crash). Every piece of text it
// gives out is valid UTF-8, surrogate halves joined or replaced.

#include "error.hpp"
#include "fuzz_check.hpp"
#include "sse.hpp"
#include "stream_decoder.hpp"
#include "text.hpp"

#include <string>
#include <string_view>

namespace gptq::fuzz {

// What a stream said so far, checked as it comes.
struct Said {
  std::string content;
  std::string reasoning;
  std::string refusal;

  // Throws the delta's error, as the reply handler does. Copying each piece
  // makes ASan check that the view is alive and in bounds.
  void take(const ReplyDelta& delta)
  {
    if (delta.error) {
      throw *delta.error;
    }
    check(!find_invalid_utf8(delta.content), "content is not UTF-8");
    check(!find_invalid_utf8(delta.reasoning), "reasoning is not UTF-8");
    check(!find_invalid_utf8(delta.refusal), "the refusal is not UTF-8");
    content.append(delta.content);
    reasoning.append(delta.reasoning);
    refusal.append(delta.refusal);
    if (delta.usage) {
      check(!delta.usage->total_tokens.empty(), "an empty total");
    }
    if (delta.finish_reason) {
      check(!find_invalid_utf8(*delta.finish_reason), "the finish_reason is not UTF-8");
    }
  }
};

// Feeds `stream`, SSE-parsed, to `decoder`, checking each delta as it
// comes. Returns false when the decoder rejected the stream (its message
// checked to be one line, as the app prints it), true when it took it all.
inline bool decode_stream(StreamDecoder& decoder, std::string_view stream)
{
  Said said;
  SseParser parser;
  auto on_event = [&](const SseEvent& event) {
    const bool was_done = decoder.done();
    const ReplyDelta delta = decoder.decode(event);
    check(!was_done || decoder.done(), "done() went back to false");
    check(!was_done || (delta.json.empty() && delta.content.empty() && !delta.error), "a delta after the end");
    check(delta.done == (!was_done && decoder.done()), "done in a delta but not at the end");
    said.take(delta);
  };
  try {
    parser.feed(stream, on_event);
    parser.finish(on_event);
    said.take(decoder.finish());
  } catch (const Error& e) {
    check(is_one_line(e.what()), "an error message is not one line");
    return false;
  }
  return true;
}

} // namespace gptq::fuzz
