// Fuzzes gptq::SseParser with the bytes fed in pieces, as the network hands
// them over, and checks that the pieces' boundaries change nothing.
//
// Input: byte 0 gives the number n (0-7) of plan bytes that follow; the rest
// is the stream. The stream is fed in pieces whose sizes cycle through the
// plan bytes (a 0 feeds an empty piece, then one byte); with no plan bytes it
// is fed one byte at a time.
#include "sse.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

using gptq::fuzz::check;

namespace {

struct Seen {
  std::string type;
  std::string data;
  std::string id;
  bool operator==(const Seen&) const = default;
};

void check_event(const gptq::SseEvent& e)
{
  // Line ends end fields: none can be inside one, except the '\n' that joins
  // the data lines of one event.
  check(e.type.find_first_of("\r\n") == std::string::npos, "event type holds a line end");
  check(e.id.find_first_of("\r\n") == std::string::npos, "event id holds a line end");
  check(e.id.find('\0') == std::string::npos, "event id holds NUL");
  check(e.data.find('\r') == std::string::npos, "event data holds CR");
}

std::vector<Seen> parse(std::string_view stream, std::string_view plan)
{
  std::vector<Seen> seen;
  auto collect = [&](const gptq::SseEvent& e) {
    check_event(e);
    seen.push_back({ e.type, e.data, e.id });
  };
  gptq::SseParser parser;
  std::size_t k = 0;
  while (!stream.empty()) {
    std::size_t size = plan.empty() ? 1 : static_cast<unsigned char>(plan[k++ % plan.size()]);
    if (size == 0) {
      parser.feed({}, collect);
      size = 1;
    }
    const std::string_view piece = stream.substr(0, size);
    parser.feed(piece, collect);
    stream.remove_prefix(piece.size());
  }
  parser.finish(collect);
  return seen;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size == 0) {
    return 0;
  }
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t plan_size = std::min<std::size_t>(static_cast<unsigned char>(input[0]) % 8, input.size() - 1);
  const std::string_view plan = input.substr(1, plan_size);
  const std::string_view stream = input.substr(1 + plan_size);

  std::vector<Seen> whole;
  gptq::SseParser parser;
  auto collect = [&](const gptq::SseEvent& e) {
    check_event(e);
    whole.push_back({ e.type, e.data, e.id });
  };
  parser.feed(stream, collect);
  parser.finish(collect);

  check(parse(stream, plan) == whole, "the events depend on where the stream was split");
  return 0;
}
