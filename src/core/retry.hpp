#pragma once

#include "error.hpp"
#include "headers.hpp"
#include "response.hpp"
#include "secrets.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gptq {

// The longest wait a server may ask for that gptq waits out; past it, gptq
// fails at once and says when to try again.
inline constexpr std::chrono::seconds max_retry_wait{ 60 };

// True when a response with `status` and error `body` may succeed if sent
// again: 408, 409, 429, 500, 502, 503 and 504, except a 429 whose error
// code is insufficient_quota (it cannot succeed until billing changes).
bool is_retryable_status(int status, std::string_view body);

// True when `failure`, which came before any byte of a response, may
// succeed if the request is sent again: a failure to resolve, connect or
// reach the network (the server restarting, a network blip), unless it is
// lasting (a name that does not exist). Not certificate, TLS, proxy or
// time-limit failures, which another try would repeat.
bool is_retryable_failure(const Error& failure);

// The wait the server asks for, from `retry-after-ms` (milliseconds), then
// `Retry-After` (seconds, or an HTTP date relative to `now`); nullopt when
// it asks for none or the value cannot be read. A date in the past is 0.
std::optional<std::chrono::milliseconds> server_retry_wait(const Headers& headers,
                                                           std::chrono::system_clock::time_point now);

// The server's explicit verdict from `x-should-retry: true|false`, if any.
std::optional<bool> server_says_retry(const Headers& headers);

// The wait before retry number `retry` (0 for the first): half a second
// doubled each time, at most 8 s, less up to a quarter at random
// (`random01` in [0, 1)) so that many clients do not retry in step.
std::chrono::milliseconds backoff_wait(int retry, double random01);

// Returns `last`, the failure of the last of `tries` tries, with `first`,
// the first try's failure, added to its message when it was another (a 503,
// then a reset connection): the first is often the cause, the last only
// what the retries ran into. `first`'s text is redacted of `secrets`
// before it is cut to an excerpt, so that the cut cannot leave part of a
// secret. Status and phase are `last`'s.
Error with_first_failure(const Error& last, const Error& first, int tries, const Secrets& secrets);

// Where one request stands after a failed try, for decide_retry.
struct TryState {
  int attempt = 0;            // the try that failed: 0 for the first
  int retries = 0;            // the most tries allowed after the first (--retries)
  bool reply_started = false; // part of the reply was written, which another try would repeat
  // Until the request's deadline (--timeout), when it has one.
  std::optional<std::chrono::milliseconds> time_left;
};

// What follows a failed try.
struct RetryDecision {
  enum class Action { retry, give_up };
  Action action = Action::give_up;
  // The wait before the retry. Also set when the failure could be retried
  // but no try or time is left, so that `overloaded` can say how long.
  std::chrono::milliseconds wait{ 0 };
  // The server is overloaded (a 429 or 503 another try may mend), whether
  // or not this request is tried again: batch mode slows every worker.
  bool overloaded = false;
  // What the user is told. Giving up: what to add to the failure's own
  // message (empty when it says all). Retrying: which retry, and the wait.
  std::string reason;
};

// The one retry policy, of one-shot and batch mode alike: decides whether
// the request that failed with `failure` is sent again, and after what
// wait. `response` is the server's error response (status, headers, the
// start of its body) when the failure is one, else null. Gives up after
// reply text was written; after a failure is_retryable_failure or
// is_retryable_status rejects (`x-should-retry` has the last word over the
// status); when the server asks for a wait over max_retry_wait (saying
// so); when no retry is left, or the wait would reach the deadline.
// Otherwise waits as the server asks (server_retry_wait, at `now`) or
// backs off (backoff_wait, with `random01`).
RetryDecision decide_retry(const Error& failure,
                           const HttpResponse* response,
                           const TryState& state,
                           std::chrono::system_clock::time_point now,
                           double random01);

// Returns `failure` with the reason `decision` gives for giving up added to
// its message, when there is one.
Error with_reason(const Error& failure, const RetryDecision& decision);

} // namespace gptq
