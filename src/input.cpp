#include "input.hpp"

#include "error.hpp"
#include "large_buffer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gptq {

bool is_readable_non_terminal(int fd)
{
  return fcntl(fd, F_GETFD) != -1 && isatty(fd) == 0;
}

std::string read_all_input(int fd, std::chrono::milliseconds hint_after, const std::function<void()>& on_wait)
{
  std::string data;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    // A file of known size is read straight into place; the loop below
    // then finds the end (or what was appended meanwhile).
    const auto size = static_cast<std::size_t>(st.st_size);
    reserve_large(data, size + 1);
    data.resize(size);
    std::size_t got = 0;
    while (got < size) {
      const ssize_t n = read(fd, data.data() + got, size - got);
      if (n > 0) {
        got += static_cast<std::size_t>(n);
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        throw Error(ExitStatus::usage, "stdin", std::string("cannot read: ") + std::strerror(errno));
      }
    }
    data.resize(got);
  }

  bool waited = false;
  char buffer[64 * 1024];
  for (;;) {
    // Until the first byte arrives, wait with a time limit so that a caller
    // who left stdin open by mistake (cron, CI, an agent) is told why
    // nothing happens. poll also covers a descriptor left non-blocking.
    if (data.empty() && !waited) {
      pollfd pfd{fd, POLLIN, 0};
      const int ready = poll(&pfd, 1, static_cast<int>(hint_after.count()));
      if (ready == 0) {
        waited = true;
        on_wait();
        continue;
      }
      if (ready < 0 && errno == EINTR) {
        continue;
      }
    }
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      const auto got = static_cast<std::size_t>(n);
      if (data.capacity() - data.size() < got) {
        reserve_large(data, std::max(2 * data.capacity(), data.size() + got));
      }
      data.append(buffer, got);
      continue;
    }
    if (n == 0) {
      return data;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd pfd{fd, POLLIN, 0};
      poll(&pfd, 1, -1);
      continue;
    }
    throw Error(ExitStatus::usage, "stdin", std::string("cannot read: ") + std::strerror(errno));
  }
}

} // namespace gptq
