#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace gptq {

// A small spinner on stderr while gptq waits for the first piece of the
// reply, so a person at a terminal sees that something is happening. It is
// shown only when `fd` is a terminal, appears only after a short delay (a
// fast reply never flickers), and uses no escape sequences.
class ActivityIndicator {
public:
  explicit ActivityIndicator(int fd);
  ~ActivityIndicator();
  ActivityIndicator(const ActivityIndicator&) = delete;
  ActivityIndicator& operator=(const ActivityIndicator&) = delete;

  // Erases the indicator and stops it for good. Call before anything else
  // is written to the terminal. Idempotent.
  void stop();

private:
  void run();

  int fd_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace gptq
