#include "process.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gptq::it {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

[[noreturn]] void fail(const std::string& what, int error)
{
  throw std::runtime_error(what + ": " + std::strerror(error));
}

// Makes sure descriptors 0, 1 and 2 are open, so that a pipe made later can
// never land on one of them (posix_spawn's dup2 onto the same number would
// then keep its close-on-exec flag and the child would lose it). Also lets a
// write to a pipe whose reader has gone fail with EPIPE instead of killing
// the test binary.
void prepare_process_once()
{
  static const bool done = [] {
    for (int fd = 0; fd <= 2; ++fd) {
      if (fcntl(fd, F_GETFD) == -1) {
        const int null = open("/dev/null", O_RDWR);
        if (null != -1 && null != fd) {
          dup2(null, fd);
          close(null);
        }
      }
    }
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

// A descriptor closed when it goes out of scope.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd)
    : fd_(fd)
  {
  }
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept
    : fd_(other.release())
  {
  }
  Fd& operator=(Fd&& other) noexcept
  {
    if (this != &other) {
      reset(other.release());
    }
    return *this;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1)
  {
    if (fd_ != -1) {
      close(fd_);
    }
    fd_ = fd;
  }
  explicit operator bool() const { return fd_ != -1; }

private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

// Both ends are close-on-exec, so no child inherits a pipe it was not given.
Pipe make_pipe()
{
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    fail("pipe2", errno);
  }
  return { Fd(fds[0]), Fd(fds[1]) };
}

void set_nonblocking(int fd)
{
  const int flags = fcntl(fd, F_GETFL);
  if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
    fail("fcntl O_NONBLOCK", errno);
  }
}

// Owns the C arrays posix_spawn wants.
struct CStrings {
  explicit CStrings(std::vector<std::string> s)
    : strings(std::move(s))
  {
    for (auto& x : strings) {
      pointers.push_back(x.data());
    }
    pointers.push_back(nullptr);
  }
  std::vector<std::string> strings;
  std::vector<char*> pointers;
};

CStrings env_strings(const Env& env)
{
  std::vector<std::string> out;
  for (const auto& [name, value] : env) {
    out.push_back(name + "=" + value);
  }
  return CStrings(std::move(out));
}

// Where one of the child's standard descriptors comes from.
struct Source {
  enum class Kind { fd, file, closed, inherit };
  Kind kind = Kind::inherit;
  int fd = -1;      // for Kind::fd: a descriptor of ours
  std::string path; // for Kind::file
  int flags = 0;    // for Kind::file: open flags

  static Source of_fd(int fd) { return { Kind::fd, fd, {}, 0 }; }
  static Source of_file(std::string path, int flags) { return { Kind::file, -1, std::move(path), flags }; }
};

// Starts `argv` with descriptors 0, 1 and 2 set up as `io` says. The child
// gets default signal dispositions and an empty signal mask, whatever this
// process uses.
pid_t spawn(const std::vector<std::string>& argv, const Env& env, const std::array<Source, 3>& io)
{
  if (argv.empty()) {
    throw std::runtime_error("spawn: empty argv");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int target = 0; target < 3; ++target) {
    const Source& source = io[static_cast<std::size_t>(target)];
    switch (source.kind) {
      case Source::Kind::fd:
        posix_spawn_file_actions_adddup2(&actions, source.fd, target);
        break;
      case Source::Kind::file:
        posix_spawn_file_actions_addopen(&actions, target, source.path.c_str(), source.flags, 0644);
        break;
      case Source::Kind::closed:
        posix_spawn_file_actions_addclose(&actions, target);
        break;
      case Source::Kind::inherit:
        break;
    }
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  // The signals tests send, whatever this process inherited (a shell
  // starts background jobs with SIGINT ignored).
  for (const int signal : { SIGPIPE, SIGINT, SIGTERM, SIGHUP }) {
    sigaddset(&defaults, signal);
  }
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  CStrings args(argv);
  CStrings environment = env_strings(env);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.pointers.data(), environment.pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    fail("cannot start " + argv[0], rc);
  }
  return pid;
}

