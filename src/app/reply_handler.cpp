#include "reply_handler.hpp"

#include "error.hpp"
#include "responses_stream.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>

namespace gptq {

namespace {

// A whole reply larger than this is not a chat answer; stop rather than let
// a broken or hostile server fill memory. A stream is not held, but its
// lines and events are, up to the same limit (SseParser).
constexpr std::size_t max_whole_body = 128 * 1024 * 1024;
static_assert(SseParser::default_max_event == max_whole_body);
// Of an error body only a one-line excerpt is shown.
constexpr std::size_t max_error_body = 64 * 1024;

bool contains_ci(std::string_view text, std::string_view word)
{
  std::string lower(text);
  for (auto& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lower.find(word) != std::string::npos;
}

} // namespace

ReplyHandler::ReplyHandler(ReplyWriter& out,
                           std::ostream& err,
                           std::function<void()> before_output,
                           ReplySettings settings)
  : out_(out)
  , err_(err)
  , before_output_(std::move(before_output))
  , settings_(std::move(settings))
  , decoder_(settings_.api == Api::responses
               ? std::unique_ptr<StreamDecoder>(std::make_unique<ResponsesStreamDecoder>(settings_.secrets))
               : std::make_unique<ChatStreamDecoder>(settings_.secrets))
{
}

void ReplyHandler::on_head(const HttpResponse& head)
{
  response_ = head;
  if (head.status < 200 || head.status >= 300) {
    mode_ = Mode::error_body;
    return;
  }
  if (auto compressed = unsupported_encoding(head)) {
    throw Error(FailureKind::bad_response, ExitStatus::bad_response, "response", *compressed);
  }
  // A server that ignored "stream": true answers with a JSON completion,
  // and anything but an event stream is judged as one, so that a text or
  // HTML page is reported with an excerpt.
  if (const auto type = head.header("Content-Type")) {
    mode_ = contains_ci(*type, "text/event-stream") ? Mode::stream : Mode::json;
  }
}

// Without a telling Content-Type, the first byte that is not blank does: a
// JSON completion starts with '{', an event stream with a field name or ':'.
// The pieces before `piece` were all blank, so only `piece` is looked at:
// looking at all that was held on every piece took quadratic time (16 MiB
// of spaces in small pieces: 17 s).
void ReplyHandler::choose_mode(std::string_view piece)
{
  const auto start = piece.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos) {
    mode_ = piece[start] == '{' ? Mode::json : Mode::stream;
  }
}

void ReplyHandler::on_body(std::string_view piece)
{
  if (mode_ == Mode::undecided) {
    if (response_.body.size() + piece.size() > max_whole_body) {
      throw Error(FailureKind::bad_response,
                  ExitStatus::bad_response,
                  "response",
                  "the reply starts with more than 128 MiB of blank space; gptq stopped reading");
    }
    response_.body.append(piece);
    choose_mode(piece);
    if (mode_ == Mode::stream) {
      const std::string held = std::move(response_.body);
      response_.body.clear();
      feed_stream(held);
    }
    return;
  }
  switch (mode_) {
    case Mode::stream:
      feed_stream(piece);
      break;
    case Mode::json:
      if (response_.body.size() + piece.size() > max_whole_body) {
        throw Error(FailureKind::bad_response,
                    ExitStatus::bad_response,
                    "response",
                    "the reply is larger than 128 MiB; gptq stopped reading");
      }
      response_.body.append(piece);
      break;
    case Mode::error_body:
      response_.body.append(piece.substr(0, max_error_body - std::min(max_error_body, response_.body.size())));
      break;
    case Mode::undecided:
      break;
  }
}

bool ReplyHandler::wants_more() const
{
  return !(mode_ == Mode::stream && decoder_->done());
}

// Everything one body piece holds for stdout goes out in one write, before
// the transport reads again; also when an event in it fails, so that the
// text before the failure is kept.
void ReplyHandler::feed_stream(std::string_view bytes)
{
  out_.hold();
  try {
    sse_.feed(bytes, [this](const SseEvent& e) { on_event(e); });
  } catch (...) {
    out_.release();
    throw;
  }
  out_.release();
}

void ReplyHandler::on_event(const SseEvent& event)
{
  take(decoder_->decode(event));
}

// What the server said, streamed or whole, becomes output here; this is
// the one place that knows --raw.
void ReplyHandler::take(const ReplyDelta& delta)
{
  if (settings_.raw && !delta.json.empty()) {
    start_output();
    if (mode_ == Mode::stream) {
      // Each event's JSON on its own line, as it comes.
      std::string line(delta.json);
      std::replace(line.begin(), line.end(), '\n', ' ');
      out_.write(line + "\n");
    } else {
      out_.write(delta.json);
    }
  }
  if (delta.error) {
    throw *delta.error;
  }
  if (!delta.reasoning.empty()) {
    write_reasoning(delta.reasoning);
  }
  refusal_ += delta.refusal;
  if (!delta.content.empty()) {
    if (settings_.transcript) {
      settings_.transcript->append(delta.content);
    }
    start_output();
    end_reasoning_line();
    if (!settings_.raw) { // else the JSON went out instead
      write_content(delta.content);
    }
  }
}

void ReplyHandler::start_output()
{
  if (!output_started_) {
    before_output_();
    output_started_ = true;
  }
}

void ReplyHandler::end_reasoning_line()
{
  if (reasoning_line_open_) {
    err_ << '\n' << std::flush;
    reasoning_line_open_ = false;
  }
}

void ReplyHandler::write_content(std::string_view text)
{
  if (settings_.code_only) {
    code_filter_.feed(text, [this](std::string_view code) { out_.write(code); });
  } else {
    out_.write(text);
  }
}

void ReplyHandler::write_reasoning(std::string_view text)
{
  if (!settings_.show_reasoning) {
    return;
  }
  start_output();
  out_.flush(); // the reply text before it reaches a terminal first
  err_ << text << std::flush;
  reasoning_line_open_ = text.back() != '\n';
}

// Only a limit the user set can be raised with --max-tokens; without one,
// the limit is the model's context (prompt and reply together) or a default
// of the server's.
std::string ReplyHandler::token_limit_hint() const
{
  return settings_.max_tokens_given
           ? "raise --max-tokens"
           : "the model's context is full (prompt and reply), or the server has a default limit";
}

void ReplyHandler::finish()
{
  switch (mode_) {
    case Mode::error_body:
      throw Error(FailureKind::http_status,
                  exit_status_for_http(response_.status),
                  "api",
                  describe_error_response(response_, settings_.secrets, settings_.request_url));
    case Mode::undecided: // an empty or all-blank body
    case Mode::json: {
      const Reply reply = decode_reply(response_.body, settings_.secrets);
      // Its reasoning first, then the rest: with --raw --reasoning, stderr's
      // reasoning comes before stdout's JSON (of a stream, each event's JSON
      // comes before its reasoning).
      ReplyDelta reasoning;
      reasoning.reasoning = reply.reasoning;
      take(reasoning);
      ReplyDelta rest;
      rest.json = response_.body;
      rest.refusal = reply.refusal;
      rest.content = reply.content;
      take(rest);
      end_reply(reply.finish_reason, reply.usage);
      return;
    }
    case Mode::stream:
      sse_.finish([this](const SseEvent& e) { on_event(e); });
      take(decoder_->finish());
      if (!decoder_->complete()) {
        throw Error(FailureKind::bad_response,
                    ExitStatus::bad_response,
                    "stream",
                    "the server ended the stream before the reply was complete (" +
                      std::string(decoder_->missing_end()) + ")");
      }
      end_reply(decoder_->finish_reason(), decoder_->usage());
      return;
  }
}

void ReplyHandler::end_reply(const std::optional<std::string>& finish_reason, const std::optional<Usage>& usage)
{
  end_reasoning_line();
  if (auto refused = unusable_reply(refusal_, true, finish_reason, settings_.secrets)) {
    throw *refused; // before --code writes anything of it
  }
  if (settings_.code_only) {
    code_filter_.finish([this](std::string_view code) { out_.write(code); });
    if (!code_filter_.found_code()) {
      throw Error(
        FailureKind::bad_response, ExitStatus::bad_response, "response", "the reply has no code block (--code)");
    }
  }
  if (auto problem = unusable_reply({}, out_.started(), finish_reason, settings_.secrets, token_limit_hint())) {
    throw *problem;
  }
  out_.finish();
  start_output();
  if (cut_at_token_limit(finish_reason)) {
    err_ << "gptq: warning: the reply was cut at the token limit (" + finish_label(*finish_reason) + "); " +
              token_limit_hint() + "\n";
  } else if (finish_reason == "content_filter") {
    err_ << "gptq: warning: the server's content filter stopped the reply (finish_reason: content_filter)\n";
  }
  if (settings_.show_usage) {
    if (usage) {
      err_ << "gptq: usage: " << usage->prompt_tokens << " prompt + " << usage->completion_tokens
           << " completion = " << usage->total_tokens << " tokens";
      if (usage->reasoning_tokens || usage->cached_tokens) {
        err_ << " (" << usage->reasoning_tokens.value_or("0") << " reasoning, " << usage->cached_tokens.value_or("0")
             << " cached)";
      }
      err_ << '\n';
    } else {
      err_ << "gptq: usage: the server reported no token usage\n";
    }
  }
  err_ << std::flush;
}

} // namespace gptq
