#pragma once

#include "json_surrogates.hpp"
#include "response.hpp"
#include "secrets.hpp"
#include "sse.hpp"

#include <boost/json/fwd.hpp>

#include <array>
#include <cstdint>
#include <functional>
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
class ChatStreamDecoder {
public:
  using TextSink = std::function<void(std::string_view)>;

  // `on_content` receives each piece of reply text, `on_reasoning` each
  // piece of reasoning text, as soon as its event is decoded. Excerpts of
  // server text in its errors are made without `secrets`.
  ChatStreamDecoder(TextSink on_content, TextSink on_reasoning, Secrets secrets = {});
  ~ChatStreamDecoder();
  ChatStreamDecoder(const ChatStreamDecoder&) = delete;
  ChatStreamDecoder& operator=(const ChatStreamDecoder&) = delete;

  // Decodes one event. Throws gptq::Error (bad_response): phase "stream"
  // when the data is not a JSON object (saying so when it nests deeper than
  // max_json_depth), phase "api" with the server's message when it is an
  // error event (OpenRouter reports failures inside a 200 stream as data,
  // llama.cpp as an `error:` field). Events after `data: [DONE]` are
  // ignored. A surrogate pair whose halves come as lone escapes at the end
  // of one chunk's text and the start of the next chunk's (a server that cut
  // the text by UTF-16 units) is joined; any other lone surrogate becomes
  // U+FFFD.
  void on_event(const SseEvent& event);

  // Ends the stream: a high surrogate still waiting for its other half is
  // given out as U+FFFD. Also done at `data: [DONE]`.
  void finish();

  // True once `data: [DONE]` was seen.
  bool done() const { return done_; }

  // The finish_reason of the first choice, once a chunk carried one.
  const std::optional<std::string>& finish_reason() const { return finish_reason_; }

  // The usage, if a chunk carried it.
  const std::optional<Usage>& usage() const { return usage_; }

  // The refusal text collected from `delta.refusal`; empty when none.
  const std::string& refusal() const { return refusal_; }

  // True when the stream ended properly: `[DONE]`, or a finish_reason
  // (some servers close right after it without `[DONE]`).
  bool complete() const { return done_ || finish_reason_.has_value(); }

private:
  struct Json; // one parser and its memory, reused for every chunk

  std::optional<std::string_view> delta_text(const boost::json::value& delta,
                                             std::size_t field,
                                             std::string_view path,
                                             const std::vector<EdgeSurrogate>& edges);
  void give_out(std::size_t field, std::string_view text);

  TextSink on_content_;
  TextSink on_reasoning_;
  Secrets secrets_;
  bool done_ = false;
  std::optional<std::string> finish_reason_;
  std::optional<Usage> usage_;
  std::string refusal_;
  // Per text field of a delta (chat_stream.cpp's `delta_fields`): a high
  // surrogate that ended the last chunk's text, waiting for its low half.
  std::array<std::optional<std::uint16_t>, 4> pending_high_;
  std::string joined_; // a field's text with a pair joined; valid until the next field's
  std::unique_ptr<Json> json_;
};

} // namespace gptq