// Reads what is available on a non-blocking `fd` into `out`. Returns false
// at end of file (or on an error, which ends the stream too).
bool drain(int fd, std::string& out)
{
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    }
    return false;
  }
}

int wait_blocking(pid_t pid)
{
  int status = 0;
  while (waitpid(pid, &status, 0) == -1) {
    if (errno != EINTR) {
      fail("waitpid", errno);
    }
  }
  return status;
}

std::string escaped(const std::string& text, std::size_t limit)
{
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > limit) {
    out += "... (" + std::to_string(text.size()) + " bytes)";
  }
  return out;
}

// The whole contents of the file at `path` (empty when it cannot be read).
std::string file_contents(const std::string& path)
{
  std::ifstream file(path, std::ios::binary);
  return { std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>() };
}

// A child started by run() and our ends of its pipes.
struct Child {
  pid_t pid = -1;
  Fd out; // stdout's read end; none when stdout goes to a file
  Fd err; // stderr's read end
  Fd in;  // stdin's write end, when stdin is a pipe
  Clock::time_point start;
};

// Starts `argv` with stdin as `in` says, stdout to a pipe or to
// `stdout_path`, stderr to a pipe; our ends are non-blocking.
Child start_child(const std::vector<std::string>& argv,
                  const Env& env,
                  const StdinSpec& in,
                  const std::string& stdout_path)
{
  Pipe out;
  if (stdout_path.empty()) {
    out = make_pipe();
  }
  Pipe err = make_pipe();
  Pipe input;
  std::array<Source, 3> io{ Source::of_file("/dev/null", O_RDONLY),
                            stdout_path.empty() ? Source::of_fd(out.write.get())
                                                : Source::of_file(stdout_path, O_WRONLY | O_CREAT | O_TRUNC),
                            Source::of_fd(err.write.get()) };
  switch (in.kind) {
    case StdinSpec::Kind::dev_null:
      break;
    case StdinSpec::Kind::pipe:
      input = make_pipe();
      io[0] = Source::of_fd(input.read.get());
      break;
    case StdinSpec::Kind::file:
      io[0] = Source::of_file(in.bytes, O_RDONLY);
      break;
    case StdinSpec::Kind::closed:
      io[0] = Source{ Source::Kind::closed, -1, {}, 0 };
      break;
  }

  Child child;
  child.start = Clock::now();
  child.pid = spawn(argv, env, io);
  // The parent keeps only its own ends, so end of file comes when the child
  // (and anything it started) is done with them.
  child.out = std::move(out.read);
  child.err = std::move(err.read);
  child.in = std::move(input.write);
  for (const Fd* fd : { &child.out, &child.err, &child.in }) {
    if (*fd) {
      set_nonblocking(fd->get());
    }
  }
  return child;
}

// One run's exchange with its child until stdout and stderr close: feeds
// stdin as the StdinSpec says (its bytes after its delay, its rest when
// due), collects stdout and stderr, tells the watcher, and kills the child
// at the deadline.
class ChildIo {
public:
  ChildIo(Child& child,
          const StdinSpec& in,
          milliseconds limit,
          const std::string& stdout_path,
          const StdoutWatcher& on_stdout,
          RunResult& result)
    : child_(child)
    , in_(in)
    , stdout_path_(stdout_path)
    , on_stdout_(on_stdout)
    , result_(result)
    , deadline_(child.start + limit * run_limit_factor)
    , write_stdin_at_(child.start + in.delay)
    , rest_deadline_(child.start + in.rest_limit)
    , to_write_(in.bytes)
    , holding_(static_cast<bool>(child.in) && static_cast<bool>(in.rest_when))
    , watch_file_(!stdout_path.empty() && (on_stdout || holding_))
    , out_open_(static_cast<bool>(child.out))
  {
  }

  Clock::time_point deadline() const { return deadline_; }

