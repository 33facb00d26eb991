#include "input.hpp"

#include "error.hpp"
#include "text.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gptq {

bool is_readable_non_terminal(int fd)
{
  return fcntl(fd, F_GETFD) != -1 && isatty(fd) == 0;
}

namespace {

bool is_null(const struct stat& st)
{
  struct stat null;
  return S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 && null.st_rdev == st.st_rdev;
}

} // namespace

bool is_null_device(int fd)
{
  struct stat st;
  return fstat(fd, &st) == 0 && is_null(st);
}

InputText& InputText::operator=(InputText&& other) noexcept
{
  if (this != &other) {
    reset();
    const bool owned = other.map_ == nullptr;
    text_ = std::move(other.text_);
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    // A moved std::string may keep its bytes inline: point into ours.
    view_ = owned ? std::string_view(text_) : other.view_;
    other.view_ = {};
  }
  return *this;
}

InputText InputText::mapped(void* map, std::size_t map_size, std::string_view text)
{
  InputText input;
  input.map_ = map;
  input.map_size_ = map_size;
  input.view_ = text;
  return input;
}

namespace {

// The files mapped now, each with the message that names it should it
// shrink under gptq (SIGBUS): read by the signal handler, which may only
// read memory and write. The signal comes from this thread's own read of a
// mapped page, so a signal fence orders the table before the mapping's use.
struct MappedFile {
  const char* begin = nullptr;
  const char* end = nullptr;
  char message[200] = {};
  std::size_t length = 0;
};
std::array<MappedFile, 4> mapped_files;

extern "C" void on_mapped_file_gone(int, siginfo_t* info, void*)
{
  const auto* at = static_cast<const char*>(info->si_addr);
  const char* message = "gptq: a file gptq mapped shrank while gptq read it; try again when nothing writes to it\n";
  std::size_t length = std::strlen(message);
  for (const auto& file : mapped_files) {
    if (file.begin <= at && at < file.end) {
      message = file.message;
      length = file.length;
    }
  }
  [[maybe_unused]] const auto n = ::write(2, message, length);
  ::_exit(static_cast<int>(ExitStatus::usage));
}

// Notes the mapping [begin, end) of the input named `what`, so that the
// SIGBUS of its shrinking names it; a fifth at once gets the general message.
void note_mapping(const char* begin, const char* end, std::string_view what)
{
  for (auto& file : mapped_files) {
    if (file.begin == nullptr) {
      const std::string text =
        "gptq: " + std::string(what) + ": the file shrank while gptq read it; try again when nothing writes to it\n";
      file.length = std::min(text.size(), sizeof file.message);
      std::memcpy(file.message, text.data(), file.length);
      file.message[file.length - 1] = '\n'; // of a message cut short too
      file.end = end;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      file.begin = begin;
      break;
    }
  }
  struct sigaction action {};
  action.sa_sigaction = on_mapped_file_gone;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, nullptr);
}

void forget_mapping(const void* begin)
{
  for (auto& file : mapped_files) {
    if (file.begin == begin) {
      file.begin = nullptr;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      file.end = nullptr;
    }
  }
}

} // namespace

void InputText::reset()
{
  if (map_) {
    forget_mapping(map_);
    munmap(map_, map_size_);
    map_ = nullptr;
    map_size_ = 0;
  }
  text_ = std::string();
  view_ = {};
}

