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
  const Error again(
    FailureKind::resolve, ExitStatus::network, "resolve", "cannot resolve host api.example.com: try again later");
  BOOST_TEST(is_retryable_failure(again));
  Error missing(
    FailureKind::resolve, ExitStatus::network, "resolve", "cannot resolve host api.example.invalid: Host not found");
  missing.make_lasting();
  BOOST_TEST(!is_retryable_failure(missing));
  // The mark stays with copies, as the retry loops hold failures.
  const Error copy = missing;
  BOOST_TEST(!is_retryable_failure(copy));
  BOOST_TEST(is_retryable_failure(Error(FailureKind::connect, ExitStatus::network, "connect", "refused")));
  BOOST_TEST(is_retryable_failure(Error(FailureKind::network, ExitStatus::network, "network", "reset")));
  BOOST_TEST(!is_retryable_failure(Error(FailureKind::certificate, ExitStatus::network, "certificate", "expired")));
  BOOST_TEST(!is_retryable_failure(Error(FailureKind::timeout, ExitStatus::network, "timeout", "no reply")));
  BOOST_TEST(!is_retryable_failure(Error(FailureKind::proxy, ExitStatus::network, "proxy", "refused the tunnel")));
}

// The kind decides, not the label: a failure raised elsewhere with the
// label "connect" is not a failed connection.
BOOST_AUTO_TEST_CASE(the_kind_decides_not_the_phase_label)
{
  BOOST_TEST(!is_retryable_failure(Error(ExitStatus::network, "connect", "refused")));
  BOOST_TEST(!is_retryable_failure(Error(FailureKind::http_status, ExitStatus::server, "network", "503")));
}

BOOST_AUTO_TEST_CASE(with_message_keeps_status_kind_phase_and_lastingness)
{
  Error missing(FailureKind::resolve, ExitStatus::network, "resolve", "no such host");
  missing.make_lasting();
  const Error told = missing.with_message("no such host; more");
  BOOST_TEST(told.what() == std::string("no such host; more"));
  BOOST_TEST(static_cast<int>(told.status()) == static_cast<int>(ExitStatus::network));
  BOOST_TEST(static_cast<int>(told.kind()) == static_cast<int>(FailureKind::resolve));
  BOOST_TEST(told.phase() == "resolve");
  BOOST_TEST(told.lasting());
}

namespace {

// One failed try and what the policy makes of it.
struct RetryCase {
  const char* name;
  FailureKind kind;
  int status; // of the error response; 0: none (a transport failure)
  Headers headers;
  std::string body;
  TryState state;
  bool retry;
  long long wait_ms; // checked when >= 0
  bool overloaded;
  std::string reason;
};

} // namespace

