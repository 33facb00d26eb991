#include "responses_stream.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace gptq;

namespace {

// What a whole stream said: the stream fed to SseParser in the pieces
// `cuts` makes, each event decoded, as the reply handler does.
struct Decoded {
  std::string content;
  std::string reasoning;
  std::string refusal;
  std::optional<std::string> error; // phase: message
  std::optional<ExitStatus> status;
  bool done_seen = false;
  ResponsesStreamDecoder decoder;

  void take(const ReplyDelta& delta)
  {
    if (delta.error && !error) {
      error = delta.error->phase() + ": " + delta.error->what();
      status = delta.error->status();
    }
    if (error) {
      return;
    }
    content += delta.content;
    reasoning += delta.reasoning;
    refusal += delta.refusal;
    done_seen = done_seen || delta.done;
  }
};

void decode_cut(Decoded& d, std::string_view stream, const std::vector<std::size_t>& cuts)
{
  SseParser sse;
  std::size_t from = 0;
  auto feed = [&](std::size_t to) {
    sse.feed(stream.substr(from, to - from), [&](const SseEvent& e) { d.take(d.decoder.decode(e)); });
    from = to;
  };
  for (const auto cut : cuts) {
    feed(cut);
  }
  feed(stream.size());
  sse.finish([&](const SseEvent& e) { d.take(d.decoder.decode(e)); });
  d.take(d.decoder.finish());
}

std::string event(std::string_view type, std::string_view fields)
{
  return "event: " + std::string(type) + "\ndata: {\"type\":\"" + std::string(type) + "\"" +
         (fields.empty() ? "" : ",") + std::string(fields) + "}\n\n";
}

std::string delta(std::string_view type, std::string_view text)
{
  return event(type, R"("item_id":"msg_1","output_index":0,"content_index":0,"delta":")" + std::string(text) + "\"");
}

const std::string usage = R"("usage":{"input_tokens":11,"input_tokens_details":{"cached_tokens":4},"output_tokens":20,)"
                          R"("output_tokens_details":{"reasoning_tokens":9},"total_tokens":31})";

// The documented order of a reply with a reasoning summary first.
const std::string documented_stream =
  event("response.created", R"("response":{"id":"resp_1","status":"in_progress","output":[]})") +
  event("response.in_progress", R"("response":{"id":"resp_1","status":"in_progress"})") +
  event("response.output_item.added", R"("output_index":0,"item":{"type":"reasoning","summary":[]})") +
  delta("response.reasoning_summary_text.delta", "Thinking ") + delta("response.reasoning_text.delta", "hard") +
  event("response.output_item.added", R"("output_index":1,"item":{"type":"message","content":[]})") +
  event("response.content_part.added", R"("output_index":1,"content_index":0)") +
  delta("response.output_text.delta", "Hel") + delta("response.output_text.delta", "lo \u00e9\\u00e9") +
  event("response.output_text.done", R"("text":"Hello éé")") +
  event("response.completed", R"("response":{"id":"resp_1","status":"completed",)" + usage + "}");

} // namespace

BOOST_AUTO_TEST_SUITE(responses_stream)

BOOST_AUTO_TEST_CASE(documented_events_split_at_every_offset_give_the_text_reasoning_and_usage)
{
  gptq::test::for_every_split(
    documented_stream,
    [&](const std::vector<std::size_t>& cuts, const std::string& how) {
      Decoded d;
      decode_cut(d, documented_stream, cuts);
      BOOST_TEST(!d.error.has_value(), how);
      BOOST_TEST(d.content == "Hello \u00e9\u00e9", how);
      BOOST_TEST(d.reasoning == "Thinking hard", how);
      BOOST_TEST(d.done_seen, how);
      BOOST_TEST(d.decoder.complete(), how);
      BOOST_TEST(d.decoder.finish_reason().value_or("") == "stop", how);
      BOOST_TEST_REQUIRE(d.decoder.usage().has_value(), how);
      const Usage& u = *d.decoder.usage();
      BOOST_TEST(u.prompt_tokens == "11");
      BOOST_TEST(u.completion_tokens == "20");
      BOOST_TEST(u.total_tokens == "31");
      BOOST_TEST(u.reasoning_tokens.value_or("") == "9");
      BOOST_TEST(u.cached_tokens.value_or("") == "4");
    },
    0);
}

