#include "retry.hpp"

#include "json_access.hpp"
#include "text.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

namespace gptq {

bool is_retryable_failure(const Error& failure)
{
  const FailureKind kind = failure.kind();
  return (kind == FailureKind::connect || kind == FailureKind::network || kind == FailureKind::resolve) &&
         !failure.lasting();
}

bool is_retryable_status(int status, std::string_view body)
{
  switch (status) {
    case 429: {
      boost::system::error_code ec;
      const auto parsed = boost::json::parse(body, ec);
      if (!ec) {
        if (const auto* error = json_member(parsed, "error")) {
          if (json_string(*error, "code") == "insufficient_quota" ||
              json_string(*error, "type") == "insufficient_quota") {
            return false;
          }
        }
      }
      return true;
    }
    case 408:
    case 409:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

std::optional<std::chrono::milliseconds> server_retry_wait(const Headers& headers,
                                                           std::chrono::system_clock::time_point now)
{
  if (auto ms = find_header(headers, "retry-after-ms")) {
    double value = 0;
    const auto [end, ec] = std::from_chars(ms->data(), ms->data() + ms->size(), value);
    if (ec == std::errc() && end == ms->data() + ms->size() && std::isfinite(value) && value >= 0 && value < 1e12) {
      return std::chrono::milliseconds(static_cast<long long>(value));
    }
  }
  auto after = find_header(headers, "retry-after");
  if (!after) {
    return std::nullopt;
  }
  double seconds = 0;
  const auto [end, ec] = std::from_chars(after->data(), after->data() + after->size(), seconds);
  if (ec == std::errc() && end == after->data() + after->size() && std::isfinite(seconds) && seconds >= 0 &&
      seconds < 1e9) {
    return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  }
  // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  const char* parsed = strptime(after->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!parsed || *parsed != '\0') {
    return std::nullopt;
  }
  const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(when - now));
}

std::optional<bool> server_says_retry(const Headers& headers)
{
  const auto value = find_header(headers, "x-should-retry");
  if (value == "true") {
    return true;
  }
  if (value == "false") {
    return false;
  }
  return std::nullopt;
}

std::chrono::milliseconds backoff_wait(int retry, double random01)
{
  // 2^retry as a shift: std::pow is gptq's only use of libm.
  const double base = std::min(0.5 * static_cast<double>(1 << std::clamp(retry, 0, 10)), 8.0);
  const double jittered = base * (1.0 - 0.25 * std::clamp(random01, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<long long>(jittered * 1000));
}

Error with_first_failure(const Error& last, const Error& first, int tries, const Secrets& secrets)
{
  if (tries < 2 || (first.phase() == last.phase() && std::string_view(first.what()) == last.what())) {
    return last;
  }
  const std::string said = first.phase().empty() ? first.what() : first.phase() + ": " + first.what();
  return last.with_message(std::string(last.what()) + "; the first of " + std::to_string(tries) +
                           " tries failed with " + secrets.excerpt(said, 200));
}

namespace {

RetryDecision give_up(std::string reason = {})
{
  RetryDecision decision;
  decision.reason = std::move(reason);
  return decision;
}

} // namespace

RetryDecision decide_retry(const Error& failure,
                           const HttpResponse* response,
                           const TryState& state,
                           std::chrono::system_clock::time_point now,
                           double random01)
{
  if (state.reply_started) {
    return give_up("the reply is incomplete");
  }
  RetryDecision decision;
  if (!response) {
    if (!is_retryable_failure(failure)) {
      return give_up();
    }
    decision.wait = backoff_wait(state.attempt, random01);
  } else {
    const auto verdict = server_says_retry(response->headers);
    if (verdict == false || (!verdict && !is_retryable_status(response->status, response->body))) {
      return give_up();
    }
    const auto asked = server_retry_wait(response->headers, now);
    if (asked && *asked > max_retry_wait) {
      return give_up(
        "the server asks to wait " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*asked).count()) +
        " s before trying again, longer than gptq waits (" + std::to_string(max_retry_wait.count()) + " s)");
    }
    decision.wait = asked ? *asked : backoff_wait(state.attempt, random01);
    decision.overloaded = response->status == 429 || response->status == 503;
  }
  if (state.attempt >= state.retries || (state.time_left && decision.wait >= *state.time_left)) {
    return decision; // gives up; the failure says all
  }
  decision.action = RetryDecision::Action::retry;
  decision.reason = "retry " + std::to_string(state.attempt + 1) + " of " + std::to_string(state.retries) + " in " +
                    std::to_string(decision.wait.count()) + " ms";
  return decision;
}

Error with_reason(const Error& failure, const RetryDecision& decision)
{
  if (decision.action == RetryDecision::Action::retry || decision.reason.empty()) {
    return failure;
  }
  return failure.with_message(std::string(failure.what()) + "; " + decision.reason);
}

} // namespace gptq
