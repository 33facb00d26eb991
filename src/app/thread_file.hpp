#pragma once

#include "input.hpp"
#include "thread.hpp"

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace gptq {

// The file of a -C thread for one run: open and locked from before the
// request until the turn is appended, so that two gptq processes on one file
// take turns and never interleave lines or lose one. The file is only ever
// appended to, and only after a successful reply: a failed, interrupted or
// broken request leaves it byte for byte as it was.
class ThreadFile {
public:
  // Opens `path` for reading and appending, creating it with mode 0600 when
  // missing (its directory must exist), takes its lock, waiting for another
  // process that holds it (telling `err` so after a second, giving up after
  // `lock_limit`), then reads and parses it (parse_thread). With
  // `read_only` (--dry-run) it neither creates, locks nor writes: a missing
  // file is an empty thread. Throws gptq::Error: usage (phase "--thread")
  // when the file cannot be opened, read or written, is no regular file, or
  // its text is no thread; internal when the lock stays taken.
  ThreadFile(const std::string& path, bool read_only, std::ostream& err, std::chrono::seconds lock_limit);
  ~ThreadFile();
  ThreadFile(const ThreadFile&) = delete;
  ThreadFile& operator=(const ThreadFile&) = delete;

  const Thread& thread() const { return thread_; }

  // Appends `bytes` where the file ended when it was read, with the
  // interrupting signals held off. Throws gptq::Error (internal) when the
  // write fails (a full disk), after cutting the file back to its earlier
  // length.
  void append(std::string_view bytes);

private:
  void lock(std::ostream& err, std::chrono::seconds lock_limit);

  std::string path_;
  int fd_ = -1;
  off_t size_ = 0; // the length read, where the turn is appended
  InputText text_; // the file's text, which thread_ views
  Thread thread_;
};

} // namespace gptq