  void run()
  {
    while (out_open_ || err_open_) {
      const auto now = Clock::now();
      step(now);
      std::vector<pollfd> fds = wanted(now);
      const auto wait_ms = std::chrono::duration_cast<milliseconds>(wake(now) - now).count();
      const int ready = poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(wait_ms, 0, 60000)));
      if (ready < 0) {
        if (errno == EINTR) {
          continue;
        }
        kill(child_.pid, SIGKILL);
        wait_blocking(child_.pid);
        fail("poll", errno);
      }
      for (const pollfd& p : fds) {
        if (p.revents != 0) {
          handle(p);
        }
      }
    }
    child_.in.reset();
  }

private:
  // What is due at `now` before polling: the kill at the deadline, a look at
  // the stdout file, the rest of stdin, closing stdin once all is written.
  void step(Clock::time_point now)
  {
    if (now >= deadline_ && !result_.killed) {
      kill(child_.pid, SIGKILL);
      result_.killed = true;
    }
    if (watch_file_) {
      std::string contents = file_contents(stdout_path_);
      if (contents.size() > file_out_.size()) {
        file_out_ = std::move(contents);
        stdout_grew();
      }
    }
    if (holding_ && now >= rest_deadline_) {
      release_rest();
    }
    if (child_.in && stdin_due(now) && !holding_ && written_ == to_write_.size()) {
      child_.in.reset();
    }
  }

  std::vector<pollfd> wanted(Clock::time_point now) const
  {
    std::vector<pollfd> fds;
    if (out_open_) {
      fds.push_back({ child_.out.get(), POLLIN, 0 });
    }
    if (err_open_) {
      fds.push_back({ child_.err.get(), POLLIN, 0 });
    }
    if (child_.in && stdin_due(now) && written_ < to_write_.size()) {
      fds.push_back({ child_.in.get(), POLLOUT, 0 });
    }
    return fds;
  }

  // When to look again if no descriptor is ready.
  Clock::time_point wake(Clock::time_point now) const
  {
    auto wake = result_.killed ? now + milliseconds(1000) : deadline_;
    if (child_.in && !stdin_due(now)) {
      wake = std::min(wake, write_stdin_at_);
    }
    if (holding_) {
      wake = std::min(wake, rest_deadline_);
    }
    if (watch_file_) {
      wake = std::min(wake, now + milliseconds(20));
    }
    return wake;
  }

  void handle(const pollfd& p)
  {
    if (p.fd == child_.out.get()) {
      const std::size_t before = result_.out.size();
      out_open_ = drain(p.fd, result_.out);
      if (result_.out.size() > before) {
        stdout_grew();
      }
    } else if (p.fd == child_.err.get()) {
      err_open_ = drain(p.fd, result_.err);
    } else if (p.fd == child_.in.get()) {
      write_stdin(p);
    }
  }

  void write_stdin(const pollfd& p)
  {
    // POLLERR without POLLOUT: the child closed its stdin without reading
    // it all, which is its right (a usage error, --no-stdin).
    if ((p.revents & POLLOUT) == 0) {
      child_.in.reset();
      return;
    }
    const ssize_t n = write(p.fd, to_write_.data() + written_, to_write_.size() - written_);
    if (n > 0) {
      written_ += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      child_.in.reset();
      return;
    }
    if (written_ == to_write_.size() && !holding_) {
      child_.in.reset();
    }
  }

  bool stdin_due(Clock::time_point now) const { return now >= write_stdin_at_; }

  // StdinSpec::rest is added once it is due.
  void release_rest()
  {
    if (holding_) {
      holding_ = false;
      to_write_ += in_.rest;
    }
  }

  // Stdout as watchers see it: the pipe's bytes, or the file's contents.
  const std::string& watched() const { return watch_file_ ? file_out_ : result_.out; }

  void stdout_grew()
  {
    if (on_stdout_) {
      on_stdout_(watched(), child_.pid);
    }
    if (holding_ && in_.rest_when(watched())) {
      release_rest();
    }
  }

  Child& child_;
  const StdinSpec& in_;
  const std::string& stdout_path_;
  const StdoutWatcher& on_stdout_;
  RunResult& result_;
  const Clock::time_point deadline_;
  const Clock::time_point write_stdin_at_;
  const Clock::time_point rest_deadline_;
  std::string to_write_; // what stdin gets
  std::size_t written_ = 0;
  bool holding_; // StdinSpec::rest is not due yet
  const bool watch_file_;
  std::string file_out_;
  bool out_open_;
  bool err_open_ = true;
};

