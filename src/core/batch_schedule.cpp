#include "batch_schedule.hpp"

#include <algorithm>
#include <utility>

namespace gptq {

int batch_severity(ExitStatus status)
{
  // Failures that concern every line (the key, the network, the quota)
  // outrank those of single lines; among those, a server's fault outranks
  // what one prompt did.
  switch (status) {
    case ExitStatus::ok:
      return 0;
    case ExitStatus::usage:
      return 1;
    case ExitStatus::rejected:
      return 2;
    case ExitStatus::bad_response:
      return 3;
    case ExitStatus::server:
    case ExitStatus::batch_unfinished: // the provider's batch as a whole
      return 4;
    case ExitStatus::rate_limit:
      return 5;
    case ExitStatus::network:
      return 6;
    case ExitStatus::auth:
      return 7;
    case ExitStatus::internal:
      return 8;
    case ExitStatus::interrupted:
    case ExitStatus::hangup:
    case ExitStatus::terminated:
      return 9;
    case ExitStatus::stdout_closed:
      return 10;
  }
  return 8;
}

BatchSchedule::BatchSchedule(int jobs, bool fail_fast)
  : jobs_(std::max(1, jobs))
  , fail_fast_(fail_fast)
  , allowed_(jobs_)
{
}

std::size_t BatchSchedule::window() const
{
  return std::max<std::size_t>(64, 16 * static_cast<std::size_t>(jobs_));
}

bool BatchSchedule::read_ahead_full() const
{
  return !stopping_ && next_seq_ >= written_ + window();
}

void BatchSchedule::queue(BatchItem item)
{
  queue_.push_back({ next_seq_++, std::move(item) });
}

bool BatchSchedule::add_result(LineResult result)
{
  return settle(next_seq_++, std::move(result));
}

void BatchSchedule::input_ended()
{
  input_done_ = true;
}

bool BatchSchedule::input_done() const
{
  return input_done_;
}

bool BatchSchedule::may_start() const
{
  return !queue_.empty() && active_ < allowed_ && queue_.front().seq < written_ + window() &&
         queue_.front().seq < dispatch_end_;
}

bool BatchSchedule::nothing_left_to_start() const
{
  return queue_.empty() ? input_done_ || stopping_ : queue_.front().seq >= dispatch_end_;
}

BatchSchedule::Queued BatchSchedule::start()
{
  Queued next = std::move(queue_.front());
  queue_.pop_front();
  ++active_;
  return next;
}

bool BatchSchedule::finish(std::size_t seq, LineResult result)
{
  --active_;
  return settle(seq, std::move(result));
}

bool BatchSchedule::settle(std::size_t seq, LineResult result)
{
  const bool stops = result.status != ExitStatus::ok && fail_fast_ && !stopping_;
  if (stops) {
    // The lines before it still go; none after.
    last_seq_ = seq;
    stop_at(seq);
  }
  done_.emplace(seq, std::move(result));
  return stops;
}

void BatchSchedule::stop_at(std::size_t seq)
{
  dispatch_end_ = std::min(dispatch_end_, seq);
  stopping_ = true;
}

bool BatchSchedule::succeeded()
{
  if (allowed_ < jobs_ && ++successes_ >= allowed_) {
    ++allowed_;
    successes_ = 0;
    return true;
  }
  return false;
}

void BatchSchedule::rate_limited(Clock::time_point until)
{
  allowed_ = std::max(1, allowed_ / 2);
  successes_ = 0;
  not_before_ = std::max(not_before_, until);
}

void BatchSchedule::stop_because(std::string why)
{
  if (stop_message_.empty()) {
    stop_message_ = std::move(why);
  }
  stop_at(0);
}

void BatchSchedule::stop_for_another_input(std::size_t line, std::string why)
{
  another_input_ = std::move(why);
  first_unsent_line_ = queue_.empty() ? line : queue_.front().item.line;
  stop_at(queue_.empty() ? next_seq_ : queue_.front().seq);
}

std::optional<std::string> BatchSchedule::stop_summary() const
{
  if (stop_message_.empty()) {
    return std::nullopt;
  }
  return stop_message_ + "; stopped with " + std::to_string(succeeded_) + " line" + (succeeded_ == 1 ? "" : "s") +
         " done";
}

std::optional<std::string> BatchSchedule::another_input_error() const
{
  if (another_input_.empty()) {
    return std::nullopt;
  }
  return another_input_ + (dispatch_end_ == 0
                             ? "; stopped before sending anything"
                             : "; stopped: the results before line " + std::to_string(first_unsent_line_) +
                                 " were written, nothing from it on was sent");
}

std::optional<LineResult> BatchSchedule::next_to_write()
{
  if (done_.empty() || done_.begin()->first != written_ || written_ > last_seq_) {
    return std::nullopt;
  }
  LineResult result = std::move(done_.begin()->second);
  done_.erase(done_.begin());
  ++written_;
  if (result.counted && result.status == ExitStatus::ok) {
    ++succeeded_;
  } else if (result.counted) {
    ++failed_;
    if (batch_severity(result.status) > batch_severity(worst_)) {
      worst_ = result.status;
    }
  }
  return result;
}

} // namespace gptq