// random01 is 0, so the backoff is 500 ms, then 1000 ms, ... One table of
// cases, longer than a function should be, so that the whole policy reads
// side by side: status, failure kind and headers against the decision.
BOOST_AUTO_TEST_CASE(decide_retry_table)
{
  const TryState first{ 0, 2, false, std::nullopt };
  const TryState second{ 1, 2, false, std::nullopt };
  const TryState last{ 2, 2, false, std::nullopt };
  const TryState no_retries{ 0, 0, false, std::nullopt };
  const TryState printed{ 0, 2, true, std::nullopt };
  const TryState little_time{ 0, 2, false, milliseconds(400) };
  const TryState time_enough{ 0, 2, false, milliseconds(600) };
  const std::string quota = R"({"error":{"code":"insufficient_quota","message":"quota"}})";
  const std::string too_long = "the server asks to wait 120 s before trying again, longer than gptq waits (60 s)";
  const RetryCase cases[] = {
    { "connect", FailureKind::connect, 0, {}, "", first, true, 500, false, "retry 1 of 2 in 500 ms" },
    { "network", FailureKind::network, 0, {}, "", second, true, 1000, false, "retry 2 of 2 in 1000 ms" },
    { "resolve", FailureKind::resolve, 0, {}, "", first, true, 500, false, "retry 1 of 2 in 500 ms" },
    { "network, no retry left", FailureKind::network, 0, {}, "", last, false, 2000, false, "" },
    { "network, --retries 0", FailureKind::network, 0, {}, "", no_retries, false, 500, false, "" },
    { "certificate", FailureKind::certificate, 0, {}, "", first, false, -1, false, "" },
    { "tls", FailureKind::tls, 0, {}, "", first, false, -1, false, "" },
    { "timeout", FailureKind::timeout, 0, {}, "", first, false, -1, false, "" },
    { "proxy", FailureKind::proxy, 0, {}, "", first, false, -1, false, "" },
    { "bad response", FailureKind::bad_response, 0, {}, "", first, false, -1, false, "" },
    { "usage", FailureKind::other, 0, {}, "", first, false, -1, false, "" },
    { "cut short after text",
      FailureKind::bad_response,
      0,
      {},
      "",
      printed,
      false,
      -1,
      false,
      "the reply is incomplete" },
    { "network after text", FailureKind::network, 0, {}, "", printed, false, -1, false, "the reply is incomplete" },
    { "503", FailureKind::http_status, 503, {}, "", first, true, 500, true, "retry 1 of 2 in 500 ms" },
    { "500", FailureKind::http_status, 500, {}, "", first, true, 500, false, "retry 1 of 2 in 500 ms" },
    { "408", FailureKind::http_status, 408, {}, "", second, true, 1000, false, "retry 2 of 2 in 1000 ms" },
    { "429, Retry-After",
      FailureKind::http_status,
      429,
      { { "Retry-After", "3" } },
      "",
      first,
      true,
      3000,
      true,
      "retry 1 of 2 in 3000 ms" },
    { "429, retry-after-ms",
      FailureKind::http_status,
      429,
      { { "retry-after-ms", "250" } },
      "",
      first,
      true,
      250,
      true,
      "retry 1 of 2 in 250 ms" },
    { "429, no retry left",
      FailureKind::http_status,
      429,
      { { "Retry-After", "3" } },
      "",
      last,
      false,
      3000,
      true,
      "" },
    { "429, insufficient_quota", FailureKind::http_status, 429, {}, quota, first, false, -1, false, "" },
    { "503, Retry-After 120",
      FailureKind::http_status,
      503,
      { { "Retry-After", "120" } },
      "",
      first,
      false,
      -1,
      false,
      too_long },
    { "503, Retry-After 120, --retries 0",
      FailureKind::http_status,
      503,
      { { "Retry-After", "120" } },
      "",
      no_retries,
      false,
      -1,
      false,
      too_long },
    { "503, Retry-After 60",
      FailureKind::http_status,
      503,
      { { "Retry-After", "60" } },
      "",
      first,
      true,
      60000,
      true,
      "retry 1 of 2 in 60000 ms" },
    { "400", FailureKind::http_status, 400, {}, "", first, false, -1, false, "" },
    { "401", FailureKind::http_status, 401, {}, "", first, false, -1, false, "" },
    { "400, x-should-retry true",
      FailureKind::http_status,
      400,
      { { "x-should-retry", "true" } },
      "",
      first,
      true,
      500,
      false,
      "retry 1 of 2 in 500 ms" },
    { "503, x-should-retry false",
      FailureKind::http_status,
      503,
      { { "x-should-retry", "false" } },
      "",
      first,
      false,
      -1,
      false,
      "" },
    { "503, past the deadline", FailureKind::http_status, 503, {}, "", little_time, false, 500, true, "" },
    { "503, before the deadline",
      FailureKind::http_status,
      503,
      {},
      "",
      time_enough,
      true,
      500,
      true,
      "retry 1 of 2 in 500 ms" },
    { "connect, past the deadline", FailureKind::connect, 0, {}, "", little_time, false, 500, false, "" },
  };
  const auto now = std::chrono::system_clock::now();
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name)
    {
      const Error failure(c.kind, ExitStatus::network, "label", "it failed");
      HttpResponse response;
      response.status = c.status;
      response.headers = c.headers;
      response.body = c.body;
      const RetryDecision d = decide_retry(failure, c.status ? &response : nullptr, c.state, now, 0.0);
      BOOST_TEST((d.action == RetryDecision::Action::retry) == c.retry);
      if (c.wait_ms >= 0) {
        BOOST_TEST(d.wait.count() == c.wait_ms);
      }
      BOOST_TEST(d.overloaded == c.overloaded);
      BOOST_TEST(d.reason == c.reason);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_lasting_failure_is_not_retried)
{
  Error missing(FailureKind::resolve, ExitStatus::network, "resolve", "no such host");
  missing.make_lasting();
  const auto d =
    decide_retry(missing, nullptr, TryState{ 0, 2, false, std::nullopt }, std::chrono::system_clock::now(), 0.0);
  BOOST_TEST((d.action == RetryDecision::Action::give_up));
  BOOST_TEST(d.reason.empty());
}

BOOST_AUTO_TEST_CASE(with_reason_adds_why_it_gave_up)
{
  const Error failure(FailureKind::http_status, ExitStatus::server, "api", "HTTP 503");
  RetryDecision d;
  BOOST_TEST(with_reason(failure, d).what() == std::string("HTTP 503"));
  d.reason = "the server asks to wait 120 s";
  const Error told = with_reason(failure, d);
  BOOST_TEST(told.what() == std::string("HTTP 503; the server asks to wait 120 s"));
  BOOST_TEST(static_cast<int>(told.kind()) == static_cast<int>(FailureKind::http_status));
  d.action = RetryDecision::Action::retry;
  BOOST_TEST(with_reason(failure, d).what() == std::string("HTTP 503"));
}

BOOST_AUTO_TEST_SUITE_END()
