#include "batch.hpp"

#include "batch_progress.hpp"
#include "error.hpp"
#include "output.hpp"
#include "progress_line.hpp"
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
#include <cstring>
#include <iterator>
#include <random>
#include <span>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace gptq {

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

// What one line gives (batch_schedule.hpp), as the formatting below names it.
using Result = LineResult;

// Says on `err` that `records` (by input line) has `what`s for lines past
// `last_line`, the input's last, if it has: they were not used. A run over
// the first lines of the same input (head -n) is fine, so this is said, not
// failed; every line of the input got its own answer.
void report_past_the_end(const std::vector<std::size_t>& lines,
                         std::size_t last_line,
                         const std::string& option,
                         const std::string& path,
                         const std::string& what,
                         std::ostream& err)
{
  const auto past = std::upper_bound(lines.begin(), lines.end(), last_line);
  if (past == lines.end()) {
    return;
  }
  const auto count = static_cast<std::size_t>(std::distance(past, lines.end()));
  const std::size_t last = lines.back();
  err << "gptq: " << option << ": " << path << " has " << count << " " << what << (count == 1 ? "" : "s") << " for "
      << (count == 1 ? "line " + std::to_string(last)
                     : "lines " + std::to_string(*past) + " to " + std::to_string(last))
      << ", past the end of the input (" << last_line << (last_line == 1 ? " line" : " lines") << "); not used\n"
      << std::flush;
}

// The keys of `records`, in order.
template<class Records>
std::vector<std::size_t> keys_of(const Records& records)
{
  std::vector<std::size_t> keys;
  keys.reserve(records.size());
  for (const auto& record : records) {
    keys.push_back(record.first);
  }
  return keys;
}

// The driving of run_batch on Asio: stdin read as it arrives, one
// coroutine per worker, the timers, and the writing of results. What to do
// next is asked of the schedule, which is told everything that happens.
class Batch {
public:
  Batch(const BatchSettings& settings, const BatchContext& context)
    : settings_(settings)
    , context_(context)
    , out_(context.out_fd)
    , changed_(io_)
    , schedule_(settings.jobs, settings.fail_fast)
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
      progress_.emplace(context_.err_fd);
      net::co_spawn(io_, show_progress(), on_end);
    }
    io_.run();
    erase_progress();
    if (fatal_) {
      std::rethrow_exception(fatal_);
    }
    if (const auto summary = schedule_.stop_summary()) {
      *context_.err << context_.secrets.redact("gptq: " + *summary) << '\n' << std::flush;
    }
    if (const auto error = schedule_.another_input_error()) {
      throw Error(ExitStatus::usage, "--resume", *error);
    }
    if (schedule_.input_done() && !schedule_.stopping()) {
      report_records_past_the_end();
    }
    return schedule_.worst();
  }