BOOST_AUTO_TEST_CASE(incomplete_ends_the_reply_with_its_reason_and_keeps_the_text)
{
  const std::string stream =
    delta("response.output_text.delta", "cut") +
    event("response.incomplete",
          R"("response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}})");
  gptq::test::for_every_split(stream, [&](const std::vector<std::size_t>& cuts, const std::string& how) {
    Decoded d;
    decode_cut(d, stream, cuts);
    BOOST_TEST(!d.error.has_value(), how);
    BOOST_TEST(d.content == "cut", how);
    BOOST_TEST(d.decoder.complete(), how);
    BOOST_TEST(d.decoder.finish_reason().value_or("") == "max_output_tokens", how);
  });
}

BOOST_AUTO_TEST_CASE(failed_and_error_events_are_api_errors_with_exit_8)
{
  const std::string failed =
    delta("response.output_text.delta", "par") +
    event("response.failed", R"("response":{"status":"failed","error":{"code":"server_error","message":"it broke"}})");
  const std::string error =
    delta("response.output_text.delta", "par") +
    event("error", R"("code":"rate_limit_exceeded","message":"slow down","param":null,"sequence_number":3)");
  for (const auto& [stream, message] :
       { std::pair{ failed, std::string("api: the response failed: it broke (code: server_error)") },
         std::pair{ error, std::string("api: error in the stream: slow down (code: rate_limit_exceeded)") } }) {
    gptq::test::for_every_split(stream, [&](const std::vector<std::size_t>& cuts, const std::string& how) {
      Decoded d;
      decode_cut(d, stream, cuts);
      BOOST_TEST(d.content == "par", how);
      BOOST_TEST(d.error.value_or("") == message, how);
      BOOST_TEST((d.status == ExitStatus::bad_response), how);
    });
  }
}

BOOST_AUTO_TEST_CASE(a_stream_without_its_terminal_event_is_not_complete)
{
  Decoded d;
  decode_cut(d, delta("response.output_text.delta", "half"), {});
  BOOST_TEST(d.content == "half");
  BOOST_TEST(!d.decoder.complete());
  BOOST_TEST(!d.decoder.done());
  BOOST_TEST(d.decoder.missing_end() == "no response.completed");
}

BOOST_AUTO_TEST_CASE(data_that_is_not_a_json_object_is_a_stream_error)
{
  Decoded d;
  decode_cut(d, "data: {\"type\":\"response.output_text.delta\",\"delta\":\n\n", {});
  BOOST_TEST_REQUIRE(d.error.has_value());
  BOOST_TEST(d.error->starts_with("stream: an event is not a JSON object"));
  BOOST_TEST((d.status == ExitStatus::bad_response));
}

BOOST_AUTO_TEST_CASE(refusal_deltas_are_the_refusal_not_text)
{
  Decoded d;
  decode_cut(d,
             delta("response.refusal.delta", "I can't") + delta("response.refusal.delta", " do that") +
               event("response.completed", R"("response":{"status":"completed"})"),
             {});
  BOOST_TEST(d.content.empty());
  BOOST_TEST(d.refusal == "I can't do that");
}

BOOST_AUTO_TEST_CASE(events_after_the_end_say_nothing)
{
  Decoded d;
  decode_cut(d,
             event("response.completed", R"("response":{"status":"completed"})") +
               delta("response.output_text.delta", "late"),
             {});
  BOOST_TEST(d.content.empty());
  BOOST_TEST(d.decoder.done());
}

BOOST_AUTO_TEST_CASE(a_surrogate_pair_split_across_two_deltas_is_joined)
{
  Decoded d;
  decode_cut(d,
             delta("response.output_text.delta", "a\\ud83d") + delta("response.output_text.delta", "\\ude00b") +
               delta("response.output_text.delta", "c\\ud83d") +
               event("response.completed", R"("response":{"status":"completed"})"),
             {});
  BOOST_TEST(d.content == "a\U0001F600bc\uFFFD");
}

BOOST_AUTO_TEST_CASE(unknown_events_and_keep_alives_say_nothing)
{
  Decoded d;
  decode_cut(d,
             ": keep-alive\n\n" + event("response.web_search_call.searching", R"("item_id":"ws_1")") +
               delta("response.function_call_arguments.delta", "{}") + delta("response.output_text.delta", "x"),
             {});
  BOOST_TEST(!d.error.has_value());
  BOOST_TEST(d.content == "x");
}

BOOST_AUTO_TEST_SUITE_END()
