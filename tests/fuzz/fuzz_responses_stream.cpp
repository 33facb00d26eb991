// Fuzzes gptq::ResponsesStreamDecoder: the input is a whole streamed
// Responses API body, SSE-parsed, each event handed to the decoder. The error of a delta
// (a gptq::Error) is how the decoder rejects a bad stream and ends that
// input; any exception escaping the decoder is a bug (libFuzzer reports it
// as a crash). Every piece of text it gives out is valid UTF-8, surrogate
// halves joined or replaced.
#include "responses_stream.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"
#include "sse.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using gptq::fuzz::check;

namespace {

// What a stream said so far, checked as it comes.
struct Said {
  std::string content;
  std::string reasoning;
  std::string refusal;

  // Throws the delta's error, as the reply handler does. Copying each piece
  // makes ASan check that the view is alive and in bounds.
  void take(const gptq::ReplyDelta& delta)
  {
    if (delta.error) {
      throw *delta.error;
    }
    check(!gptq::find_invalid_utf8(delta.content), "content is not UTF-8");
    check(!gptq::find_invalid_utf8(delta.reasoning), "reasoning is not UTF-8");
    check(!gptq::find_invalid_utf8(delta.refusal), "the refusal is not UTF-8");
    content.append(delta.content);
    reasoning.append(delta.reasoning);
    refusal.append(delta.refusal);
    if (delta.usage) {
      check(!delta.usage->total_tokens.empty(), "an empty total");
    }
    if (delta.finish_reason) {
      check(!gptq::find_invalid_utf8(*delta.finish_reason), "the finish_reason is not UTF-8");
    }
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  Said said;
  gptq::ResponsesStreamDecoder decoder;
  gptq::SseParser parser;
  auto on_event = [&](const gptq::SseEvent& event) {
    const bool was_done = decoder.done();
    const gptq::ReplyDelta delta = decoder.decode(event);
    check(!was_done || decoder.done(), "done() went back to false");
    check(!was_done || (delta.json.empty() && delta.content.empty() && !delta.error), "a delta after the end");
    check(delta.done == (!was_done && decoder.done()), "done in a delta but not at the end");
    said.take(delta);
  };
  try {
    parser.feed(stream, on_event);
    parser.finish(on_event);
    said.take(decoder.finish());
  } catch (const gptq::Error& e) {
    // The app prints the message as one line: the server's text in it must
    // have been sanitised.
    check(gptq::fuzz::is_one_line(e.what()), "an error message is not one line");
    return 0;
  }
  // `data: [DONE]` ends a stream that may not be complete; the other way
  // round, the reply's end is the stream's.
  check(!decoder.complete() || decoder.done(), "complete() but not done()");
  return 0;
}
