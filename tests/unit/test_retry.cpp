#include "retry.hpp"

#include "text.hpp"

#include <boost/test/unit_test.hpp>

using namespace gptq;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(retry)

BOOST_AUTO_TEST_CASE(retryable_statuses)
{
  for (int status : { 408, 409, 429, 500, 502, 503, 504 }) {
    BOOST_TEST(is_retryable_status(status, "{}"), status);
  }
  for (int status : { 400, 401, 402, 403, 404, 422, 501, 505 }) {
    BOOST_TEST(!is_retryable_status(status, "{}"), status);
  }
}

BOOST_AUTO_TEST_CASE(insufficient_quota_is_never_retried)
{
  BOOST_TEST(!is_retryable_status(
    429,
    R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})"));
  BOOST_TEST(is_retryable_status(429, R"({"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}})"));
  BOOST_TEST(is_retryable_status(429, "<html>not json</html>"));
}

BOOST_AUTO_TEST_CASE(server_wait_from_headers)
{
  const auto now = std::chrono::system_clock::from_time_t(1445412480); // Wed, 21 Oct 2015 07:28:00 GMT
  BOOST_TEST(server_retry_wait({ { "Retry-After", "7" } }, now)->count() == 7000);
  BOOST_TEST(server_retry_wait({ { "retry-after", "1.5" } }, now)->count() == 1500);
  BOOST_TEST(server_retry_wait({ { "retry-after-ms", "250" }, { "Retry-After", "7" } }, now)->count() == 250);
  BOOST_TEST(server_retry_wait({ { "Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT" } }, now)->count() == 30000);
  BOOST_TEST(server_retry_wait({ { "Retry-After", "Wed, 21 Oct 2015 07:27:00 GMT" } }, now)->count() == 0);
  BOOST_TEST(!server_retry_wait({ { "Retry-After", "soon" } }, now).has_value());
  BOOST_TEST(!server_retry_wait({ { "Retry-After", "-3" } }, now).has_value());
  BOOST_TEST(!server_retry_wait({}, now).has_value());
}

BOOST_AUTO_TEST_CASE(x_should_retry)
{
  BOOST_TEST((server_says_retry({ { "x-should-retry", "true" } }) == true));
  BOOST_TEST((server_says_retry({ { "X-Should-Retry", "false" } }) == false));
  BOOST_TEST(!server_says_retry({ { "x-should-retry", "maybe" } }).has_value());
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

BOOST_AUTO_TEST_CASE(the_last_failure_names_the_first_when_it_was_another)
{
  const Secrets keep;
  const Error overloaded(ExitStatus::server, "api", "HTTP 503: overloaded");
  const Error reset(ExitStatus::network, "network", "connection reset by peer");
  const Error both = with_first_failure(reset, overloaded, 3, keep);
  BOOST_TEST(static_cast<int>(both.status()) == static_cast<int>(ExitStatus::network));
  BOOST_TEST(both.phase() == "network");
  BOOST_TEST(std::string(both.what()) ==
             "connection reset by peer; the first of 3 tries failed with api: HTTP 503: overloaded");
  // The same failure each time, or one try: nothing to add.
  BOOST_TEST(std::string(with_first_failure(reset, reset, 3, keep).what()) == "connection reset by peer");
  BOOST_TEST(std::string(with_first_failure(reset, overloaded, 1, keep).what()) == "connection reset by peer");
  // One line, whatever the server wrote.
  const Error multiline(ExitStatus::server, "", "HTTP 500: a\nb\tc");
  BOOST_TEST(std::string(with_first_failure(reset, multiline, 2, keep).what()) ==
             "connection reset by peer; the first of 2 tries failed with HTTP 500: a b c");
}

// The excerpt is cut after the key is scrubbed: cut first, a key across the
// cut would survive minus its end, out of the scrubber's reach.
BOOST_AUTO_TEST_CASE(the_first_failure_is_scrubbed_before_it_is_cut)
{
  const std::string key = "sk-proj-0123456789abcdefghij";
  Secrets scrub;
  scrub.add(key);
  const Error quoted(ExitStatus::auth, "", "HTTP 401: " + std::string(180, 'x') + " " + key + " is wrong");
  const Error last(ExitStatus::network, "network", "connection reset by peer");
  const std::string said = with_first_failure(last, quoted, 2, scrub).what();
  BOOST_TEST(said.find("sk-proj") == std::string::npos, said);
  BOOST_TEST(said.find("[RED") != std::string::npos, said);
}

// Failures before any response: what another try may mend, and what not.
BOOST_AUTO_TEST_CASE(a_name_that_does_not_exist_is_not_retried_but_a_failed_lookup_is)
{
  const Error again(ExitStatus::network, "resolve", "cannot resolve host api.example.com: try again later");
  BOOST_TEST(is_retryable_failure(again));
  Error missing(ExitStatus::network, "resolve", "cannot resolve host api.example.invalid: Host not found");
  missing.make_lasting();
  BOOST_TEST(!is_retryable_failure(missing));
  // The mark stays with copies, as the retry loops hold failures.
  const Error copy = missing;
  BOOST_TEST(!is_retryable_failure(copy));
  BOOST_TEST(is_retryable_failure(Error(ExitStatus::network, "connect", "refused")));
  BOOST_TEST(is_retryable_failure(Error(ExitStatus::network, "network", "reset")));
  BOOST_TEST(!is_retryable_failure(Error(ExitStatus::network, "certificate", "expired")));
  BOOST_TEST(!is_retryable_failure(Error(ExitStatus::network, "timeout", "no reply")));
  BOOST_TEST(!is_retryable_failure(Error(ExitStatus::network, "proxy", "refused the tunnel")));
}

BOOST_AUTO_TEST_SUITE_END()
