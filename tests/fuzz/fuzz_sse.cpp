// Fuzzes gptq::SseParser with the bytes fed in pieces, as the network hands
// them over, and checks that the pieces' boundaries change nothing: not the
// events, and not whether (and after which events) a line or event past the
// parser's limit stops the stream. That is tried with the real limit and with
// a small one that inputs reach.
//
// Input: byte 0 gives the number n (0-7) of plan bytes that follow; the rest
// is the stream. The stream is fed in pieces whose sizes cycle through the
// plan bytes (a 0 feeds an empty piece, then one byte); with no plan bytes it
// is fed one byte at a time.
#include "sse.hpp"

#include "error.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using gptq::fuzz::check;

namespace {

struct Seen {
  std::string type;
  std::string data;
  std::string id;
  std::optional<std::string> error;
  bool operator==(const Seen&) const = default;
};

// The events, then the message of the error that stopped the stream, if any.
struct Outcome {
  std::vector<Seen> seen;
  std::string stopped;
  bool operator==(const Outcome&) const = default;
};

void check_event(const gptq::SseEvent& e, std::size_t max_event)
{
  check(e.data.size() <= max_event, "event data past the limit");
  check(!e.error || e.error->size() <= max_event, "event error past the limit");
  // Line ends end fields: none can be inside one, except the '\n' that joins
  // the data lines of one event.
  check(e.type.find_first_of("\r\n") == std::string::npos, "event type holds a line end");
  check(e.id.find_first_of("\r\n") == std::string::npos, "event id holds a line end");
  check(e.id.find('\0') == std::string::npos, "event id holds NUL");
  check(e.data.find('\r') == std::string::npos, "event data holds CR");
  check(!e.error || e.error->find('\r') == std::string::npos, "event error holds CR");
}

// Parses `stream` fed in pieces whose sizes cycle through `plan`, or whole
// without one.
Outcome parse(std::string_view stream, std::optional<std::string_view> plan, std::size_t max_event)
{
  Outcome outcome;
  auto collect = [&](const gptq::SseEvent& e) {
    check_event(e, max_event);
    outcome.seen.push_back({ e.type, e.data, e.id, e.error });
  };
  gptq::SseParser parser(max_event);
  try {
    if (!plan) {
      parser.feed(stream, collect);
    }
    std::size_t k = 0;
    while (plan && !stream.empty()) {
      std::size_t size = plan->empty() ? 1 : static_cast<unsigned char>((*plan)[k++ % plan->size()]);
      if (size == 0) {
        parser.feed({}, collect);
        size = 1;
      }
      const std::string_view piece = stream.substr(0, size);
      parser.feed(piece, collect);
      stream.remove_prefix(piece.size());
    }
    parser.finish(collect);
  } catch (const gptq::Error& e) {
    check(e.status() == gptq::ExitStatus::bad_response, "the limit is not a bad response");
    outcome.stopped = e.what();
  }
  return outcome;
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

  for (const std::size_t max_event : { gptq::SseParser::default_max_event, std::size_t(64) }) {
    check(parse(stream, plan, max_event) == parse(stream, std::nullopt, max_event),
          "the events depend on where the stream was split");
  }
  return 0;
}
