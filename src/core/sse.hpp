#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// One server-sent event.
struct SseEvent {
  std::string type = "message"; // the `event:` field, "message" when absent
  std::string data;             // the `data:` lines joined by '\n'
  std::string id;               // the last `id:` seen
  // The `error:` lines joined by '\n': not in the standard, but llama.cpp
  // reports a failure inside a 200 stream so (`error: {"code":400,...}`).
  std::optional<std::string> error;
};

// An incremental parser for the text/event-stream format (WHATWG HTML,
// "Server-sent events"), fed with bytes exactly as they come off the
// network: split anywhere, even inside a line ending or a UTF-8 sequence.
// Lines end with "\n", "\r\n" or "\r"; a "\r" at the end of one piece and
// "\n" at the start of the next are one line end. The data of an event and
// the line being read together may be up to `max_event` bytes long: a server
// that never ends a line or an event must not fill the memory.
class SseParser {
public:
  using Callback = std::function<void(const SseEvent&)>;

  // The largest line or event data by default: the limit of a whole reply.
  static constexpr std::size_t default_max_event = 128 * 1024 * 1024;

  explicit SseParser(std::size_t max_event = default_max_event)
    : max_event_(max_event)
  {
  }

  // Parses `bytes` and calls `on_event` for each event that completes in
  // them, in order. Throws gptq::Error (bad_response) when an event's data
  // and the line being read grow past `max_event` bytes, wherever the pieces
  // were split. Exceptions from `on_event` propagate. The parser is not to be
  // used after an exception.
  void feed(std::string_view bytes, const Callback& on_event);

  // Ends the stream: an event that was not followed by a blank line is
  // dispatched too (servers that close right after their last `data:` line
  // mean it as an event, whatever the standard says).
  void finish(const Callback& on_event);

private:
  void process_line(std::string_view line, const Callback& on_event);
  void dispatch(const Callback& on_event);
  void check_size(std::size_t size) const;

  std::string line_;      // the line read so far, without its end
  bool skip_lf_ = false;  // the last byte was "\r": a "\n" next is part of it
  bool at_start_ = true;  // a UTF-8 byte order mark is skipped only on the first line
  bool has_data_ = false; // a `data:` field was seen in the current event
  std::size_t max_event_;
  SseEvent event_;
};

} // namespace gptq