namespace {

// The rest of regular file `fd` (named `what` in messages) from its
// offset, mapped, or an empty InputText when it is small, cannot be mapped
// or grows meanwhile (the caller then reads it as a stream).
InputText map_rest_of_file(int fd, std::string_view what)
{
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return {};
  }
  const off_t at = lseek(fd, 0, SEEK_CUR);
  constexpr off_t worth_mapping = off_t{ 1 } << 20;
  if (at < 0 || st.st_size - at < worth_mapping) {
    return {};
  }
  const long page = sysconf(_SC_PAGESIZE);
  const off_t start = at - at % page;
  const auto size = static_cast<std::size_t>(st.st_size - start);
  // MAP_POPULATE maps every page now, in one go, instead of one fault each.
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, start);
  if (map == MAP_FAILED) {
    return {};
  }
  // Reading pages that a truncation took away raises SIGBUS: a clear error
  // instead of a crash (log rotation by copytruncate does this).
  note_mapping(static_cast<const char*>(map), static_cast<const char*>(map) + size, what);
  InputText text = InputText::mapped(
    map, size, { static_cast<const char*>(map) + (at - start), static_cast<std::size_t>(st.st_size - at) });
  // Consumed, as reading it would: a script may read on from the same file.
  char probe;
  if (lseek(fd, st.st_size, SEEK_SET) != st.st_size || ::read(fd, &probe, 1) != 0) {
    // It grew (or cannot be positioned): read it as a stream from the start.
    lseek(fd, at, SEEK_SET);
    return {};
  }
  return text;
}

// True when `fd` (whose status is `st`) is a character device that never
// ends. Of character devices only a terminal (read until Ctrl-D) and
// /dev/null end; /dev/zero, /dev/urandom and the like would fill any limit
// with nothing anyone meant to send.
bool is_endless_device(int fd, const struct stat& st)
{
  return S_ISCHR(st.st_mode) && isatty(fd) == 0 && !is_null(st);
}

} // namespace

InputText read_all_input(int fd,
                         const std::string& what,
                         const InputLimit& limit,
                         std::chrono::milliseconds hint_after,
                         const std::function<void()>& on_wait)
{
  auto too_much = [&] { return Error(ExitStatus::usage, what, std::string("more than the limit of ") + limit.text); };
  if (InputText mapped = map_rest_of_file(fd, what); !mapped.view().empty()) {
    if (mapped.view().size() > limit.bytes) {
      throw too_much();
    }
    return mapped;
  }
  std::string data;
  struct stat st;
  if (fstat(fd, &st) == 0 && is_endless_device(fd, st)) {
    throw Error(ExitStatus::usage, what, "it is a device that never ends, such as /dev/zero");
  }
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    if (static_cast<std::uintmax_t>(st.st_size) > limit.bytes) {
      throw too_much();
    }
    // A file of known size is read straight into place; the loop below
    // then finds the end (or what was appended meanwhile).
    const auto size = static_cast<std::size_t>(st.st_size);
    data.reserve(size + 1);
    data.resize(size);
    std::size_t got = 0;
    while (got < size) {
      const ssize_t n = read(fd, data.data() + got, size - got);
      if (n > 0) {
        got += static_cast<std::size_t>(n);
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        throw Error(ExitStatus::usage, what, std::string("cannot read: ") + std::strerror(errno));
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
      pollfd pfd{ fd, POLLIN, 0 };
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
      if (got > limit.bytes - std::min(limit.bytes, data.size())) {
        throw too_much();
      }
      data.append(buffer, got);
      continue;
    }
    if (n == 0) {
      return InputText(std::move(data));
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd pfd{ fd, POLLIN, 0 };
      poll(&pfd, 1, -1);
      continue;
    }
    throw Error(ExitStatus::usage, what, std::string("cannot read: ") + std::strerror(errno));
  }
}

