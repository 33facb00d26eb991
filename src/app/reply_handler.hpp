#pragma once

#include "chat_stream.hpp"
#include "code_filter.hpp"
#include "options.hpp"
#include "output.hpp"
#include "response.hpp"
#include "secrets.hpp"
#include "sse.hpp"
#include "transport.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

namespace gptq {

struct ReplySettings {
  bool show_reasoning = false;   // --reasoning: reasoning text to stderr
  bool show_usage = false;       // --usage: one line of token counts on stderr
  bool code_only = false;        // --code: only fenced code blocks reach stdout
  bool raw = false;              // --raw: the server's JSON reaches stdout, not the text
  bool max_tokens_given = false; // --max-tokens was given: a reply cut at the token limit can say to raise it
  Secrets secrets;               // redacted from server text before it is cut to an excerpt
  std::string request_url;       // the URL requested, for what a redirect says
  Api api = Api::chat;           // --api: which API's stream the reply is
  // -C: the reply's whole text is added here as it comes (whatever --code or
  // --raw print; never the reasoning), to be kept in the thread.
  std::string* transcript = nullptr;
};

// Turns a Chat Completions or Responses API response into output as it arrives: an event
// stream piece by piece, a plain JSON completion (a server that ignored
// "stream": true, or --no-stream) when it is complete, an error response
// into a gptq::Error. Reply text goes to `out`; reasoning, warnings and usage
// to `err`. `before_output` runs before the first thing is written to either
// (it stops the activity indicator). Of a stream, on_body() writes all the
// text a body piece completes, in one write to `out`, before it returns or
// throws.
class ReplyHandler : public ResponseHandler {
public:
  ReplyHandler(ReplyWriter& out, std::ostream& err, std::function<void()> before_output, ReplySettings settings);

  // Throws gptq::Error (bad_response) when a 2xx body is compressed.
  void on_head(const HttpResponse& head) override;
  void on_body(std::string_view piece) override;
  // False once a stream sent its end ([DONE], response.completed): nothing
  // after it is read.
  bool wants_more() const override;

  // Ends the reply once the transport has delivered the whole response:
  // writes the final newline, then warnings and usage. Throws gptq::Error:
  // the API error of a non-2xx response; bad_response when a stream ended
  // before its end ([DONE] or a finish_reason; response.completed or
  // response.incomplete), or the reply has no text; rejected
  // when the model refused. on_body() throws bad_response when a line or
  // event of a stream, a whole reply, or the blank space before the first
  // byte that tells which it is, passes 128 MiB.
  void finish();

  // The error response (head and the start of its body), when the server
  // answered with a non-2xx status; null otherwise.
  const HttpResponse* error_response() const { return mode_ == Mode::error_body ? &response_ : nullptr; }

private:
  enum class Mode { undecided, error_body, json, stream };

  void choose_mode(std::string_view piece);
  void feed_stream(std::string_view bytes);
  void on_event(const SseEvent& event);
  void take(const ReplyDelta& delta);
  void start_output();
  void end_reasoning_line();
  void write_content(std::string_view text);
  void write_reasoning(std::string_view text);
  void end_reply(const std::optional<std::string>& finish_reason, const std::optional<Usage>& usage);
  std::string token_limit_hint() const;

  ReplyWriter& out_;
  std::ostream& err_;
  std::function<void()> before_output_;
  ReplySettings settings_;
  HttpResponse response_; // head, and the body when it is kept whole
  Mode mode_ = Mode::undecided;
  SseParser sse_;
  std::unique_ptr<StreamDecoder> decoder_; // of settings_.api's stream
  CodeFilter code_filter_;
  bool output_started_ = false;
  bool reasoning_line_open_ = false;
  std::string refusal_; // the refusal's pieces so far
};

} // namespace gptq
