// Fuzzes gptq::ChatStreamDecoder: the input is a whole streamed response
// body, SSE-parsed, each event handed to the decoder. gptq::Error is how the
// decoder rejects a bad stream and ends that input; any other exception
// escaping is a bug (libFuzzer reports it as a crash). Every piece of text
// it gives out is valid UTF-8, surrogate halves joined or replaced.
#include "chat_stream.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"
#include "sse.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using gptq::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  std::string content;
  std::string reasoning;
  // Copying each piece makes ASan check that the view is alive and in bounds.
  gptq::ChatStreamDecoder decoder(
    [&](std::string_view piece) {
      check(!gptq::find_invalid_utf8(piece), "content is not UTF-8");
      content.append(piece);
    },
    [&](std::string_view piece) {
      check(!gptq::find_invalid_utf8(piece), "reasoning is not UTF-8");
      reasoning.append(piece);
    });
  gptq::SseParser parser;
  auto on_event = [&](const gptq::SseEvent& event) {
    const bool was_done = decoder.done();
    decoder.on_event(event);
    check(!was_done || decoder.done(), "done() went back to false");
  };
  try {
    parser.feed(stream, on_event);
    parser.finish(on_event);
    decoder.finish();
  } catch (const gptq::Error& e) {
    // The app prints the message as one line: the server's text in it must
    // have been sanitised.
    check(gptq::fuzz::is_one_line(e.what()), "an error message is not one line");
    return 0;
  }
  check(!decoder.done() || decoder.complete(), "done() but not complete()");
  check(!gptq::find_invalid_utf8(decoder.refusal()), "the refusal is not UTF-8");
  if (const auto& usage = decoder.usage()) {
    check(!usage->total_tokens.empty(), "an empty total");
  }
  return 0;
}
