#pragma once

namespace gptq {

// The process exit codes. This table is the contract with scripts: the man
// page's EXIT STATUS section and README.md list exactly these, and a test
// keeps them in sync. Never renumber; only append.
enum class ExitStatus : int {
  ok = 0,               // the reply was written
  internal = 1,         // a bug or an unexpected local failure (out of memory, stdout write error)
  usage = 2,            // bad option or value, empty prompt, invalid UTF-8, unreadable file
  auth = 3,             // no API key where one is needed, HTTP 401/403
  network = 4,          // resolve, connect, TLS/certificate, timeout, dropped before a response
  rejected = 5,         // the request was refused: other HTTP 4xx, a refusal
  rate_limit = 6,       // HTTP 429, 402
  server = 7,           // HTTP 5xx
  bad_response = 8,     // malformed or truncated response, no reply content
  batch_unfinished = 9, // the Batch API's batch ended (expired, cancelled) with lines unanswered
  interrupted = 130,    // SIGINT (Ctrl-C), as a shell reports it
  stdout_closed = 141,  // the reader of stdout went away, as a shell reports SIGPIPE
  hangup = 129,         // SIGHUP (the terminal closed), as a shell reports it
  terminated = 143,     // SIGTERM (kill, timeout), as a shell reports it
};

// Every status above, for the tests that keep the documentation in sync.
inline constexpr ExitStatus all_exit_statuses[] = {
  ExitStatus::ok,           ExitStatus::internal,         ExitStatus::usage,         ExitStatus::auth,
  ExitStatus::network,      ExitStatus::rejected,         ExitStatus::rate_limit,    ExitStatus::server,
  ExitStatus::bad_response, ExitStatus::interrupted,      ExitStatus::stdout_closed, ExitStatus::hangup,
  ExitStatus::terminated,   ExitStatus::batch_unfinished,
};

} // namespace gptq
