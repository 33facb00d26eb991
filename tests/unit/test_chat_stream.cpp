#include "chat_stream.hpp"

#include "error.hpp"

#include <boost/test/unit_test.hpp>

using namespace gptq;

namespace {

// Decodes `datas` (one event each) and records what came out.
struct Decoded {
  std::string content;
  std::string reasoning;
  ChatStreamDecoder decoder{[this](std::string_view t) { content += t; }, [this](std::string_view t) { reasoning += t; }};

  Decoded& feed(std::initializer_list<std::string> datas)
  {
    for (const auto& data : datas) {
      SseEvent e;
      e.data = data;
      decoder.on_event(e);
    }
    return *this;
  }
};

int error_status(std::initializer_list<std::string> datas, std::string* message = nullptr)
{
  Decoded d;
  try {
    d.feed(datas);
  } catch (const Error& e) {
    if (message) {
      *message = e.phase() + ": " + e.what();
    }
    return static_cast<int>(e.status());
  }
  return 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(chat_stream)

BOOST_AUTO_TEST_CASE(content_pieces_in_order_then_done)
{
  Decoded d;
  d.feed({R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
          R"({"choices":[{"index":0,"delta":{"content":"Hel"}}]})", R"({"choices":[{"delta":{"content":"lo"}}]})"});
  BOOST_TEST(d.content == "Hello");
  BOOST_TEST(!d.decoder.complete());
  d.feed({R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"});
  BOOST_TEST(d.decoder.complete());
  BOOST_TEST(!d.decoder.done());
  BOOST_TEST(d.decoder.finish_reason().value_or("") == "stop");
  d.feed({"[DONE]", R"({"choices":[{"delta":{"content":"after done"}}]})"});
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
  d.feed({R"({"choices":[{"delta":{"content":"a"}}]})", big_chunk, R"({"choices":[{"delta":{"content":"b"}}]})",
          big_chunk, R"({"choices":[{"delta":{"content":"\u00e9"}}]})"});
  BOOST_TEST(d.content == "a" + big + "b" + big + "\xC3\xA9");
}

BOOST_AUTO_TEST_CASE(usage_chunk_has_no_choices)
{
  Decoded d;
  d.feed({R"({"id":"x","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})"});
  BOOST_TEST_REQUIRE(d.decoder.usage().has_value());
  BOOST_TEST(d.decoder.usage()->total_tokens == 12);
  BOOST_TEST(d.content.empty());
}

BOOST_AUTO_TEST_CASE(only_the_first_choice_is_printed)
{
  Decoded d;
  d.feed({R"({"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"}}]})"});
  BOOST_TEST(d.content == "mine");
}

BOOST_AUTO_TEST_CASE(reasoning_never_reaches_content)
{
  Decoded d;
  d.feed({R"({"choices":[{"delta":{"reasoning_content":"think "}}]})",
          R"({"choices":[{"delta":{"reasoning":"more","content":null}}]})",
          R"({"choices":[{"delta":{"content":"answer"}}]})"});
  BOOST_TEST(d.reasoning == "think more");
  BOOST_TEST(d.content == "answer");
}

BOOST_AUTO_TEST_CASE(refusal_is_collected_apart)
{
  Decoded d;
  d.feed({R"({"choices":[{"delta":{"refusal":"I can't"}}]})", R"({"choices":[{"delta":{"refusal":" help."}}]})"});
  BOOST_TEST(d.decoder.refusal() == "I can't help.");
  BOOST_TEST(d.content.empty());
}

BOOST_AUTO_TEST_CASE(keep_alive_data_is_ignored)
{
  Decoded d;
  d.feed({"", "ping", " [DONE] "});
  BOOST_TEST(d.decoder.done());
}

BOOST_AUTO_TEST_CASE(error_event_is_a_bad_response_with_the_server_message)
{
  std::string message;
  BOOST_TEST(error_status({R"({"error":{"message":"upstream provider failed","code":502}})"}, &message) == 8);
  BOOST_TEST(message == "api: error in the stream: upstream provider failed (code: 502)");
  SseEvent typed;
  typed.type = "error";
  typed.data = R"({"message":"overloaded"})";
  Decoded d;
  BOOST_CHECK_THROW(d.decoder.on_event(typed), Error);
}

BOOST_AUTO_TEST_CASE(malformed_chunk_is_a_bad_response)
{
  std::string message;
  BOOST_TEST(error_status({R"({"choices":[{"delta":{"content":"x"}})"}, &message) == 8);
  BOOST_TEST(message.starts_with("stream: a chunk is not a JSON object"));
  BOOST_TEST(error_status({R"([1,2])"}) == 8);
  BOOST_TEST(error_status({"data that is not json"}) == 8);
}

BOOST_AUTO_TEST_CASE(unexpected_types_are_ignored_not_fatal)
{
  Decoded d;
  d.feed({R"({"choices":[{"delta":{"content":42}}]})", R"({"choices":[{"delta":"x"}]})", R"({"choices":{}})",
          R"({"choices":[{"delta":{"content":"ok"},"finish_reason":7}]})"});
  BOOST_TEST(d.content == "ok");
  BOOST_TEST(!d.decoder.finish_reason().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
