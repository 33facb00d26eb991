#pragma once

#include "batch.hpp"
#include "batch_format.hpp"
#include "record_index.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gptq {

// The results of a batch kept in files on disk (a --from-batch file, or a
// batch's output and error files as --batch-wait downloads them), and the
// batch's input file when it is at hand: indexed once, each result read
// again when it is printed (see RecordIndex). Owns the descriptors it is
// given.
class BatchFiles : public BatchResults {
public:
  BatchFiles() = default;
  BatchFiles(const BatchFiles&) = delete;
  BatchFiles& operator=(const BatchFiles&) = delete;
  BatchFiles(BatchFiles&&) = default;
  ~BatchFiles() override;

  // Adds a Batch API output or error file written by `from`, checked
  // whole as parse_batch_record checks each line (a result of the same line
  // in an earlier file too) before anything is printed.
  void add_results(int fd, const std::string& name, ResultsFrom from);
  // Adds the batch's input file: the lines it sent, and with `frame` their
  // inputs (batch_request_input).
  void add_input(int fd, const std::string& name, std::optional<InputFrame> frame);

  const std::vector<std::size_t>& lines() const override { return lines_; }
  BatchResult result(std::size_t line) const override;
  const std::vector<std::size_t>& sent() const override { return sent_; }
  std::optional<std::string> input(std::size_t line) const override;

private:
  std::vector<int> fds_;
  RecordIndex results_, inputs_;
  std::vector<std::size_t> lines_, sent_;
  std::optional<InputFrame> frame_;
  ResultsFrom from_ = ResultsFrom::user;
};

} // namespace gptq
