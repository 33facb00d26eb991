#include "activity.hpp"

#include "interrupt.hpp"

#include <chrono>
#include <string_view>

#include <unistd.h>

namespace gptq {

namespace {

using namespace std::chrono_literals;

constexpr auto first_delay = 300ms;
constexpr auto frame_interval = 100ms;
constexpr std::string_view frames[] = { "\r- ", "\r\\ ", "\r| ", "\r/ " };
constexpr std::string_view erase = "\r   \r";

void write_all(int fd, std::string_view text)
{
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n <= 0) {
      return; // a broken terminal is no reason to fail the request
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

} // namespace

ActivityIndicator::ActivityIndicator(int fd)
  : fd_(fd)
{
  if (isatty(fd) == 1) {
    thread_ = std::thread([this] { run(); });
  }
}

ActivityIndicator::~ActivityIndicator()
{
  stop();
}

void ActivityIndicator::stop()
{
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void ActivityIndicator::run()
{
  std::unique_lock lock(mutex_);
  if (wake_.wait_for(lock, first_delay, [this] { return stopping_; })) {
    return;
  }
  set_indicator_visible(true);
  for (std::size_t frame = 0;; ++frame) {
    write_all(fd_, frames[frame % std::size(frames)]);
    if (wake_.wait_for(lock, frame_interval, [this] { return stopping_; })) {
      break;
    }
  }
  write_all(fd_, erase);
  set_indicator_visible(false);
}

} // namespace gptq
