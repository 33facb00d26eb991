#include "batch_files.hpp"

#include <unistd.h>

namespace gptq {

BatchFiles::~BatchFiles()
{
  for (const int fd : fds_) {
    ::close(fd);
  }
}

void BatchFiles::add_results(int fd, const std::string& name, ResultsFrom from)
{
  fds_.push_back(fd);
  from_ = from;
  results_.add(
    fd,
    name,
    [&](std::string_view text, std::size_t number) -> std::optional<std::size_t> {
      return batch_record_line(text, name, number, from);
    },
    [&](std::size_t line, const RecordIndex::Where& first, const RecordIndex::Where& again) {
      throw batch_duplicate_error(results_.name(first.file), first.number, name, again.number, line, from);
    });
  lines_ = results_.keys();
}

void BatchFiles::add_input(int fd, const std::string& name, std::optional<InputFrame> frame)
{
  fds_.push_back(fd);
  frame_ = frame;
  // The provider checked the file when it took the batch: a line that is
  // not gptq's is left out rather than refused.
  inputs_.add(fd, name, [](std::string_view text, std::size_t) { return batch_request_line_number(text); });
  sent_ = inputs_.keys();
}

BatchResult BatchFiles::result(std::size_t line) const
{
  const RecordIndex::Where& where = results_.entries().at(line);
  auto record = parse_batch_record(results_.read(where), results_.name(where.file), where.number, from_);
  if (!record) {
    // It was a result when indexed: the file changed under gptq.
    BatchResult changed;
    changed.status = static_cast<int>(ExitStatus::bad_response);
    changed.message = results_.name(where.file) + " changed while gptq read it";
    return changed;
  }
  return std::move(record->second);
}

std::optional<std::string> BatchFiles::input(std::size_t line) const
{
  const auto found = inputs_.entries().find(line);
  if (!frame_ || found == inputs_.entries().end()) {
    return std::nullopt;
  }
  return batch_request_input(inputs_.read(found->second), *frame_);
}

} // namespace gptq
