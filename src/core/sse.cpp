#include "sse.hpp"

#include "error.hpp"

#include <algorithm>
#include <cstring>

namespace gptq {

void SseParser::feed(std::string_view bytes, const Callback& on_event)
{
  const std::size_t size = bytes.size();
  if (size == 0) {
    return;
  }
  // The next "\n" and the next "\r" are each found with memchr, and
  // searched for again only once passed: find_first_of("\r\n") calls memchr
  // once per byte, and searching afresh for both on every line would rescan
  // the rest of the piece per line when a stream uses only one kind.
  const auto find = [&](std::size_t from, char c) {
    const void* found = std::memchr(bytes.data() + from, c, size - from);
    return found ? static_cast<std::size_t>(static_cast<const char*>(found) - bytes.data()) : size;
  };
  std::size_t lf = find(0, '\n');
  std::size_t cr = find(0, '\r');
  std::size_t i = 0;
  while (i < size) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes[i] == '\n') {
        ++i;
        continue;
      }
    }
    if (lf < i) {
      lf = find(i, '\n');
    }
    if (cr < i) {
      cr = find(i, '\r');
    }
    const std::size_t end = std::min(lf, cr);
    // The event's data so far counts with the line: the two together stay
    // within the limit, not each of them.
    if (end == size) {
      check_size(event_.data.size() + line_.size() + (size - i));
      line_.append(bytes.substr(i));
      break;
    }
    // Checked whole, not only when held, so that where the pieces were cut
    // never decides whether a line is too long.
    check_size(event_.data.size() + line_.size() + (end - i));
    skip_lf_ = bytes[end] == '\r';
    if (line_.empty()) {
      process_line(bytes.substr(i, end - i), on_event);
    } else {
      // The line's buffer is kept for the next line split across pieces.
      line_.append(bytes.substr(i, end - i));
      process_line(line_, on_event);
      line_.clear();
    }
    i = end + 1;
  }
}

void SseParser::finish(const Callback& on_event)
{
  if (!line_.empty()) {
    const std::string line = std::move(line_);
    line_.clear();
    process_line(line, on_event);
  }
  dispatch(on_event);
}

void SseParser::process_line(std::string_view line, const Callback& on_event)
{
  if (at_start_) {
    at_start_ = false;
    if (line.starts_with("\xEF\xBB\xBF")) {
      line.remove_prefix(3);
    }
  }
  if (line.empty()) {
    dispatch(on_event);
    return;
  }
  if (line.front() == ':') {
    return; // a comment: keep-alives, ": OPENROUTER PROCESSING"
  }
  const auto colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (value.starts_with(' ')) {
    value.remove_prefix(1);
  }
  if (field == "data") {
    check_size(event_.data.size() + (has_data_ ? 1 : 0) + value.size());
    if (has_data_) {
      event_.data += '\n';
    }
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "error") {
    std::string& error = event_.error ? *event_.error : event_.error.emplace();
    check_size(error.size() + 1 + value.size());
    if (!error.empty()) {
      error += '\n';
    }
    error.append(value);
  } else if (field == "event") {
    event_.type = std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      event_.id = std::string(value);
    }
  }
  // "retry" sets a reconnection delay, which a one-shot client has no use
  // for; other fields are ignored, as the standard says.
}

void SseParser::dispatch(const Callback& on_event)
{
  if (has_data_ || event_.error) {
    on_event(event_);
  }
  // The last event id persists across events; type, data and error do not.
  event_.type = "message";
  event_.data.clear();
  event_.error.reset();
  has_data_ = false;
}

void SseParser::check_size(std::size_t size) const
{
  if (size > max_event_) {
    const std::string limit = max_event_ % (1024 * 1024) == 0 ? std::to_string(max_event_ / (1024 * 1024)) + " MiB"
                                                              : std::to_string(max_event_) + " bytes";
    throw Error(FailureKind::bad_response,
                ExitStatus::bad_response,
                "stream",
                "a line or event of the event stream is longer than " + limit + "; gptq stopped reading");
  }
}

} // namespace gptq
