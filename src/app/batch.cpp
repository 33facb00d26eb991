#include "batch.hpp"

#include "error.hpp"
#include "interrupt.hpp"
#include "output.hpp"
#include "response.hpp"
#include "retry.hpp"
#include "text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iterator>
#include <random>
#include <span>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

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

namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Cuts a byte stream into numbered lines (from 1, the line break removed;
// a last line without one too).
class LineSplitter {
public:
  template<class Each>
  void feed(std::string_view bytes, Each each)
  {
    pending_.append(bytes);
    std::size_t start = 0;
    for (std::size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
      each(++line_, std::string_view(pending_).substr(start, end - start));
    }
    pending_.erase(0, start);
  }

  template<class Each>
  void finish(Each each)
  {
    if (!pending_.empty()) {
      each(++line_, std::string_view(pending_));
      pending_.clear();
    }
  }

private:
  std::string pending_;
  std::size_t line_ = 0;
};

// One blocking read of `fd` into `chunk`: the bytes read, 0 at the end.
// Throws gptq::Error (usage) when reading fails.
std::size_t read_some(int fd, std::span<char> chunk)
{
  for (;;) {
    const ssize_t got = ::read(fd, chunk.data(), chunk.size());
    if (got >= 0) {
      return static_cast<std::size_t>(got);
    }
    if (errno != EINTR) {
      throw Error(ExitStatus::usage, "stdin", std::string("cannot read: ") + std::strerror(errno));
    }
  }
}

// Gathers a whole response: batch mode asks for no stream.
class Collector : public ResponseHandler {
public:
  void on_head(const HttpResponse& head) override { response_ = head; }
  void on_body(std::string_view piece) override
  {
    if (response_.body.size() + piece.size() > limit) {
      throw Error(
        FailureKind::bad_response, ExitStatus::bad_response, "response", "the response is larger than 64 MiB");
    }
    response_.body.append(piece);
  }
  const HttpResponse& response() const { return response_; }

private:
  static constexpr std::size_t limit = std::size_t{ 64 } << 20;
  HttpResponse response_;
};

// What one line gives: its text for stdout, and a failure's line for stderr.
struct Result {
  std::string out;
  std::string err;
  ExitStatus status = ExitStatus::ok;
  bool counted = true; // false for a blank line's place holder
};

struct Pending {
  std::size_t seq; // the order of output
  BatchItem item;
};

// Says on `err` that `records` (by input line) has `what`s for lines past
// `last_line`, the input's last, if it has: they were not used. A run over
// the first lines of the same input (head -n) is fine, so this is said, not
// failed; every line of the input got its own answer.
template<class Records>
void report_past_the_end(const Records& records,
                         std::size_t last_line,
                         const std::string& option,
                         const std::string& path,
                         const std::string& what,
                         std::ostream& err)
{
  const auto past = records.upper_bound(last_line);
  if (past == records.end()) {
    return;
  }
  const auto count = static_cast<std::size_t>(std::distance(past, records.end()));
  const std::size_t last = records.rbegin()->first;
  err << "gptq: " << option << ": " << path << " has " << count << " " << what << (count == 1 ? "" : "s") << " for "
      << (count == 1 ? "line " + std::to_string(last)
                     : "lines " + std::to_string(past->first) + " to " + std::to_string(last))
      << ", past the end of the input (" << last_line << (last_line == 1 ? " line" : " lines") << "); not used\n"
      << std::flush;
}

class Batch {
public:
  Batch(const BatchSettings& settings, const BatchContext& context)
    : settings_(settings)
    , context_(context)
    , out_(context.out_fd)
    , changed_(io_)
    , allowed_(settings.jobs)
    , random_(static_cast<unsigned>(Clock::now().time_since_epoch().count()))
  {
    changed_.expires_at(Clock::time_point::max());
  }

  ExitStatus run()
  {
    auto on_end = [this](std::exception_ptr e) {
      if (e && !fatal_) {
        // stdin or stdout failed: nothing more can be done right.
        fatal_ = e;
        io_.stop();
      }
    };
    net::co_spawn(io_, read_input(), on_end);
    for (int i = 0; i < settings_.jobs; ++i) {
      ++workers_;
      net::co_spawn(io_, work(), on_end);
    }
    if (context_.err_fd >= 0 && isatty(context_.err_fd) == 1) {
      total_ = count_items();
      net::co_spawn(io_, show_progress(), on_end);
    }
    io_.run();
    erase_progress();
    if (fatal_) {
      std::rethrow_exception(fatal_);
    }
    if (!stop_message_.empty()) {
      *context_.err << context_.secrets.redact("gptq: " + stop_message_ + "; stopped with " +
                                               std::to_string(succeeded_) + " line" + (succeeded_ == 1 ? "" : "s") +
                                               " done")
                    << '\n'
                    << std::flush;
    }
    if (!another_input_.empty()) {
      throw Error(ExitStatus::usage,
                  "--resume",
                  another_input_ + (dispatch_end_ == 0
                                      ? "; stopped before sending anything"
                                      : "; stopped: the results before line " + std::to_string(first_unsent_line_) +
                                          " were written, nothing from it on was sent"));
    }
    if (input_done_ && !stopping_) {
      report_records_past_the_end();
    }
    return worst_;
  }

private:
  // Wakes every coroutine waiting in changed(): the queue, the window or
  // the allowed concurrency moved.
  void notify() { changed_.cancel(); }

  void stop_because(const std::string& why)
  {
    if (stop_message_.empty()) {
      stop_message_ = why;
    }
    dispatch_end_ = 0; // nothing more is sent
    stop();
  }

  // No new line is read or sent; what is in flight finishes.
  void stop()
  {
    stopping_ = true;
    if (input_) {
      error_code ignored;
      input_->cancel(ignored);
    }
    notify();
  }

  net::awaitable<void> changed() { co_await changed_.async_wait(use_tuple); }

  // Items are taken only this far ahead of the output, so that a slow line
  // holds a bounded number of finished ones.
  std::size_t window() const { return std::max<std::size_t>(64, 16 * static_cast<std::size_t>(settings_.jobs)); }

  net::awaitable<void> read_input()
  {
    // A pipe or terminal is read as data arrives, beside the requests; a
    // regular file (or /dev/null, which epoll refuses) never blocks for long.
    auto& stream = input_;
    struct stat st;
    if (fstat(context_.in_fd, &st) == 0 && !S_ISREG(st.st_mode)) {
      stream = std::make_unique<net::posix::stream_descriptor>(io_);
      error_code ec;
      stream->assign(::dup(context_.in_fd), ec);
      if (ec) {
        stream.reset();
      }
    }
    LineSplitter lines;
    auto add = [this](std::size_t line, std::string_view text) { add_line(line, text); };
    std::array<char, 64 * 1024> chunk;
    while (!stopping_) {
      std::size_t n = 0;
      if (stream) {
        auto [ec, got] = co_await stream->async_read_some(net::buffer(chunk), use_tuple);
        if (ec == net::error::eof || stopping_) {
          break;
        }
        if (ec) {
          throw Error(ExitStatus::usage, "stdin", "cannot read: " + ec.message());
        }
        n = got;
      } else if ((n = read_some(context_.in_fd, chunk)) == 0) {
        break;
      }
      lines.feed({ chunk.data(), n }, add);
      write_ready();
      notify();
      // Counted in lines taken, not lines waiting to be sent: lines that
      // need no request (bad, resumed, blank) must not pile up either
      // while an early line is slow.
      while (!stopping_ && next_seq_ >= written_ + window()) {
        co_await changed();
      }
    }
    if (!stopping_) {
      lines.finish(add);
    }
    input_done_ = true;
    write_ready();
    notify();
  }

  void add_line(std::size_t line, std::string_view text)
  {
    if (!another_input_.empty()) {
      return; // the rest of a chunk read before the mismatch
    }
    last_line_ = line;
    const auto record = settings_.resumed.find(line);
    if (record != settings_.resumed.end() && !is_recorded_input(record->second.input, text)) {
      stop_for_another_input(line, text, record->second);
      return;
    }
    std::optional<BatchItem> item;
    try {
      item = settings_.jsonl_in ? parse_jsonl_line(line, text) : parse_plain_line(line, text);
    } catch (const Error& e) {
      const std::size_t seq = next_seq_++;
      if (settings_.fail_fast && !stopping_) {
        // The lines before it still go; none after.
        last_seq_ = seq;
        dispatch_end_ = seq;
        stop();
      }
      finish(seq, failure(line, std::string(text), e));
      return;
    }
    if (!item) {
      // A blank line: plain output keeps its place with an empty line, so
      // that paste(1) lines the results up with the input; JSONL, whose
      // records carry their line numbers, leaves it out.
      if (!settings_.jsonl_out) {
        Result blank;
        blank.out = "\n";
        blank.counted = false;
        finish(next_seq_++, std::move(blank));
      }
      return;
    }
    const std::size_t seq = next_seq_++;
    if (record != settings_.resumed.end() && record->second.output) {
      finish(seq, success(*item, *record->second.output));
      return;
    }
    queue_.push_back({ seq, std::move(*item) });
  }

  // A --resume record is for another input than line `line` (`text`): the
  // file is another run's, and its answers would be given to the wrong
  // prompts. Nothing more is sent, from the first line not yet sent on
  // (before any request when the mismatch is in the first piece of stdin);
  // what is in flight finishes, and the results before that line are
  // written: that line's result never comes, so none after it is written.
  void stop_for_another_input(std::size_t line, std::string_view text, const ResumedRecord& record)
  {
    // Scrubbed before being cut, so that no part of a secret survives a cut.
    const auto excerpt = [this](std::string_view s) { return "\"" + context_.secrets.excerpt(s, 60) + "\""; };
    if (!text.empty() && text.back() == '\r') {
      text.remove_suffix(1);
    }
    another_input_ = "record " + settings_.resume_path + ":" + std::to_string(record.record) + " (line " +
                     std::to_string(line) + ") is for another input: it has " + excerpt(record.input) + ", line " +
                     std::to_string(line) + " is " + excerpt(text);
    const std::size_t first_unsent = queue_.empty() ? next_seq_ : queue_.front().seq;
    first_unsent_line_ = queue_.empty() ? line : queue_.front().item.line;
    dispatch_end_ = std::min(dispatch_end_, first_unsent);
    stop();
  }

  void report_records_past_the_end()
  {
    if (settings_.resumed.upper_bound(last_line_) == settings_.resumed.end()) {
      return;
    }
    erase_progress();
    std::ostringstream said;
    report_past_the_end(settings_.resumed, last_line_, "--resume", settings_.resume_path, "record", said);
    *context_.err << context_.secrets.redact(said.str()) << std::flush;
  }

  bool can_start() const
  {
    return !queue_.empty() && active_ < allowed_ && queue_.front().seq < written_ + window() &&
           queue_.front().seq < dispatch_end_;
  }

  net::awaitable<void> work()
  {
    // Counted down however the worker ends.
    const std::unique_ptr<int, void (*)(int*)> alive(&workers_, [](int* n) { --*n; });
    const auto connection = context_.connect(co_await net::this_coro::executor);
    net::steady_timer timer(io_);
    for (;;) {
      while (!can_start()) {
        // Done when nothing more will come, or what is left may not go.
        if (queue_.empty() ? input_done_ || stopping_ : queue_.front().seq >= dispatch_end_) {
          co_return;
        }
        co_await changed();
      }
      Pending pending = std::move(queue_.front());
      queue_.pop_front();
      ++active_;
      notify(); // the reader may go on
      Result result = co_await send(*connection, timer, pending.item);
      --active_;
      if (result.status != ExitStatus::ok && settings_.fail_fast && !stopping_) {
        last_seq_ = pending.seq;
        dispatch_end_ = pending.seq;
        stop();
      }
      finish(pending.seq, std::move(result));
      notify();
    }
  }

  // Sends one line's request until it succeeds or may not be tried again.
  net::awaitable<Result> send(Connection& connection, net::steady_timer& timer, const BatchItem& item)
  {
    HttpRequest request;
    try {
      request = context_.request_for(item);
    } catch (const Error& e) {
      co_return failure(item.line, item.input, e);
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::optional<Error> first; // the first try's failure, named too when the last differs
    std::optional<Clock::time_point> start;
    for (int attempt = 0;; ++attempt) {
      if (Clock::now() < not_before_) {
        timer.expires_at(not_before_);
        co_await timer.async_wait(use_tuple);
      }
      // The line's time starts with its first try, not while the batch
      // held it back.
      start = start.value_or(Clock::now());
      Collector collector;
      std::optional<Error> failed;
      try {
        co_await connection.send(request, collector, time_left(*start, std::chrono::milliseconds(1)));
      } catch (const Error& e) {
        failed = e;
      }
      const HttpResponse* error_response = nullptr;
      if (!failed) {
        const HttpResponse& response = collector.response();
        if (response.status >= 200 && response.status < 300) {
          co_return answered(item, response, first, attempt + 1);
        }
        failed = Error(FailureKind::http_status,
                       exit_status_for_http(response.status),
                       "",
                       describe_error_response(response, context_.secrets, request.url.text()));
        error_response = &response;
        // Failures no other line can escape stop the batch.
        if (response.status == 429 && response.body.find("insufficient_quota") != std::string::npos) {
          stop_because("the account's quota is used up (insufficient_quota)");
        } else if (response.status == 401 || response.status == 403) {
          stop_because("the server refused the key (HTTP " + std::to_string(response.status) + ")");
        }
      }
      if (!first) {
        first = failed;
      }
      const TryState state{ attempt, settings_.retries, false, time_left(*start, std::chrono::milliseconds::min()) };
      const RetryDecision decision =
        decide_retry(*failed, error_response, state, std::chrono::system_clock::now(), unit(random_));
      if (decision.overloaded) {
        slow_down(decision.wait);
      }
      // Other lines' 429 or 503 may hold every worker back longer.
      const auto wait =
        std::max(decision.wait, std::chrono::ceil<std::chrono::milliseconds>(not_before_ - Clock::now()));
      if (decision.action == RetryDecision::Action::give_up || stopping_ ||
          (state.time_left && wait >= *state.time_left)) {
        co_return failure(item.line,
                          item.input,
                          with_first_failure(with_reason(*failed, decision), *first, attempt + 1, context_.secrets));
      }
      timer.expires_after(wait);
      co_await timer.async_wait(use_tuple);
    }
  }

  // The result of `item` whose request, sent `tries` times (the first
  // failing with `first`, if it did), got the 2xx `response`.
  Result answered(const BatchItem& item, const HttpResponse& response, const std::optional<Error>& first, int tries)
  {
    if (auto compressed = unsupported_encoding(response)) {
      return failure(
        item.line, item.input, Error(FailureKind::bad_response, ExitStatus::bad_response, "response", *compressed));
    }
    BatchResult reply = completion_result(response.body, context_.secrets);
    if (!reply.output) {
      const Error bad(static_cast<ExitStatus>(reply.status), "", reply.message);
      return failure(item.line, item.input, first ? with_first_failure(bad, *first, tries, context_.secrets) : bad);
    }
    succeeded();
    return success(item, *reply.output);
  }

  // What is left of the line's --timeout, started at `start`, at least
  // `least`; nullopt without --timeout.
  std::optional<std::chrono::milliseconds> time_left(Clock::time_point start, std::chrono::milliseconds least) const
  {
    if (!settings_.timeout) {
      return std::nullopt;
    }
    return std::max(least,
                    *settings_.timeout - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start));
  }

  // A 429 or 503 slows the whole batch: the number of requests in flight
  // halves (multiplicative decrease), and every worker waits `wait`, as the
  // server asked.
  void slow_down(std::chrono::milliseconds wait)
  {
    allowed_ = std::max(1, allowed_ / 2);
    successes_ = 0;
    not_before_ = std::max(not_before_, Clock::now() + wait);
  }

  void succeeded()
  {
    // Additive increase: one more request in flight per `allowed_` successes.
    if (allowed_ < settings_.jobs && ++successes_ >= allowed_) {
      ++allowed_;
      successes_ = 0;
      notify();
    }
  }

  Result success(const BatchItem& item, const std::string& output) const
  {
    return of(answered_line(item.line, item.input, output, settings_.jsonl_out));
  }

  Result failure(std::size_t line, const std::string& input, const Error& e) const
  {
    return of(failed_line(line, input, e, settings_.jsonl_out, context_.secrets));
  }

  static Result of(LineResult formatted)
  {
    Result r;
    r.out = std::move(formatted.out);
    r.err = std::move(formatted.err);
    r.status = formatted.status;
    return r;
  }

  void finish(std::size_t seq, Result result)
  {
    done_.emplace(seq, std::move(result));
    write_ready();
  }

  // The number of lines that will be sent, when stdin is a regular file
  // (read with pread, which leaves the reading position alone); 0 when
  // unknown.
  std::size_t count_items() const
  {
    struct stat st;
    if (fstat(context_.in_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      return 0;
    }
    std::size_t count = 0;
    bool blank = true;
    std::array<char, 64 * 1024> chunk;
    for (off_t at = lseek(context_.in_fd, 0, SEEK_CUR);;) {
      const ssize_t got = ::pread(context_.in_fd, chunk.data(), chunk.size(), at);
      if (got <= 0) {
        break;
      }
      for (const char c : std::string_view(chunk.data(), static_cast<std::size_t>(got))) {
        if (c == '\n') {
          count += blank ? 0 : 1;
          blank = true;
        } else if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') {
          blank = false; // as trim() sees it, which decides what is skipped
        }
      }
      at += got;
    }
    return count + (blank ? 0 : 1);
  }

  // Redraws the progress line four times a second while workers run.
  net::awaitable<void> show_progress()
  {
    const auto start = Clock::now();
    net::steady_timer timer(io_);
    while (workers_ > 0) {
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      const std::size_t done = succeeded_ + failed_;
      const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
      char text[160];
      int n = total_ ? std::snprintf(text, sizeof text, "gptq: %zu/%zu lines", done, total_)
                     : std::snprintf(text, sizeof text, "gptq: %zu lines", done);
      n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ", %zu failed, %.1f/s", failed_, rate);
      if (total_ && rate > 0 && done < total_) {
        const auto left = static_cast<long>(static_cast<double>(total_ - done) / rate);
        std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ", %ldm%02lds left", left / 60, left % 60);
      }
      draw_progress(text);
      timer.expires_after(std::chrono::milliseconds(250));
      co_await timer.async_wait(use_tuple);
    }
  }

  // Overwrites the progress line with `text` (no escape sequences: spaces
  // cover what a longer line left).
  void draw_progress(const std::string& text)
  {
    std::string line(1, '\r');
    line += text;
    if (text.size() < progress_width_) {
      line.append(progress_width_ - text.size(), ' ');
      line += '\r';
      line += text;
    }
    progress_width_ = text.size();
    set_progress_line_open(true);
    [[maybe_unused]] const auto n = ::write(context_.err_fd, line.data(), line.size());
  }

  void erase_progress()
  {
    if (progress_width_ == 0) {
      return;
    }
    // Appended, not "\r" + string: GCC 12 warns falsely (-Wrestrict) on that.
    std::string blank(1, '\r');
    blank.append(progress_width_, ' ');
    blank += '\r';
    [[maybe_unused]] const auto n = ::write(context_.err_fd, blank.data(), blank.size());
    progress_width_ = 0;
    set_progress_line_open(false);
  }

  // Writes the finished results that are next in input order.
  void write_ready()
  {
    while (!done_.empty() && done_.begin()->first == written_ && written_ <= last_seq_) {
      Result& r = done_.begin()->second;
      out_.write(r.out);
      if (!r.err.empty()) {
        erase_progress();
        *context_.err << r.err << std::flush;
      }
      if (r.counted && r.status == ExitStatus::ok) {
        ++succeeded_;
      } else if (r.counted) {
        ++failed_;
        if (batch_severity(r.status) > batch_severity(worst_)) {
          worst_ = r.status;
        }
      }
      done_.erase(done_.begin());
      ++written_;
    }
  }

  const BatchSettings& settings_;
  const BatchContext& context_;
  net::io_context io_;
  ReplyWriter out_;
  net::steady_timer changed_;
  std::unique_ptr<net::posix::stream_descriptor> input_; // stdin, when it can wait for data
  std::deque<Pending> queue_;
  std::map<std::size_t, Result> done_;
  std::size_t next_seq_ = 0;
  std::size_t written_ = 0;
  std::size_t last_seq_ = static_cast<std::size_t>(-1);     // --fail-fast: nothing after this is written
  std::size_t dispatch_end_ = static_cast<std::size_t>(-1); // no line from this one on is sent
  std::size_t succeeded_ = 0;
  std::size_t failed_ = 0;
  std::size_t total_ = 0;          // lines to send, when known
  std::size_t progress_width_ = 0; // of the progress line on the terminal; 0: none shown
  int workers_ = 0;
  bool input_done_ = false;
  bool stopping_ = false;
  int active_ = 0;
  int allowed_;       // requests allowed in flight now (AIMD)
  int successes_ = 0; // since the last change of allowed_
  Clock::time_point not_before_{};
  std::string stop_message_;
  std::string another_input_;         // --resume: why the batch stopped, when a record is for another input
  std::size_t first_unsent_line_ = 0; // then: the first line not sent
  std::size_t last_line_ = 0;         // the last input line read
  ExitStatus worst_ = ExitStatus::ok;
  std::exception_ptr fatal_;
  std::minstd_rand random_;
};

