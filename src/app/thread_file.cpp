#include "thread_file.hpp"

#include "error.hpp"
#include "text.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gptq {

namespace {

[[noreturn]] void cannot(const std::string& what, const std::string& path)
{
  throw Error(ExitStatus::usage, "--thread", "cannot " + what + " " + quoted(path) + ": " + std::strerror(errno));
}

// Holds off SIGINT, SIGTERM and SIGHUP while it lives: their handler exits at
// once, and must not do so between a write and its undoing.
class SignalsHeld {
public:
  SignalsHeld()
  {
    sigset_t set;
    sigemptyset(&set);
    for (int signal : { SIGINT, SIGTERM, SIGHUP }) {
      sigaddset(&set, signal);
    }
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

private:
  sigset_t old_;
};

} // namespace

ThreadFile::ThreadFile(const std::string& path, bool read_only, std::ostream& err, std::chrono::seconds lock_limit)
  : path_(path)
{
  // O_NONBLOCK: a FIFO must not hang the open; it is refused below.
  fd_ = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC | O_NONBLOCK, 0600);
  if (fd_ < 0) {
    if (read_only && errno == ENOENT) {
      return; // --dry-run: a thread not started yet
    }
    if (errno == EISDIR) {
      throw Error(ExitStatus::usage, "--thread", quoted(path) + " is a directory, not a file");
    }
    cannot(read_only ? "read" : "open for reading and writing", path);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw Error(ExitStatus::usage, "--thread", quoted(path) + " is not a regular file");
  }
  if (!read_only) {
    lock(err, lock_limit);
  }
  // As any input: a long thread is mapped, not copied (see read_all_input).
  text_ = read_all_input(fd_, "--thread " + quoted(path), thread_limit, std::chrono::seconds(1), [] {});
  size_ = static_cast<off_t>(text_.view().size());
  thread_ = parse_thread_in_place(text_.view(), path);
}

ThreadFile::~ThreadFile()
{
  if (fd_ >= 0) {
    ::close(fd_); // and the lock with it
  }
}

void ThreadFile::lock(std::ostream& err, std::chrono::seconds lock_limit)
{
  using std::chrono::steady_clock;
  const auto start = steady_clock::now();
  bool told = false;
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      cannot("lock", path_);
    }
    const auto waited = steady_clock::now() - start;
    if (waited >= lock_limit) {
      throw Error(ExitStatus::internal,
                  "--thread",
                  quoted(path_) + " is still in use by another process after " + std::to_string(lock_limit.count()) +
                    " s; nothing was sent");
    }
    if (!told && waited >= std::chrono::seconds(1)) {
      err << "gptq: waiting for " << quoted(path_) << ", which another process is using (-C)\n" << std::flush;
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void ThreadFile::append(std::string_view bytes)
{
  const SignalsHeld held;
  off_t at = size_;
  while (!bytes.empty()) {
    const ssize_t put = ::pwrite(fd_, bytes.data(), bytes.size(), at);
    if (put < 0 && errno == EINTR) {
      continue;
    }
    if (put <= 0) {
      const int error = put < 0 ? errno : ENOSPC;
      const bool restored = ::ftruncate(fd_, size_) == 0;
      throw Error(ExitStatus::internal,
                  "--thread",
                  "cannot add this turn to " + quoted(path_) + ": " + std::strerror(error) +
                    (restored ? "; the file is as it was" : "; the file could not be cut back to its earlier length"));
    }
    at += put;
    bytes.remove_prefix(static_cast<std::size_t>(put));
  }
  size_ = at;
}

} // namespace gptq
