#pragma once

#include "response.hpp"
#include "secrets.hpp"
#include "sse.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
  // when the data is not a JSON object, phase "api" with the server's
  // message when it is an error event (OpenRouter reports failures inside a
  // 200 stream). Events after `data: [DONE]` are ignored.
  void on_event(const SseEvent& event);

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

  TextSink on_content_;
  TextSink on_reasoning_;
  Secrets secrets_;
  bool done_ = false;
  std::optional<std::string> finish_reason_;
  std::optional<Usage> usage_;
  std::string refusal_;
  std::unique_ptr<Json> json_;
};

} // namespace gptq
