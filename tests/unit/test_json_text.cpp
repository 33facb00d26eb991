#include "json_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <limits>

using namespace gptq;

BOOST_AUTO_TEST_SUITE(json_text)

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
