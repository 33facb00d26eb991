#include "retry.hpp"

#include <boost/test/unit_test.hpp>

using namespace gptq;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(retry)

BOOST_AUTO_TEST_CASE(retryable_statuses)
{
  for (int status : {408, 409, 429, 500, 502, 503, 504}) {
    BOOST_TEST(is_retryable_status(status, "{}"), status);
  }
  for (int status : {400, 401, 402, 403, 404, 422, 501, 505}) {
    BOOST_TEST(!is_retryable_status(status, "{}"), status);
  }
}

BOOST_AUTO_TEST_CASE(insufficient_quota_is_never_retried)
{
  BOOST_TEST(!is_retryable_status(
    429, R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})"));
  BOOST_TEST(is_retryable_status(429, R"({"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}})"));
  BOOST_TEST(is_retryable_status(429, "<html>not json</html>"));
}

BOOST_AUTO_TEST_CASE(server_wait_from_headers)
{
  const auto now = std::chrono::system_clock::from_time_t(1445412480); // Wed, 21 Oct 2015 07:28:00 GMT
  BOOST_TEST(server_retry_wait({{"Retry-After", "7"}}, now)->count() == 7000);
  BOOST_TEST(server_retry_wait({{"retry-after", "1.5"}}, now)->count() == 1500);
  BOOST_TEST(server_retry_wait({{"retry-after-ms", "250"}, {"Retry-After", "7"}}, now)->count() == 250);
  BOOST_TEST(server_retry_wait({{"Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT"}}, now)->count() == 30000);
  BOOST_TEST(server_retry_wait({{"Retry-After", "Wed, 21 Oct 2015 07:27:00 GMT"}}, now)->count() == 0);
  BOOST_TEST(!server_retry_wait({{"Retry-After", "soon"}}, now).has_value());
  BOOST_TEST(!server_retry_wait({{"Retry-After", "-3"}}, now).has_value());
  BOOST_TEST(!server_retry_wait({}, now).has_value());
}

BOOST_AUTO_TEST_CASE(x_should_retry)
{
  BOOST_TEST((server_says_retry({{"x-should-retry", "true"}}) == true));
  BOOST_TEST((server_says_retry({{"X-Should-Retry", "false"}}) == false));
  BOOST_TEST(!server_says_retry({{"x-should-retry", "maybe"}}).has_value());
  BOOST_TEST(!server_says_retry({}).has_value());
}

BOOST_AUTO_TEST_CASE(backoff_doubles_with_jitter_and_a_ceiling)
{
  BOOST_TEST(backoff_wait(0, 0.0).count() == 500);
  BOOST_TEST(backoff_wait(1, 0.0).count() == 1000);
  BOOST_TEST(backoff_wait(2, 0.0).count() == 2000);
  BOOST_TEST(backoff_wait(5, 0.0).count() == 8000);
  BOOST_TEST(backoff_wait(50, 0.0).count() == 8000);
  BOOST_TEST(backoff_wait(0, 0.999).count() >= 375);
  BOOST_TEST(backoff_wait(0, 0.999).count() < 500);
}

BOOST_AUTO_TEST_SUITE_END()