// Calls `each(line, text)` for every line of `fd`, reading as it goes.
template<class Each>
void for_each_line(int fd, Each each)
{
  LineSplitter lines;
  std::array<char, 64 * 1024> chunk;
  for (std::size_t n; (n = read_some(fd, chunk)) > 0;) {
    lines.feed({ chunk.data(), n }, each);
  }
  lines.finish(each);
}

// The item of one input line, or nullopt for a line to skip; a line that
// cannot be read as one is reported on `err` and raises `worst`.
std::optional<BatchItem> item_of(const BatchSettings& settings,
                                 std::size_t line,
                                 std::string_view text,
                                 std::ostream& err,
                                 ExitStatus& worst)
{
  try {
    return settings.jsonl_in ? parse_jsonl_line(line, text) : parse_plain_line(line, text);
  } catch (const Error& e) {
    err << failed_line(line, text, e, false).err << std::flush;
    if (batch_severity(e.status()) > batch_severity(worst)) {
      worst = e.status();
    }
    return std::nullopt;
  }
}

} // namespace

ExitStatus emit_batch(const BatchSettings& settings,
                      int in_fd,
                      std::ostream& file,
                      std::ostream& err,
                      const std::function<std::string(const BatchItem&)>& body_for)
{
  ExitStatus worst = ExitStatus::ok;
  for_each_line(in_fd, [&](std::size_t line, std::string_view text) {
    const auto item = item_of(settings, line, text, err, worst);
    if (!item) {
      return;
    }
    try {
      file << batch_request_line(item->line, body_for(*item));
    } catch (const Error& e) {
      // As run_batch reports a line whose request cannot be made.
      err << failed_line(line, item->input, e, false).err << std::flush;
      if (batch_severity(e.status()) > batch_severity(worst)) {
        worst = e.status();
      }
    }
  });
  return worst;
}

