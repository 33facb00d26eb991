#pragma once

#include "batch_format.hpp"
#include "exit_status.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace gptq {

// The order in which a batch's statuses outrank each other, for its final
// exit status: a higher number wins.
int batch_severity(ExitStatus status);

// The decisions of batch mode (-L) without any I/O, so that they can be
// tested without time or sockets: which line a worker sends next and when,
// how many requests may be in flight, what is written next, and when and
// why the batch stops. The engine (batch.cpp) tells it what happened and
// asks it what to do; it never waits or writes itself.
//
// Every line read gets a place in the output order ("seq", from 0) at once,
// whether it needs a request or not; results are written in that order, as
// soon as all earlier ones are known.
class BatchSchedule {
public:
  using Clock = std::chrono::steady_clock;

  // A line waiting to be sent, with its place in the output.
  struct Queued {
    std::size_t seq;
    BatchItem item;
  };

  // At most `jobs` (at least 1) requests in flight. With `fail_fast`, the
  // first failed line stops the batch: the lines before it still go and
  // are written, nothing after it is sent or written.
  BatchSchedule(int jobs, bool fail_fast);

  // True when the reader must wait before taking another line: the batch
  // is not stopping and the reader is window() lines ahead of the output.
  // Counted in lines taken, not lines waiting to be sent, so that lines
  // that need no request (bad, resumed, blank) do not pile up either while
  // an early line is slow.
  bool read_ahead_full() const;

  // How far ahead of the output lines are taken, so that a slow line holds
  // a bounded number of finished ones: 16 per job, at least 64.
  std::size_t window() const;

  // A line read that needs a request: it waits behind the others.
  void queue(BatchItem item);

  // A line read that needs no request (a blank line's place holder, a line
  // that cannot make a request, a resumed result): its result is known.
  // Returns true when it stops the batch (a failure under fail_fast).
  [[nodiscard]] bool add_result(LineResult result);

  // The input ended, or its reading stopped: no line will be queued.
  void input_ended();
  bool input_done() const;

  // True when a worker may send the next queued line now: fewer than
  // allowed() requests are in flight, the line is within window() of the
  // output, and the batch has not stopped before it.
  bool may_start() const;

  // True when no line will start any more: nothing is or will be queued,
  // or the next queued line comes after where the batch stopped.
  bool nothing_left_to_start() const;

  // Takes the next queued line, which is then in flight. Call only when
  // may_start().
  Queued start();

  // The line at `seq`, taken with start(), is done with `result` (after
  // all its tries). Returns true when it stops the batch (a failure under
  // fail_fast).
  [[nodiscard]] bool finish(std::size_t seq, LineResult result);

  // A request succeeded (additive increase): after as many successes as
  // allowed() is at the time, one more request may be in flight, up to
  // `jobs`. Returns true when allowed() grew.
  [[nodiscard]] bool succeeded();

  // The server asked every client to slow down (a 429 or 503) and to wait
  // until `until` (multiplicative decrease): allowed() halves, at least 1,
  // and no try starts before `until` (the latest such time wins).
  void rate_limited(Clock::time_point until);

  // The requests allowed in flight now, from `jobs` down to 1.
  int allowed() const { return allowed_; }

  // No try may start before this time (a rate limit's wait).
  Clock::time_point not_before() const { return not_before_; }

  // Stops the batch for `why`, a failure that no other line can escape (the
  // quota used up, a key the server refuses): nothing more is read or
  // sent; what is in flight finishes and is written. The first reason is
  // the one kept.
  void stop_because(std::string why);

  // --resume: the record for line `line` is for another input (`why`, the
  // records and lines named). Nothing more is read, and nothing is sent
  // from the first line not yet sent on (`line` itself when every line
  // before it was sent); what is in flight finishes, and the results before
  // that line are written.
  void stop_for_another_input(std::size_t line, std::string why);

  // True once anything stopped the batch.
  bool stopping() const { return stopping_; }

  // True once stop_for_another_input was called.
  bool stopped_for_another_input() const { return !another_input_.empty(); }

  // The line to report (without "gptq: ") when stop_because stopped the
  // batch: "WHY; stopped with N lines done"; nullopt when it did not.
  std::optional<std::string> stop_summary() const;

  // The message of the --resume error after stop_for_another_input, saying
  // how far the batch got; nullopt when it was not called.
  std::optional<std::string> another_input_error() const;

  // Takes the next result to write, in input order, and counts it; nullopt
  // when that line's result is not known yet, or when it comes after the
  // line that stopped the batch under fail_fast.
  std::optional<LineResult> next_to_write();

  // Counts of the lines written (place holders not counted), and the most
  // severe status among them by batch_severity (ok when none failed).
  std::size_t lines_succeeded() const { return succeeded_; }
  std::size_t lines_failed() const { return failed_; }
  ExitStatus worst() const { return worst_; }

private:
  bool settle(std::size_t seq, LineResult result);
  void stop_at(std::size_t seq);

  int jobs_;
  bool fail_fast_;
  std::deque<Queued> queue_;
  std::map<std::size_t, LineResult> done_;
  std::size_t next_seq_ = 0;
  std::size_t written_ = 0;
  std::size_t last_seq_ = static_cast<std::size_t>(-1);     // fail_fast: nothing after this is written
  std::size_t dispatch_end_ = static_cast<std::size_t>(-1); // no line from this one on is sent
  std::size_t succeeded_ = 0;
  std::size_t failed_ = 0;
  ExitStatus worst_ = ExitStatus::ok;
  bool input_done_ = false;
  bool stopping_ = false;
  int active_ = 0;    // requests in flight
  int allowed_;       // requests allowed in flight now
  int successes_ = 0; // since the last change of allowed_
  Clock::time_point not_before_{};
  std::string stop_message_;          // stop_because's first reason
  std::string another_input_;         // stop_for_another_input's reason
  std::size_t first_unsent_line_ = 0; // then: the first line not sent
};

} // namespace gptq
