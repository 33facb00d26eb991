#pragma once

#include "json_surrogates.hpp"
#include "secrets.hpp"
#include "stream_decoder.hpp"

#include <boost/json/fwd.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// Decodes the events of a streamed Responses API reply (`"stream": true` to
// POST .../responses): each event's data is a JSON object whose `type` says
// what it is. Only response.output_text.delta is reply text; the deltas of
// response.reasoning_summary_text and response.reasoning_text are
// reasoning, of response.refusal a refusal; response.completed and
// response.incomplete end the reply with its usage (an incomplete one with
// the reason in its incomplete_details as the finish_reason, e.g.
// "max_output_tokens"); every other event says nothing.
class ResponsesStreamDecoder final : public StreamDecoder {
public:
  // Excerpts of server text in its errors are made without `secrets`.
  explicit ResponsesStreamDecoder(Secrets secrets = {});
  ~ResponsesStreamDecoder() override;
  ResponsesStreamDecoder(const ResponsesStreamDecoder&) = delete;
  ResponsesStreamDecoder& operator=(const ResponsesStreamDecoder&) = delete;

  // Returns what one event said (`json` views `event`'s data). A failure is
  // the delta's `error` (bad_response, exit 8, as the same failure in a Chat
  // Completions stream): phase "stream" when the data is not a JSON object,
  // phase "api" with the server's message for response.failed and an
  // `error` event. A surrogate pair whose halves end one delta and begin the
  // next of the same kind is joined; any other lone surrogate becomes
  // U+FFFD. Events after the reply's end (or `data: [DONE]`) say nothing.
  ReplyDelta decode(const SseEvent& event) override;

  // Returns, as U+FFFD, each high surrogate still waiting for its other
  // half. Also done at the reply's end.
  ReplyDelta finish() override;

  // True once response.completed, response.incomplete or `data: [DONE]`
  // was seen.
  bool done() const override { return done_; }

  // "stop" once response.completed came; the incomplete_details reason
  // once response.incomplete came.
  const std::optional<std::string>& finish_reason() const override { return finish_reason_; }

  const std::optional<Usage>& usage() const override { return usage_; }

  // True once response.completed or response.incomplete came.
  bool complete() const override { return finish_reason_.has_value(); }

  std::string_view missing_end() const override { return "no response.completed"; }

private:
  struct Json; // one parser and its memory, reused for every event

  ReplyDelta decode_object(std::string_view data, std::string_view event_type);
  void end_reply(const boost::json::value& event, ReplyDelta& delta);
  std::string_view joined(std::size_t field, std::string_view text);
  ReplyDelta failure(std::string_view phase, std::string message) const;

  Secrets secrets_;
  bool done_ = false;
  std::optional<std::string> finish_reason_;
  std::optional<Usage> usage_;
  // Per kind of delta (content, reasoning, refusal): a high surrogate that
  // ended the last delta, waiting for its low half, and the text of a delta
  // that joined one.
  std::array<std::optional<std::uint16_t>, 3> pending_high_;
  std::array<std::string, 3> joined_;
  std::unique_ptr<Json> json_;
};

} // namespace gptq