namespace {

// Opens the file at `path` for read_user_file and read_user_input, with
// their checks; `st` gets its status.
int open_user_file(const std::string& path, const std::string& what, struct stat& st)
{
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw Error(ExitStatus::usage, what, "cannot read " + quoted(path) + ": " + std::strerror(errno));
  }
  const auto fail = [&](const std::string& message) {
    ::close(fd);
    throw Error(ExitStatus::usage, what, message);
  };
  if (fstat(fd, &st) != 0) {
    fail("cannot read " + quoted(path) + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    fail(quoted(path) + " is a directory, not a file");
  }
  if (is_endless_device(fd, st)) {
    fail(quoted(path) + " is a device that never ends, not a file");
  }
  return fd;
}

struct FdCloser {
  int fd;
  ~FdCloser()
  {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

} // namespace

InputText read_user_input(const std::string& path,
                          const std::string& what,
                          const InputLimit& limit,
                          const std::function<void(int fd, const struct stat& st)>& before_reading)
{
  struct stat st;
  const FdCloser closer{ open_user_file(path, what, st) };
  if (before_reading) {
    before_reading(closer.fd, st); // first: its refusal may say more than the limit's
  }
  if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > limit.bytes) {
    throw Error(ExitStatus::usage, what, quoted(path) + " is larger than the limit of " + std::string(limit.text));
  }
  return read_all_input(closer.fd, what + " " + quoted(path), limit, std::chrono::hours(1), [] {});
}

std::string read_user_file(const std::string& path, const std::string& what, const InputLimit& limit)
{
  struct stat st;
  const FdCloser closer{ open_user_file(path, what, st) };
  const int fd = closer.fd;
  const bool regular = S_ISREG(st.st_mode);
  if (regular && static_cast<std::uintmax_t>(st.st_size) > limit.bytes) {
    throw Error(ExitStatus::usage, what, quoted(path) + " is larger than the limit of " + std::string(limit.text));
  }
  std::string data;
  if (regular) {
    data.reserve(static_cast<std::size_t>(st.st_size));
  }
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      const auto got = static_cast<std::size_t>(n);
      if (got > limit.bytes - data.size()) {
        // A regular file that grew, or a device or pipe that does not end.
        throw Error(ExitStatus::usage,
                    what,
                    quoted(path) + (regular ? " grew past" : " did not end within") + " the limit of " + limit.text);
      }
      data.append(buffer, got);
    } else if (n == 0) {
      return data;
    } else if (errno != EINTR) {
      throw Error(ExitStatus::usage, what, "cannot read " + quoted(path) + ": " + std::strerror(errno));
    }
  }
}

int temporary_file(const std::string& prefix, std::string& path)
{
  const char* tmpdir = std::getenv("TMPDIR");
  path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/" + prefix + "-XXXXXX";
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) {
    throw Error(ExitStatus::internal, "batch", "cannot make a file in " + quoted(path) + ": " + std::strerror(errno));
  }
  return fd;
}

int unlinked_temporary_file(const std::string& prefix)
{
  std::string path;
  const int fd = temporary_file(prefix, path);
  ::unlink(path.c_str());
  return fd;
}

void copy_all(int from, int to, const std::string& what, const InputLimit& limit)
{
  char buffer[65536];
  for (std::size_t copied = 0;;) {
    const ssize_t got = ::read(from, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      throw Error(ExitStatus::usage, what, std::string("cannot read: ") + std::strerror(errno));
    }
    if (got == 0) {
      return;
    }
    copied += static_cast<std::size_t>(got);
    if (copied > limit.bytes) {
      throw Error(ExitStatus::usage, what, std::string("did not end within the limit of ") + limit.text);
    }
    for (ssize_t at = 0; at < got;) {
      const ssize_t put = ::write(to, buffer + at, static_cast<std::size_t>(got - at));
      if (put < 0 && errno == EINTR) {
        continue;
      }
      if (put < 0) {
        throw Error(ExitStatus::internal, what, std::string("cannot keep a copy: ") + std::strerror(errno));
      }
      at += put;
    }
  }
}

int open_seekable_user_file(const std::string& path, const std::string& what, const InputLimit& limit)
{
  struct stat st;
  FdCloser file{ open_user_file(path, what, st) };
  if (S_ISREG(st.st_mode)) {
    if (static_cast<std::uintmax_t>(st.st_size) > limit.bytes) {
      throw Error(ExitStatus::usage, what, quoted(path) + " is larger than the limit of " + std::string(limit.text));
    }
    return std::exchange(file.fd, -1);
  }
  FdCloser copy{ unlinked_temporary_file("gptq-copy") };
  copy_all(file.fd, copy.fd, what + " " + quoted(path), limit);
  return std::exchange(copy.fd, -1);
}

} // namespace gptq
