#include "chat_stream.hpp"

#include "error.hpp"
#include "testkit.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace gptq;

namespace {

// Decodes `datas` (one event each) and records what came out; throws the
// error of an event that has one, as the reply handler does.
struct Decoded {
  std::string content;
  std::string reasoning;
  std::string refusal;
  ChatStreamDecoder decoder;

  void take(const ReplyDelta& delta)
  {
    if (delta.error) {
      throw *delta.error;
    }
    content += delta.content;
    reasoning += delta.reasoning;
    refusal += delta.refusal;
  }

  void on_event(const SseEvent& e) { take(decoder.decode(e)); }

  void finish() { take(decoder.finish()); }

  Decoded& feed(std::initializer_list<std::string> datas)
  {
    for (const auto& data : datas) {
      SseEvent e;
      e.data = data;
      on_event(e);
    }
    return *this;
  }
};

int error_status(std::initializer_list<std::string> datas, std::string* message = nullptr)
{
  Decoded d;
  const auto f = gptq::test::error_of([&] { d.feed(datas); });
  if (f.thrown && message) {
    *message = f.line();
  }
  return f.thrown ? f.status : 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(chat_stream)

BOOST_AUTO_TEST_CASE(content_pieces_in_order_then_done)
{
  Decoded d;
  d.feed({ R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
           R"({"choices":[{"index":0,"delta":{"content":"Hel"}}]})",
           R"({"choices":[{"delta":{"content":"lo"}}]})" });
  BOOST_TEST(d.content == "Hello");
  BOOST_TEST(!d.decoder.complete());
  d.feed({ R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})" });
  BOOST_TEST(d.decoder.complete());
  BOOST_TEST(!d.decoder.done());
  BOOST_TEST(d.decoder.finish_reason().value_or("") == "stop");
  d.feed({ "[DONE]", R"({"choices":[{"delta":{"content":"after done"}}]})" });
  BOOST_TEST(d.decoder.done());
  BOOST_TEST(d.content == "Hello");
}

BOOST_AUTO_TEST_CASE(chunks_of_any_size_in_a_row_decode_alike)
{
  // The decoder reuses one parser and its memory: chunks far larger than
  // that memory's first block, between small ones, each decode whole.
  std::string big;
  std::string big_escaped;
  for (int i = 0; i < 20000; ++i) {
    big += "line " + std::to_string(i) + "\t\"q\"\n";
    big_escaped += "line " + std::to_string(i) + "\\t\\\"q\\\"\\n";
  }
  const std::string big_chunk = R"({"choices":[{"delta":{"content":")" + big_escaped + R"("}}]})";
  Decoded d;
  d.feed({ R"({"choices":[{"delta":{"content":"a"}}]})",
           big_chunk,
           R"({"choices":[{"delta":{"content":"b"}}]})",
           big_chunk,
           R"({"choices":[{"delta":{"content":"\u00e9"}}]})" });
  BOOST_TEST(d.content == "a" + big + "b" + big + "\xC3\xA9");
}

BOOST_AUTO_TEST_CASE(many_large_chunks_decode_in_memory_that_is_reused)
{
  // Each chunk of 64 KiB once doubled the size of the next block the
  // decoder's memory asked for: "out of memory" after about 1 MiB.
  const std::string text(64 * 1024, 'x');
  const std::string chunk = R"({"choices":[{"delta":{"content":")" + text + R"("}}]})";
  Decoded d;
  for (int i = 0; i < 256; ++i) { // 16 MiB
    d.content.clear();
    d.feed({ chunk });
    BOOST_REQUIRE_EQUAL(d.content.size(), text.size());
  }
}

BOOST_AUTO_TEST_CASE(usage_chunk_has_no_choices)
{
  Decoded d;
  d.feed({ R"({"id":"x","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})" });
  BOOST_TEST_REQUIRE(d.decoder.usage().has_value());
  BOOST_TEST(d.decoder.usage()->total_tokens == "12");
  BOOST_TEST(d.content.empty());
}

BOOST_AUTO_TEST_CASE(only_the_first_choice_is_printed)
{
  Decoded d;
  d.feed({ R"({"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"}}]})" });
  BOOST_TEST(d.content == "mine");
}

BOOST_AUTO_TEST_CASE(reasoning_never_reaches_content)
{
  Decoded d;
  d.feed({ R"({"choices":[{"delta":{"reasoning_content":"think "}}]})",
           R"({"choices":[{"delta":{"reasoning":"more","content":null}}]})",
           R"({"choices":[{"delta":{"content":"answer"}}]})" });
  BOOST_TEST(d.reasoning == "think more");
  BOOST_TEST(d.content == "answer");
}

BOOST_AUTO_TEST_CASE(refusal_is_collected_apart)
{
  Decoded d;
  d.feed({ R"({"choices":[{"delta":{"refusal":"I can't"}}]})", R"({"choices":[{"delta":{"refusal":" help."}}]})" });
  BOOST_TEST(d.refusal == "I can't help.");
  BOOST_TEST(d.content.empty());
}

BOOST_AUTO_TEST_CASE(keep_alive_data_is_ignored)
{
  Decoded d;
  d.feed({ "", "ping", " [DONE] " });
  BOOST_TEST(d.decoder.done());
}

BOOST_AUTO_TEST_CASE(error_event_is_a_bad_response_with_the_server_message)
{
  std::string message;
  BOOST_TEST(error_status({ R"({"error":{"message":"upstream provider failed","code":502}})" }, &message) == 8);
  BOOST_TEST(message == "api: error in the stream: upstream provider failed (code: 502)");
  SseEvent typed;
  typed.type = "error";
  typed.data = R"({"message":"overloaded"})";
  Decoded d;
  BOOST_CHECK_THROW(d.on_event(typed), Error);
}

BOOST_AUTO_TEST_CASE(llama_cpp_error_field_shows_the_server_message)
{
  SseEvent e;
  e.error =
    R"({"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"})";
  Decoded d;
  try {
    d.on_event(e);
    BOOST_FAIL("no error");
  } catch (const Error& error) {
    BOOST_TEST(static_cast<int>(error.status()) == 8);
    BOOST_TEST(error.phase() == "api");
    BOOST_TEST(std::string(error.what()) ==
               "error in the stream: the request exceeds the available context size (code: 400, type: "
               "exceed_context_size_error)");
  }
  SseEvent text;
  text.error = "model crashed\nbadly";
  try {
    d.on_event(text);
    BOOST_FAIL("no error");
  } catch (const Error& error) {
    BOOST_TEST(std::string(error.what()) == "error in the stream: model crashed badly");
  }
}

BOOST_AUTO_TEST_CASE(nesting_deeper_than_the_limit_says_so)
{
  std::string deep;
  for (std::size_t i = 0; i <= max_json_depth; ++i) {
    deep += "{\"a\":";
  }
  deep += "1" + std::string(max_json_depth + 1, '}');
  std::string message;
  BOOST_TEST(error_status({ deep }, &message) == 8);
  BOOST_TEST(message.starts_with("stream: a chunk is nested deeper than 32 levels: {\"a\":"), message);
  std::string fits;
  for (std::size_t i = 1; i < max_json_depth; ++i) {
    fits += "{\"a\":";
  }
  fits += "1" + std::string(max_json_depth - 1, '}');
  BOOST_TEST(error_status({ fits }) == 0);
}

BOOST_AUTO_TEST_CASE(usage_counts_too_large_for_integers_are_shown_as_given)
{
  Decoded d;
  d.feed(
    { R"({"choices":[],"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":9223372036854775807}})" });
  BOOST_TEST_REQUIRE(d.decoder.usage().has_value());
  BOOST_TEST(d.decoder.usage()->prompt_tokens == "18446744073709551615");
  BOOST_TEST(d.decoder.usage()->completion_tokens == "9223372036854775807");
  BOOST_TEST(d.decoder.usage()->total_tokens == "27670116110564327422");
}

BOOST_AUTO_TEST_CASE(malformed_chunk_is_a_bad_response)
{
  std::string message;
  BOOST_TEST(error_status({ R"({"choices":[{"delta":{"content":"x"}})" }, &message) == 8);
  BOOST_TEST(message.starts_with("stream: a chunk is not a JSON object"));
  BOOST_TEST(error_status({ R"([1,2])" }) == 8);
  BOOST_TEST(error_status({ "data that is not json" }) == 8);
}

BOOST_AUTO_TEST_CASE(unexpected_types_are_ignored_not_fatal)
{
  Decoded d;
  d.feed({ R"({"choices":[{"delta":{"content":42}}]})",
           R"({"choices":[{"delta":"x"}]})",
           R"({"choices":{}})",
           R"({"choices":[{"delta":{"content":"ok"},"finish_reason":7}]})" });
  BOOST_TEST(d.content == "ok");
  BOOST_TEST(!d.decoder.finish_reason().has_value());
}

// Content escaped as a server that writes UTF-16 units does: every
// character outside ASCII as \uXXXX, a pair for those above U+FFFF.
std::vector<std::string> utf16_escapes(std::u32string_view text)
{
  std::vector<std::string> units;
  char buffer[16];
  for (const char32_t c : text) {
    if (c < 0x80) {
      units.emplace_back(1, static_cast<char>(c));
    } else if (c < 0x10000) {
      std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
      units.emplace_back(buffer);
    } else {
      std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(0xD800 + ((c - 0x10000) >> 10)));
      units.emplace_back(buffer);
      std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(0xDC00 + ((c - 0x10000) & 0x3FF)));
      units.emplace_back(buffer);
    }
  }
  return units;
}

std::string content_chunk(const std::string& escaped)
{
  return R"({"choices":[{"index":0,"delta":{"content":")" + escaped + R"("}}]})";
}

BOOST_AUTO_TEST_CASE(surrogate_pair_split_across_chunks_at_every_unit_is_joined)
{
  const auto units = utf16_escapes(U"a\U0001F600\u00e9\U0001F680\U0001F680z");
  const std::string expected = "a\xF0\x9F\x98\x80\xC3\xA9\xF0\x9F\x9A\x80\xF0\x9F\x9A\x80z";
  for (std::size_t i = 0; i <= units.size(); ++i) {
    for (std::size_t j = i; j <= units.size(); ++j) {
      std::string parts[3];
      for (std::size_t k = 0; k < units.size(); ++k) {
        parts[k < i ? 0 : k < j ? 1 : 2] += units[k];
      }
      Decoded d;
      d.feed({ content_chunk(parts[0]),
               content_chunk(parts[1]),
               R"({"choices":[{"index":0,"delta":{"role":"assistant"}}]})",
               content_chunk(parts[2]),
               "[DONE]" });
      BOOST_TEST(d.content == expected, "cut at units " << i << " and " << j);
    }
  }
}

BOOST_AUTO_TEST_CASE(lone_surrogates_become_the_replacement_character)
{
  const std::string fffd = "\xEF\xBF\xBD";
  Decoded d;
  d.feed({ content_chunk("a\\ud83d"), content_chunk("b"), content_chunk("\\ude00c"), content_chunk("d\\ud83d") });
  BOOST_TEST(d.content == "a" + fffd + "b" + fffd + "cd");
  d.finish();
  BOOST_TEST(d.content == "a" + fffd + "b" + fffd + "cd" + fffd, "the high half still waiting at the end");

  // A pair's halves in different fields are not one character.
  Decoded fields;
  fields.feed({ R"({"choices":[{"delta":{"reasoning_content":"r\ud83d"}}]})", content_chunk("\\ude00x"), "[DONE]" });
  BOOST_TEST(fields.reasoning == "r" + fffd);
  BOOST_TEST(fields.content == fffd + "x");

  // Elsewhere in a chunk, a lone half is replaced where it is.
  Decoded other;
  other.feed({ R"({"choices":[{"delta":{"content":"ok"},"finish_reason":"st\udc00op"}]})" });
  BOOST_TEST(other.content == "ok");
  BOOST_TEST(other.decoder.finish_reason().value_or("") == "st" + fffd + "op");
  std::string message;
  BOOST_TEST(error_status({ R"({"error":{"message":"bad \ud83d"}})" }, &message) == 8);
  BOOST_TEST(message == "api: error in the stream: bad " + fffd);
}

BOOST_AUTO_TEST_CASE(refusal_halves_are_joined_too)
{
  Decoded d;
  d.feed({ R"({"choices":[{"delta":{"refusal":"no \ud83d"}}]})", R"({"choices":[{"delta":{"refusal":"\ude45"}}]})" });
  BOOST_TEST(d.refusal == "no \xF0\x9F\x99\x85");
}

SseEvent data_event(std::string data)
{
  SseEvent e;
  e.data = std::move(data);
  return e;
}

BOOST_AUTO_TEST_CASE(each_event_returns_what_it_said)
{
  ChatStreamDecoder decoder;
  const std::string first = R"({"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]})";
  const SseEvent first_event = data_event(first); // `json` views it
  ReplyDelta d = decoder.decode(first_event);
  BOOST_TEST(d.json == first);
  BOOST_TEST(d.content == "Hi");
  BOOST_TEST(d.reasoning.empty());
  BOOST_TEST(d.refusal.empty());
  BOOST_TEST(!d.finish_reason.has_value());
  BOOST_TEST(!d.usage);
  BOOST_TEST(!d.done);
  BOOST_TEST(!d.error.has_value());

  d = decoder.decode(data_event(R"({"choices":[{"delta":{"reasoning_content":"a","reasoning":"b","refusal":"no"}}]})"));
  BOOST_TEST(d.reasoning == "ab", "both reasoning fields, in one piece");
  BOOST_TEST(d.refusal == "no");
  BOOST_TEST(d.content.empty());

  d = decoder.decode(data_event(R"({"choices":[{"delta":{},"finish_reason":"length"}]})"));
  BOOST_TEST(d.finish_reason.value_or("") == "length");

  d = decoder.decode(data_event(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}})"));
  BOOST_TEST_REQUIRE(d.usage);
  BOOST_TEST(d.usage->total_tokens == "3");

  const SseEvent ping = data_event(" ping");
  d = decoder.decode(ping);
  BOOST_TEST(d.json == " ping", "a keep-alive is still the server's data for --raw");
  BOOST_TEST(d.content.empty());

  d = decoder.decode(data_event("[DONE]"));
  BOOST_TEST(d.done);
  BOOST_TEST(d.json.empty());
  d = decoder.decode(first_event);
  BOOST_TEST(d.json.empty(), "nothing after [DONE]");
  BOOST_TEST(d.content.empty());
}

