#pragma once

#include "batch_format.hpp"
#include "batch_schedule.hpp"
#include "exit_status.hpp"
#include "network.hpp"
#include "request.hpp"
#include "transport.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace gptq {

struct BatchSettings {
  int jobs = 4;           // requests in flight, each on a connection of its own
  int retries = 2;        // more tries per line after a failure another try can mend
  bool jsonl_in = false;  // --input-jsonl
  bool jsonl_out = false; // --jsonl
  bool fail_fast = false;
  Api api = Api::chat; // --api: the wire format of requests and replies
  // --timeout: bounds each line's tries and the waits between them
  // together, as it bounds a one-shot request; not the whole batch.
  std::optional<std::chrono::milliseconds> timeout;
  std::map<std::size_t, ResumedRecord> resumed; // --resume: line -> its record
  std::string resume_path;                      // the --resume file, for messages
};

struct BatchContext {
  int in_fd = 0;
  int out_fd = 1;
  std::ostream* err = nullptr; // `gptq: line N: ...` lines
  int err_fd = -1;             // the progress line goes here when it is a terminal
  // Makes a connection for one worker.
  std::function<std::unique_ptr<Connection>(const boost::asio::any_io_executor&)> connect;
  // The request for one input line; throws gptq::Error (usage) when the
  // line cannot make one.
  std::function<HttpRequest(const BatchItem&)> request_for;
  // Redacted from server text before it is cut, and from every message.
  Secrets secrets;
};

// Runs batch mode (-L): every input line one request, stdin read as it
// arrives, at most `jobs` requests in flight, results written in input order
// as soon as all earlier ones are written. A blank line is not sent (plain
// output keeps its place with an empty line). A failed line is reported (plain:
// an empty line on stdout and `gptq: line N: ...` on stderr; JSONL: an error
// record) and the others go on, unless fail_fast. A 429 or 503 slows every
// worker: the server's wait applies to all, and the number of requests in
// flight halves, then grows back by one after as many successes as are
// allowed in flight at the time (additive increase). An
// insufficient_quota, or a key the server refuses (401, 403), stops the
// batch, saying how many lines were done. A line with a --resume record is
// checked against the record's input as it arrives: the same, the record's
// output is written again (an error record's line is sent again); another,
// the batch stops at once (nothing more is sent, the results before the
// first line not sent are written) and throws gptq::Error (usage, phase
// "--resume") naming the record and the line. Records for lines past the
// end of the input are reported on `err` when it ends; they change no
// result, so not the status. On a terminal `err_fd` one line
// shows the progress: lines done (of how many, when stdin is a regular
// file), failures, rate and time left. Returns the most severe status seen
// (batch_severity). Throws gptq::Error when stdin cannot be read or stdout
// cannot be written (stdout_closed when its reader left).
ExitStatus run_batch(const BatchSettings& settings, const BatchContext& context);

// --emit-batch: writes the OpenAI Batch API input line of every input line
// (read from `in_fd`) to `file`, its body from `body_for` (streaming off),
// instead of sending anything. A line that cannot make a request is
// reported on `err` and left out. Returns the most severe status seen.
ExitStatus emit_batch(const BatchSettings& settings,
                      int in_fd,
                      std::ostream& file,
                      std::ostream& err,
                      const std::function<std::string(const BatchItem&)>& body_for);

// The results of a batch by input line, as --from-batch and --batch-wait
// print them: read one at a time from where they are kept (a file of any
// size is never held whole), and, without the input at hand, the lines
// that were sent and their inputs when they can be recovered.
class BatchResults {
public:
  virtual ~BatchResults() = default;
  // The input lines that have a result, in order.
  virtual const std::vector<std::size_t>& lines() const = 0;
  // The result of `line`, one of lines().
  virtual BatchResult result(std::size_t line) const = 0;
  // The input lines that were sent, in order, when known apart from the
  // input (a batch's input file); empty when not known.
  virtual const std::vector<std::size_t>& sent() const { return none_; }
  // The input of `line`, one of sent(), when it can be recovered.
  virtual std::optional<std::string> input(std::size_t) const { return std::nullopt; }

private:
  std::vector<std::size_t> none_;
};

// The results of parse_batch_output, held in memory.
class BatchResultMap : public BatchResults {
public:
  explicit BatchResultMap(std::map<std::size_t, BatchResult> results);
  const std::vector<std::size_t>& lines() const override { return lines_; }
  BatchResult result(std::size_t line) const override { return results_.at(line); }

private:
  std::map<std::size_t, BatchResult> results_;
  std::vector<std::size_t> lines_;
};

// --from-batch: writes the result of every input line (read from `in_fd`
// again, for the inputs and the order) from `results`, as run_batch would
// have written it. A line with no result (in `path`) is a failure. Without
// `in_fd` (no -L: no input to read), writes the results in line order; when
// `results` knows the lines sent (--batch-wait of a batch gptq made), a line
// between them that was not sent was blank and keeps its place in plain
// output, a line sent without a result is a failure, a result for a line
// not sent is not used (said on `err`), and --jsonl records have the
// inputs that can be recovered; else a line without a result has
// no place and --jsonl records have no "input". Returns the most severe
// status seen.
ExitStatus from_batch(const BatchSettings& settings,
                      const BatchResults& results,
                      const std::string& path,
                      std::optional<int> in_fd,
                      int out_fd,
                      std::ostream& err);

} // namespace gptq
