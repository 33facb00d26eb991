#include "json_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <limits>
#include <random>
#include <string>

using namespace gptq;

BOOST_AUTO_TEST_SUITE(json_text)

namespace {

std::string boost_json_string(const std::string& text)
{
  return boost::json::serialize(boost::json::string_view(text));
}

std::string ours(const std::string& text, const std::string& before = "")
{
  std::string out = before;
  append_json_string(out, text);
  return out;
}

} // namespace

// Every byte value, alone and at each offset of two 16-byte blocks (the
// fast path reads blocks, or words without SSE2), escapes exactly as
// Boost.JSON does.
BOOST_AUTO_TEST_CASE(append_json_string_escapes_every_byte_as_boost_json_does)
{
  for (int c = 0; c < 256; ++c) {
    for (std::size_t at = 0; at < 35; ++at) {
      std::string text(35, 'a');
      text[at] = static_cast<char>(c);
      BOOST_TEST(ours(text) == boost_json_string(text), "byte " << c << " at " << at);
    }
  }
}

BOOST_AUTO_TEST_CASE(append_json_string_matches_boost_json_on_random_text)
{
  std::mt19937 random(7);
  // Dense in bytes that need escaping, and in none, and every length around
  // the word size.
  const std::string alphabet[] = { std::string("\"\\\n\t\x01\x1f\x7f xy\xc3\xa9", 13), std::string("abcdefgh ") };
  for (const auto& letters : alphabet) {
    for (std::size_t length = 0; length < 200; ++length) {
      std::string text;
      for (std::size_t i = 0; i < length; ++i) {
        text += letters[random() % letters.size()];
      }
      BOOST_TEST(ours(text) == boost_json_string(text), "length " << length);
    }
  }
}

BOOST_AUTO_TEST_CASE(append_json_string_appends)
{
  BOOST_TEST(ours("x\n", "[1,") == "[1,\"x\\n\"");
  BOOST_TEST(ours("") == "\"\"");
}

BOOST_AUTO_TEST_CASE(doubles_are_written_plainly)
{
  BOOST_TEST(to_json_text(boost::json::value(0.7)) == "0.7");
  BOOST_TEST(to_json_text(boost::json::value(1.0)) == "1");
  BOOST_TEST(to_json_text(boost::json::value(0.0)) == "0");
  BOOST_TEST(to_json_text(boost::json::value(std::numeric_limits<double>::infinity())) == "null");
}

BOOST_AUTO_TEST_CASE(round_trips_nested_values)
{
  const char* text = R"({"a":[1,-2,0.25,true,null,"s\"\n\u0001"],"b":{"c":{}},"d":[]})";
  const std::string out = to_json_text(boost::json::parse(text));
  BOOST_TEST(out == text);
  BOOST_TEST(boost::json::parse(out) == boost::json::parse(text));
}

BOOST_AUTO_TEST_SUITE_END()
