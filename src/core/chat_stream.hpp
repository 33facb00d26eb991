#pragma once

#include "json_surrogates.hpp"
#include "reply_delta.hpp"
#include "response.hpp"
#include "secrets.hpp"
#include "sse.hpp"
#include "stream_decoder.hpp"

#include <boost/json/fwd.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptq {

// Decodes the events of a streamed Chat Completions response
// (`"stream": true`), chunk by chunk, as servers really send them: the usage
// chunk has `"choices": []`, the first chunk may lack `role`, an event may
// carry several tokens, reasoning text comes in `delta.reasoning_content`
// (DeepSeek, vLLM, llama.cpp) or `delta.reasoning` (OpenRouter, Ollama).
class ChatStreamDecoder final : public StreamDecoder {
public:
  // Excerpts of server text in its errors are made without `secrets`.
  explicit ChatStreamDecoder(Secrets secrets = {});
  ~ChatStreamDecoder() override;
  ChatStreamDecoder(const ChatStreamDecoder&) = delete;
  ChatStreamDecoder& operator=(const ChatStreamDecoder&) = delete;

  // Returns what one event said; its views are valid until the next call
  // (and `json`, which views `event`'s data unless that is blank or
  // `[DONE]`, while `event` lives). A failure is
  // the delta's `error`, never thrown (bad_response): phase "stream" when
  // the data is not a JSON object (saying so when it nests deeper than
  // max_json_depth), phase "api" with the server's message when it is an
  // error event (OpenRouter reports failures inside a 200 stream as data,
  // llama.cpp as an `error:` field). Events after `data: [DONE]` say
  // nothing. A surrogate pair whose halves come as lone escapes at the end
  // of one chunk's text and the start of the next chunk's (a server that cut
  // the text by UTF-16 units) is joined; any other lone surrogate becomes
  // U+FFFD. Reasoning in both `reasoning_content` and `reasoning` comes
  // out as one piece, in that order.
  ReplyDelta decode(const SseEvent& event) override;

  // Ends the stream: returns, as U+FFFD, each high surrogate still waiting
  // for its other half. Also done at `data: [DONE]`.
  ReplyDelta finish() override;

  // True once `data: [DONE]` was seen.
  bool done() const override { return done_; }

  // The finish_reason of the first choice, once a chunk carried one.
  const std::optional<std::string>& finish_reason() const override { return finish_reason_; }

  // The usage, if a chunk carried it.
  const std::optional<Usage>& usage() const override { return usage_; }

  // True when the stream ended properly: `[DONE]`, or a finish_reason
  // (some servers close right after it without `[DONE]`).
  bool complete() const override { return done_ || finish_reason_.has_value(); }

  std::string_view missing_end() const override { return "no [DONE] and no finish_reason"; }

private:
  struct Json; // one parser and its memory, reused for every chunk

  ReplyDelta decode_chunk(std::string_view data, std::string_view type);
  void decode_choice(const boost::json::value& choice, std::size_t position, ReplyDelta& delta);
  std::optional<std::string_view> delta_text(const boost::json::value& delta,
                                             std::size_t field,
                                             std::string_view path,
                                             const std::vector<EdgeSurrogate>& edges);
  void put(ReplyDelta& delta, std::size_t field, std::string_view text);

  Secrets secrets_;
  bool done_ = false;
  std::optional<std::string> finish_reason_;
  std::optional<Usage> usage_;
  // Per text field of a delta (chat_stream.cpp's `delta_fields`): a high
  // surrogate that ended the last chunk's text, waiting for its low half,
  // and the field's text when a pair was joined or a half replaced.
  std::array<std::optional<std::uint16_t>, 4> pending_high_;
  std::array<std::string, 4> joined_;
  std::string reasoning_; // both reasoning fields of one chunk, one after the other
  std::unique_ptr<Json> json_;
};

} // namespace gptq
