#include "exchange_context.hpp"

#include "error.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace gptq;

BOOST_AUTO_TEST_SUITE(exchange_context)

BOOST_AUTO_TEST_CASE(where_names_the_server_with_its_port)
{
  TransportOptions options;
  const Url name = parse_url("https://api.example.com/v1");
  const Url v6 = parse_url("http://[::1]:8080/v1");
  BOOST_TEST(ExchangeContext(options, name).where == "api.example.com:443");
  BOOST_TEST(ExchangeContext(options, v6).where == "[::1]:8080");
  BOOST_TEST(!ExchangeContext(options, name).proxy);
}

BOOST_AUTO_TEST_CASE(log_goes_to_the_options_log_if_any)
{
  TransportOptions options;
  const Url url = parse_url("https://h/v1");
  ExchangeContext(options, url).log("unheard"); // no log: silent
  std::vector<std::string> lines;
  options.log = [&](const std::string& line) { lines.push_back(line); };
  ExchangeContext(options, url).log("heard");
  BOOST_TEST(lines == std::vector<std::string>{ "heard" }, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(seconds_text_is_short)
{
  BOOST_TEST(seconds_text(std::chrono::milliseconds(10'000)) == "10 s");
  BOOST_TEST(seconds_text(std::chrono::milliseconds(2'500)) == "2.5 s");
  BOOST_TEST(seconds_text(std::chrono::milliseconds(1)) == "0.001 s");
}

BOOST_AUTO_TEST_CASE(timed_out_names_the_step_or_the_whole_limit)
{
  TransportOptions options;
  Deadlines step(options);
  BOOST_CHECK_EXCEPTION(step.timed_out("no answer"), Error, [](const Error& e) {
    return e.phase() == "timeout" && std::string(e.what()) == "no answer";
  });
  options.total_timeout = std::chrono::milliseconds(0);
  Deadlines total(options);
  BOOST_TEST(total.total_passed());
  BOOST_TEST((total.connect() <= Clock::now()));
  BOOST_CHECK_EXCEPTION(total.timed_out("no answer"), Error, [](const Error& e) {
    return e.phase() == "timeout" && std::string(e.what()) == "no complete response within 0 s (--timeout)";
  });
}

BOOST_AUTO_TEST_SUITE_END()