BOOST_AUTO_TEST_CASE(errors_are_returned_with_the_json_they_came_in)
{
  ChatStreamDecoder decoder;
  const std::string data = R"({"error":{"message":"overloaded"}})";
  const SseEvent event = data_event(data);
  const ReplyDelta d = decoder.decode(event);
  BOOST_TEST(d.json == data);
  BOOST_TEST_REQUIRE(d.error.has_value());
  BOOST_TEST(static_cast<int>(d.error->status()) == 8);
  BOOST_TEST(d.error->phase() == "api");
  BOOST_TEST(std::string(d.error->what()) == "error in the stream: overloaded");

  const ReplyDelta bad = decoder.decode(data_event("{oops"));
  BOOST_TEST_REQUIRE(bad.error.has_value());
  BOOST_TEST(bad.error->phase() == "stream");

  SseEvent llama;
  llama.error = R"({"message":"context full"})";
  const ReplyDelta field = decoder.decode(llama);
  BOOST_TEST(field.json.empty());
  BOOST_TEST_REQUIRE(field.error.has_value());
  BOOST_TEST(std::string(field.error->what()) == "error in the stream: context full");
}

BOOST_AUTO_TEST_CASE(split_surrogate_pair_comes_out_in_the_delta_of_its_second_half)
{
  ChatStreamDecoder decoder;
  ReplyDelta d = decoder.decode(data_event(content_chunk("a\\ud83d")));
  BOOST_TEST(d.content == "a");
  d = decoder.decode(data_event(content_chunk("\\ude00b")));
  BOOST_TEST(d.content == "\xF0\x9F\x98\x80"
                          "b");
  d = decoder.decode(data_event(R"({"choices":[{"delta":{"reasoning":"r\ud83d","content":"c\ud83d"}}]})"));
  BOOST_TEST(d.reasoning == "r");
  BOOST_TEST(d.content == "c");
  d = decoder.decode(data_event("[DONE]"));
  BOOST_TEST(d.done);
  BOOST_TEST(d.reasoning == replacement_character, "the halves still waiting, at the end");
  BOOST_TEST(d.content == replacement_character);
  BOOST_TEST(decoder.finish().content.empty(), "given out once");
}

BOOST_AUTO_TEST_SUITE_END()
