// Fuzzes gptq::ChatStreamDecoder: the input is a whole streamed Chat
// Completions body (fuzz_stream.hpp says what is checked).
#include "chat_stream.hpp"

#include "fuzz_stream.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  gptq::ChatStreamDecoder decoder;
  if (gptq::fuzz::decode_stream(decoder, std::string_view(reinterpret_cast<const char*>(data), size))) {
    gptq::fuzz::check(!decoder.done() || decoder.complete(), "done() but not complete()");
  }
  return 0;
}
