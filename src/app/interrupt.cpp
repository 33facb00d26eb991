#include "interrupt.hpp"

#include "exit_status.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <thread>

#include <algorithm>
#include <cstring>
#include <string_view>

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gptq {

namespace {

// Read from a signal handler: must be lock-free atomics.
std::atomic<bool> reply_line_open{ false };
std::atomic<bool> indicator_visible{ false };
std::atomic<bool> progress_line_open{ false };
static_assert(std::atomic<bool>::is_always_lock_free);
// A line to tell on stderr when interrupted (a batch that goes on); set
// before the handler may read it, its length last.
char note[512];
std::atomic<std::size_t> note_length{ 0 };

extern "C" void on_interrupt(int signal)
{
  // Only async-signal-safe calls here: write and _exit.
  if (indicator_visible.load()) {
    constexpr char erase[] = "\r   \r";
    [[maybe_unused]] auto n = ::write(2, erase, sizeof erase - 1);
  }
  if (progress_line_open.load()) {
    // The last progress stays in view, its line ended.
    [[maybe_unused]] auto n = ::write(2, "\n", 1);
  }
  if (reply_line_open.load()) {
    [[maybe_unused]] auto n = ::write(1, "\n", 1);
  }
  if (const std::size_t length = note_length.load(); length > 0) {
    [[maybe_unused]] auto n = ::write(2, note, length);
  }
  ::_exit(static_cast<int>(signal == SIGTERM  ? ExitStatus::terminated
                           : signal == SIGHUP ? ExitStatus::hangup
                                              : ExitStatus::interrupted));
}

} // namespace

void install_interrupt_handler()
{
  constexpr int signals[] = { SIGINT, SIGTERM, SIGHUP };
  sigset_t handled;
  sigemptyset(&handled);
  for (const int signal : signals) {
    // An ignored signal stays ignored: `nohup gptq`, or a job a script
    // started in the background, which a shell shields from SIGINT.
    struct sigaction old {};
    if (sigaction(signal, nullptr, &old) != 0 || old.sa_handler != SIG_IGN) {
      sigaddset(&handled, signal);
    }
  }
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  // Each blocks the others, so that only one handler writes the endings.
  action.sa_mask = handled;
  for (const int signal : signals) {
    if (sigismember(&handled, signal)) {
      sigaction(signal, &action, nullptr);
    }
  }
}

void exit_when_reader_leaves(int fd)
{
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
    return;
  }
  std::thread([fd] {
    // With no events asked for, poll reports only POLLERR (a pipe whose
    // reader closed) and POLLHUP.
    pollfd p{ fd, 0, 0 };
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    if (p.revents & (POLLERR | POLLHUP)) {
      if (indicator_visible.load()) {
        constexpr char erase[] = "\r   \r";
        [[maybe_unused]] auto n = ::write(2, erase, sizeof erase - 1);
      }
      ::_exit(static_cast<int>(ExitStatus::stdout_closed));
    }
  }).detach();
}

void set_reply_line_open(bool open)
{
  reply_line_open.store(open);
}

void set_indicator_visible(bool visible)
{
  indicator_visible.store(visible);
}

void set_progress_line_open(bool open)
{
  progress_line_open.store(open);
}

void set_interrupt_note(std::string_view line)
{
  note_length.store(0);
  const std::size_t length = std::min(line.size(), sizeof note);
  std::memcpy(note, line.data(), length);
  note_length.store(length);
}

} // namespace gptq