// Waits for the child, which is normally gone or about to be once its
// output is closed, killing it at `deadline`; fills in how it ended.
void wait_child(pid_t pid, Clock::time_point deadline, RunResult& result)
{
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      break;
    }
    if (done == -1 && errno != EINTR) {
      fail("waitpid", errno);
    }
    if (Clock::now() >= deadline && !result.killed) {
      kill(pid, SIGKILL);
      result.killed = true;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
}

} // namespace

std::string RunResult::describe() const
{
  std::string out = "command:";
  for (const auto& a : argv) {
    out += " '" + escaped(a, 200) + "'";
  }
  out += "\n  status: ";
  if (killed) {
    out += "KILLED after the time limit";
  } else if (signal != 0) {
    out += "signal " + std::to_string(signal);
  } else {
    out += "exit " + std::to_string(exit_code);
  }
  out += " after " + std::to_string(elapsed.count()) + " ms";
  out += "\n  stdout: \"" + escaped(this->out, 600) + "\"";
  out += "\n  stderr: \"" + escaped(err, 1200) + "\"";
  return out;
}

RunResult run(const std::vector<std::string>& argv,
              const Env& env,
              const StdinSpec& in,
              milliseconds limit,
              const std::string& stdout_path,
              const StdoutWatcher& on_stdout)
{
  prepare_process_once();
  RunResult result;
  result.argv = argv;
  Child child = start_child(argv, env, in, stdout_path);
  ChildIo io(child, in, limit, stdout_path, on_stdout, result);
  io.run();
  wait_child(child.pid, io.deadline(), result);
  result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - child.start);
  return result;
}

bool still_running(int pid)
{
  siginfo_t info{};
  // WNOWAIT leaves the child to be reaped by run().
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
}

ServerProcess::ServerProcess(const std::vector<std::string>& argv, const Env& env, milliseconds ready_limit)
{
  prepare_process_once();
  Pipe input = make_pipe();
  Pipe out = make_pipe();
  pid_ = spawn(argv, env, { Source::of_fd(input.read.get()), Source::of_fd(out.write.get()), Source{} });
  stdin_fd_ = input.write.release();
  input.read.reset();
  out.write.reset();

  // Only the first line is wanted; the server writes nothing else to stdout.
  set_nonblocking(out.read.get());
  std::string text;
  const auto deadline = Clock::now() + ready_limit;
  while (text.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      stop();
      throw std::runtime_error(argv[0] + " wrote no ready line within " + std::to_string(ready_limit.count()) +
                               " ms (got \"" + escaped(text, 200) + "\")");
    }
    pollfd p{ out.read.get(), POLLIN, 0 };
    if (poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) {
      stop();
      fail("poll", errno);
    }
    if (p.revents != 0 && !drain(p.fd, text)) {
      if (text.find('\n') != std::string::npos) {
        break;
      }
      stop();
      throw std::runtime_error(argv[0] + " ended before writing its ready line (got \"" + escaped(text, 200) + "\")");
    }
  }
  first_line_ = text.substr(0, text.find('\n'));
}

ServerProcess::~ServerProcess()
{
  stop();
}

void ServerProcess::stop()
{
  if (stdin_fd_ != -1) {
    close(stdin_fd_);
    stdin_fd_ = -1;
  }
  if (pid_ == -1) {
    return;
  }
  const auto deadline = Clock::now() + milliseconds(5000);
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done == -1 && errno != EINTR)) {
      break;
    }
    if (Clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  pid_ = -1;
}

} // namespace gptq::it
