// Fuzzes gptq::ResponsesStreamDecoder: the input is a whole streamed
// Responses API body (fuzz_stream.hpp says what is checked).
#include "responses_stream.hpp"

#include "fuzz_stream.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  gptq::ResponsesStreamDecoder decoder;
  if (gptq::fuzz::decode_stream(decoder, std::string_view(reinterpret_cast<const char*>(data), size))) {
    // `data: [DONE]` ends a stream that may not be complete; the other way
    // round, the reply's end is the stream's.
    gptq::fuzz::check(!decoder.complete() || decoder.done(), "complete() but not done()");
  }
  return 0;
}