private:
  // Wakes every coroutine waiting in changed(): the queue, the window or
  // the allowed concurrency moved.
  void notify() { changed_.cancel(); }

  void stop_because(const std::string& why)
  {
    schedule_.stop_because(why);
    stop();
  }

  // Follows the schedule's stop: no new line is read, and the workers look
  // again at what they may send; what is in flight finishes.
  void stop()
  {
    if (input_) {
      error_code ignored;
      input_->cancel(ignored);
    }
    notify();
  }

  net::awaitable<void> changed() { co_await changed_.async_wait(use_tuple); }

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
    while (!schedule_.stopping()) {
      std::size_t n = 0;
      if (stream) {
        auto [ec, got] = co_await stream->async_read_some(net::buffer(chunk), use_tuple);
        if (ec == net::error::eof || schedule_.stopping()) {
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
      while (schedule_.read_ahead_full()) {
        co_await changed();
      }
    }
    if (!schedule_.stopping()) {
      lines.finish(add);
    }
    schedule_.input_ended();
    write_ready();
    notify();
  }

  void add_line(std::size_t line, std::string_view text)
  {
    if (schedule_.stopped_for_another_input()) {
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
      add_result(failure(line, std::string(text), e));
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
        add_result(std::move(blank));
      }
      return;
    }
    if (record != settings_.resumed.end() && record->second.output) {
      add_result(success(*item, *record->second.output));
      return;
    }
    schedule_.queue(std::move(*item));
  }

  // A line that needs no request: its result is known.
  void add_result(Result result)
  {
    if (schedule_.add_result(std::move(result))) {
      stop();
    }
    write_ready();
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
    schedule_.stop_for_another_input(line,
                                     "record " + settings_.resume_path + ":" + std::to_string(record.record) +
                                       " (line " + std::to_string(line) + ") is for another input: it has " +
                                       excerpt(record.input) + ", line " + std::to_string(line) + " is " +
                                       excerpt(text));
    stop();
  }

  void report_records_past_the_end()
  {
    if (settings_.resumed.upper_bound(last_line_) == settings_.resumed.end()) {
      return;
    }
    erase_progress();
    std::ostringstream said;
    report_past_the_end(keys_of(settings_.resumed), last_line_, "--resume", settings_.resume_path, "record", said);
    *context_.err << context_.secrets.redact(said.str()) << std::flush;
  }

  net::awaitable<void> work()
  {
    // Counted down however the worker ends.
    const std::unique_ptr<int, void (*)(int*)> alive(&workers_, [](int* n) { --*n; });
    const auto connection = context_.connect(co_await net::this_coro::executor);
    net::steady_timer timer(io_);
    for (;;) {
      while (!schedule_.may_start()) {
        if (schedule_.nothing_left_to_start()) {
          co_return;
        }
        co_await changed();
      }
      BatchSchedule::Queued pending = schedule_.start();
      notify(); // the reader may go on
      Result result = co_await send(*connection, timer, pending.item);
      if (schedule_.finish(pending.seq, std::move(result))) {
        stop();
      }
      write_ready();
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
      if (Clock::now() < schedule_.not_before()) {
        timer.expires_at(schedule_.not_before());
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
        std::max(decision.wait, std::chrono::ceil<std::chrono::milliseconds>(schedule_.not_before() - Clock::now()));
      if (decision.action == RetryDecision::Action::give_up || schedule_.stopping() ||
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
  void slow_down(std::chrono::milliseconds wait) { schedule_.rate_limited(Clock::now() + wait); }

  void succeeded()
  {
    if (schedule_.succeeded()) {
      notify();
    }
  }

  Result success(const BatchItem& item, const std::string& output) const
  {
    return answered_line(item.line, item.input, output, settings_.jsonl_out);
  }

  Result failure(std::size_t line, const std::string& input, const Error& e) const
  {
    return failed_line(line, input, e, settings_.jsonl_out, context_.secrets);
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
    SentLineCounter lines;
    std::array<char, 64 * 1024> chunk;
    for (off_t at = lseek(context_.in_fd, 0, SEEK_CUR);;) {
      const ssize_t got = ::pread(context_.in_fd, chunk.data(), chunk.size(), at);
      if (got <= 0) {
        break;
      }
      lines.feed({ chunk.data(), static_cast<std::size_t>(got) });
      at += got;
    }
    return lines.count();
  }

  // Redraws the progress line four times a second while workers run.
  net::awaitable<void> show_progress()
  {
    const auto start = Clock::now();
    net::steady_timer timer(io_);
    while (workers_ > 0) {
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      const std::size_t done = schedule_.lines_succeeded() + schedule_.lines_failed();
      progress_->draw(progress_text({ done, schedule_.lines_failed(), total_, seconds }));
      timer.expires_after(std::chrono::milliseconds(250));
      co_await timer.async_wait(use_tuple);
    }
  }

  void erase_progress()
  {
    if (progress_) {
      progress_->erase();
    }
  }

  // Writes the finished results that are next in input order.
  void write_ready()
  {
    while (auto r = schedule_.next_to_write()) {
      out_.write(r->out);
      if (!r->err.empty()) {
        erase_progress();
        *context_.err << r->err << std::flush;
      }
    }
  }

  const BatchSettings& settings_;
  const BatchContext& context_;
  net::io_context io_;
  ReplyWriter out_;
  net::steady_timer changed_;
  std::unique_ptr<net::posix::stream_descriptor> input_; // stdin, when it can wait for data
  BatchSchedule schedule_;
  std::optional<ProgressLine> progress_; // when stderr is a terminal
  std::size_t total_ = 0;                // lines to send, when known
  int workers_ = 0;
  std::size_t last_line_ = 0; // the last input line read
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
      file << batch_request_line(item->line, body_for(*item), settings.api);
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

BatchResultMap::BatchResultMap(std::map<std::size_t, BatchResult> results)
  : results_(std::move(results))
  , lines_(keys_of(results_))
{
}

namespace {

// from_batch's writing of results: the output, stderr, and the most severe
// status seen.
class ResultWriter {
public:
  ResultWriter(const BatchSettings& settings, int out_fd, std::ostream& err)
    : settings_(settings)
    , out_(out_fd)
    , err_(err)
  {
  }

  void write(const LineResult& result)
  {
    out_.write(result.out);
    if (!result.err.empty()) {
      err_ << result.err << std::flush;
    }
    if (batch_severity(result.status) > batch_severity(worst_)) {
      worst_ = result.status;
    }
  }

  void fail(std::size_t line, std::optional<std::string_view> input, ExitStatus status, const std::string& message)
  {
    write(failed_line(line, input, Error(status, "", message), settings_.jsonl_out));
  }

  // The result of `line` (nullopt: none came back, from `path`).
  void put(std::size_t line,
           std::optional<std::string_view> input,
           const std::optional<BatchResult>& result,
           const std::string& path)
  {
    if (!result) {
      fail(line, input, ExitStatus::bad_response, "no result for this line in " + path);
    } else if (!result->output) {
      fail(line, input, static_cast<ExitStatus>(result->status), result->message);
    } else {
      write(answered_line(line, input, *result->output, settings_.jsonl_out));
    }
  }

  // A blank input line: as run_batch does, it keeps its place.
  void blank()
  {
    if (!settings_.jsonl_out) {
      out_.write("\n");
    }
  }

  ExitStatus worst() const { return worst_; }

  void warn(const std::string& line) { err_ << line << std::flush; }

private:
  const BatchSettings& settings_;
  ReplyWriter out_;
  std::ostream& err_;
  ExitStatus worst_ = ExitStatus::ok;
};

bool holds(const std::vector<std::size_t>& sorted, std::size_t line)
{
  return std::binary_search(sorted.begin(), sorted.end(), line);
}

// from_batch without the input: the results in line order, beside the lines
// sent when they are known.
ExitStatus results_alone(const BatchResults& results, const std::string& path, ResultWriter& out)
{
  const auto& answered = results.lines();
  const auto& sent = results.sent();
  if (sent.empty()) {
    for (const std::size_t line : answered) {
      out.put(line, std::nullopt, results.result(line), path);
    }
    return out.worst();
  }
  std::size_t previous = 0;
  for (const std::size_t line : sent) {
    for (std::size_t blank = previous + 1; blank < line; ++blank) {
      out.blank(); // not sent: a blank line
    }
    previous = line;
    const auto input = results.input(line);
    const auto result = holds(answered, line) ? std::optional(results.result(line)) : std::nullopt;
    out.put(line, input ? std::optional<std::string_view>(*input) : std::nullopt, result, path);
  }
  // A result for a line that was not sent answers nothing that was asked:
  // said, never printed in another line's place.
  std::vector<std::size_t> unasked;
  std::set_difference(answered.begin(), answered.end(), sent.begin(), sent.end(), std::back_inserter(unasked));
  if (!unasked.empty()) {
    out.warn("gptq: " + path + " has " + std::to_string(unasked.size()) +
             (unasked.size() == 1 ? " result" : " results") + " for lines it did not send (line " +
             std::to_string(unasked.front()) + (unasked.size() == 1 ? "" : " and more") + "); not used\n");
  }
  return out.worst();
}

} // namespace

ExitStatus from_batch(const BatchSettings& settings,
                      const BatchResults& results,
                      const std::string& path,
                      std::optional<int> in_fd,
                      int out_fd,
                      std::ostream& err)
{
  ResultWriter out(settings, out_fd, err);
  if (!in_fd) {
    return results_alone(results, path, out);
  }
  const auto& answered = results.lines();
  std::size_t last_line = 0;
  for_each_line(*in_fd, [&](std::size_t line, std::string_view text) {
    last_line = line;
    std::optional<BatchItem> item;
    try {
      item = settings.jsonl_in ? parse_jsonl_line(line, text) : parse_plain_line(line, text);
    } catch (const Error& e) {
      // As run_batch does: the line keeps its place in the output.
      out.fail(line, text, e.status(), e.what());
      return;
    }
    if (!item) {
      out.blank();
      return;
    }
    out.put(line, item->input, holds(answered, line) ? std::optional(results.result(line)) : std::nullopt, path);
  });
  report_past_the_end(answered, last_line, "--from-batch", path, "result", err);
  return out.worst();
}

ExitStatus run_batch(const BatchSettings& settings, const BatchContext& context)
{
  Batch batch(settings, context);
  return batch.run();
}

} // namespace gptq