ExitStatus from_batch(const BatchSettings& settings,
                      const std::map<std::size_t, BatchResult>& results,
                      const std::string& path,
                      std::optional<int> in_fd,
                      int out_fd,
                      std::ostream& err)
{
  ReplyWriter out(out_fd);
  ExitStatus worst = ExitStatus::ok;
  auto write = [&](const LineResult& result) {
    out.write(result.out);
    if (!result.err.empty()) {
      err << result.err << std::flush;
    }
    if (batch_severity(result.status) > batch_severity(worst)) {
      worst = result.status;
    }
  };
  auto fail =
    [&](std::size_t line, std::optional<std::string_view> input, ExitStatus status, const std::string& message) {
      write(failed_line(line, input, Error(status, "", message), settings.jsonl_out));
    };
  if (!in_fd) {
    // The map is ordered by line number, as the input was.
    for (const auto& [line, result] : results) {
      if (!result.output) {
        fail(line, std::nullopt, static_cast<ExitStatus>(result.status), result.message);
      } else {
        write(answered_line(line, std::nullopt, *result.output, settings.jsonl_out));
      }
    }
    return worst;
  }
  std::size_t last_line = 0;
  for_each_line(*in_fd, [&](std::size_t line, std::string_view text) {
    last_line = line;
    std::optional<BatchItem> item;
    try {
      item = settings.jsonl_in ? parse_jsonl_line(line, text) : parse_plain_line(line, text);
    } catch (const Error& e) {
      // As run_batch does: the line keeps its place in the output.
      fail(line, text, e.status(), e.what());
      return;
    }
    if (!item) {
      if (!settings.jsonl_out) {
        out.write("\n"); // as run_batch does: the blank line keeps its place
      }
      return;
    }
    const auto found = results.find(line);
    if (found == results.end()) {
      fail(line, item->input, ExitStatus::bad_response, "no result for this line in " + path);
    } else if (!found->second.output) {
      fail(line, item->input, static_cast<ExitStatus>(found->second.status), found->second.message);
    } else {
      write(answered_line(line, item->input, *found->second.output, settings.jsonl_out));
    }
  });
  report_past_the_end(results, last_line, "--from-batch", path, "result", err);
  return worst;
}

ExitStatus run_batch(const BatchSettings& settings, const BatchContext& context)
{
  Batch batch(settings, context);
  return batch.run();
}

} // namespace gptq
