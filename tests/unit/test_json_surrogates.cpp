#include "json_surrogates.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace gptq;

namespace {

constexpr std::string_view delta_keys[] = { "content", "reasoning" };

// The repaired text, or `json` itself when nothing needed repair.
std::string repaired(std::string_view json, std::span<const std::string_view> keys = {})
{
  const auto r = repair_lone_surrogates(json, keys);
  return r ? r->text : std::string(json);
}

// The string `json` (a JSON text) decodes to, after repair.
std::string decoded(std::string_view json)
{
  return std::string(boost::json::parse(repaired(json)).as_string());
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_surrogates)

BOOST_AUTO_TEST_CASE(only_surrogate_escapes_are_noticed)
{
  BOOST_TEST(!has_surrogate_escape(R"({"a":"plain \n \u00e9 \ud7ff \ue000"})"));
  BOOST_TEST(!has_surrogate_escape(R"("\\ud83d is text")"), "an escaped backslash, then text");
  BOOST_TEST(!has_surrogate_escape(R"("\\\\ud83d")"));
  BOOST_TEST(has_surrogate_escape(R"("\\\ud83d")"));
  BOOST_TEST(has_surrogate_escape(R"("\ud83d\ude00")"));
  BOOST_TEST(has_surrogate_escape(R"("\uDC00")"));
  BOOST_TEST(!has_surrogate_escape(R"("\ud)"), "cut short");
}

BOOST_AUTO_TEST_CASE(pairs_are_left_alone_and_lone_halves_become_the_replacement_character)
{
  BOOST_TEST(!repair_lone_surrogates(R"({"a":"\ud83d\ude00 and \uD83D\uDE00"})").has_value());
  BOOST_TEST(decoded(R"("\ud83d\ude00")") == "\xF0\x9F\x98\x80");
  BOOST_TEST(decoded(R"("a\ud83db")") == "a\xEF\xBF\xBD"
                                         "b");
  BOOST_TEST(decoded(R"("a\ude00b")") == "a\xEF\xBF\xBD"
                                         "b");
  BOOST_TEST(decoded(R"("\ud83d")") == "\xEF\xBF\xBD");
  BOOST_TEST(decoded(R"("\ude00\ud83d")") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  BOOST_TEST(decoded(R"("\ud83d\ud83d\ude00")") == "\xEF\xBF\xBD\xF0\x9F\x98\x80", "a high one before a pair");
  BOOST_TEST(decoded(R"("\ud83d\u0041")") == "\xEF\xBF\xBD"
                                             "A");
  BOOST_TEST(decoded(R"("\\\ud83d")") == "\\\xEF\xBF\xBD");
  // The same length, so that offsets in messages stay true.
  BOOST_TEST(repaired(R"(["\ud83d",1])").size() == std::string_view(R"(["\ud83d",1])").size());
}

BOOST_AUTO_TEST_CASE(keys_and_other_strings_are_repaired_too)
{
  const auto v = boost::json::parse(repaired(R"({"k\udc00":["x\ud800",{"content":"\ud83d"}]})"));
  BOOST_TEST(v.as_object().contains("k\xEF\xBF\xBD"));
  BOOST_TEST(v.at("k\xEF\xBF\xBD").at(0).as_string() == "x\xEF\xBF\xBD");
  BOOST_TEST(v.at("k\xEF\xBF\xBD").at(1).at("content").as_string() == "\xEF\xBF\xBD", "no edge keys asked for");
}

BOOST_AUTO_TEST_CASE(edge_halves_of_the_named_members_are_taken_out_with_their_place)
{
  const auto r = repair_lone_surrogates(
    R"({"choices":[{"index":0,"delta":{"content":"ab\ud83d"}},{"delta":{"reasoning":"\ude00cd","x":"\ud83d"}}]})",
    delta_keys);
  BOOST_TEST_REQUIRE(r.has_value());
  const auto v = boost::json::parse(r->text);
  BOOST_TEST(v.at("choices").at(0).at("delta").at("content").as_string() == "ab");
  BOOST_TEST(v.at("choices").at(1).at("delta").at("reasoning").as_string() == "cd");
  BOOST_TEST(v.at("choices").at(1).at("delta").at("x").as_string() == "\xEF\xBF\xBD", "not a named member");
  BOOST_TEST_REQUIRE(r->edges.size() == 2u);
  BOOST_TEST(r->edges[0].path == "choices/0/delta/content");
  BOOST_TEST(r->edges[0].unit == 0xD83D);
  BOOST_TEST(r->edges[1].path == "choices/1/delta/reasoning");
  BOOST_TEST(r->edges[1].unit == 0xDE00);
}

BOOST_AUTO_TEST_CASE(only_a_high_half_at_the_end_or_a_low_half_at_the_start_is_an_edge)
{
  const auto r = repair_lone_surrogates(R"({"content":"\ud83dx\ude00"})", delta_keys);
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->edges.empty());
  BOOST_TEST(std::string(boost::json::parse(r->text).at("content").as_string()) == "\xEF\xBF\xBDx\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_CASE(text_that_is_not_json_stays_not_json)
{
  for (const std::string_view bad : { R"({"content":"\ud83d)", R"("\ud83d)", R"(\ud83d)", R"({"a":}"\ude00"])" }) {
    BOOST_CHECK_THROW(boost::json::parse(repaired(bad, delta_keys)), std::exception);
  }
}

BOOST_AUTO_TEST_CASE(utf8_of_code_points_at_each_length)
{
  std::string out;
  for (const char32_t c : { U'A', U'\u00e9', U'\u20ac', U'\U0001F600', U'\U0010FFFF' }) {
    append_utf8(out, c);
  }
  BOOST_TEST(out == "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
}

BOOST_AUTO_TEST_SUITE_END()
