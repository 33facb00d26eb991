#pragma once

// Runs programs the way a user's shell would, but with everything pinned
// down: an environment built from scratch (nothing inherited), stdout and
// stderr captured through pipes, a chosen stdin, and a hard time limit so that
// a test can never hang.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace gptq::it {

using Env = std::map<std::string, std::string>;

// What the child gets as stdin.
struct StdinSpec {
  enum class Kind {
    dev_null, // /dev/null
    pipe,     // a pipe that stays open and empty for `delay`, then gets `bytes`, then closes
    file,     // the file named by `bytes`, opened for reading
    closed,   // no descriptor 0 at all
  };
  Kind kind = Kind::dev_null;
  std::string bytes;
  std::chrono::milliseconds delay{ 0 };

  // `bytes` at once, then end of file.
  static StdinSpec of(std::string bytes) { return { Kind::pipe, std::move(bytes), {} }; }
  static StdinSpec dev_null() { return {}; }
  static StdinSpec file(std::string path) { return { Kind::file, std::move(path), {} }; }
  static StdinSpec closed() { return { Kind::closed, {}, {} }; }
  // An open pipe that stays silent for `ms`, then closes without data.
  static StdinSpec silent(std::chrono::milliseconds ms) { return { Kind::pipe, {}, ms }; }
  // An open pipe that stays silent for `ms`, then gets `bytes` and closes.
  static StdinSpec later(std::chrono::milliseconds ms, std::string bytes)
  {
    return { Kind::pipe, std::move(bytes), ms };
  }

  // Kind::pipe only: when set, the pipe stays open after `bytes` until
  // `rest_when` returns true for the child's stdout so far (asked each time
  // more of it arrives), or until `rest_limit` after the start whatever it
  // says; then `rest` follows and the pipe closes.
  std::function<bool(const std::string& out_so_far)> rest_when = {};
  std::string rest = {};
  std::chrono::milliseconds rest_limit{ 0 };

  // `first` at once, then `rest` and end of file as soon as `when` is true
  // for stdout so far, or after `limit` anyway (so that a test cannot hang).
  static StdinSpec in_two_parts(std::string first,
                                std::function<bool(const std::string& out_so_far)> when,
                                std::string rest,
                                std::chrono::milliseconds limit)
  {
    StdinSpec spec = of(std::move(first));
    spec.rest_when = std::move(when);
    spec.rest = std::move(rest);
    spec.rest_limit = limit;
    return spec;
  }
};

struct RunResult {
  std::vector<std::string> argv;
  bool killed = false; // the time limit passed and the child was killed
  int exit_code = -1;  // when it exited normally, else -1
  int signal = 0;      // the signal that ended it, else 0
  std::string out;     // stdout, byte for byte
  std::string err;     // stderr, byte for byte
  std::chrono::milliseconds elapsed{ 0 };

  // A readable summary (command, status, escaped and shortened output) for
  // test failure messages.
  std::string describe() const;
};

// The default hard limit for one run.
constexpr std::chrono::milliseconds default_run_limit{ 30000 };

// What every run's limit is multiplied by: 1, or more in a build whose
// programs run several times slower (the sanitizers'), so that a run stays
// as far inside its limit there, on a loaded machine too. A limit is a
// ceiling for what hangs, never the time a test expects.
#ifndef GPTQ_RUN_LIMIT_FACTOR
#define GPTQ_RUN_LIMIT_FACTOR 1
#endif
constexpr int run_limit_factor = GPTQ_RUN_LIMIT_FACTOR;

// Runs `argv` (argv[0] is the program's path; no PATH search) with exactly
// the environment `env` and stdin `in`, and waits for it to end. Stdout is
// captured, or when `stdout_path` is not empty goes to that file (created or
// truncated; e.g. /dev/full) and the result's `out` stays empty. A child
// still running after `limit` (times run_limit_factor) is killed with
// SIGKILL and the result says `killed`. Throws std::runtime_error when the
// child cannot be started.
// `on_stdout`, when given, is called with the stdout read so far and the
// child's pid each time more of it arrives, while the child may still run
// (tests of streaming and of signals act from there). When stdout goes to
// `stdout_path`, `on_stdout` (and StdinSpec::rest_when) get that file's
// contents instead, looked at every 20 ms.
using StdoutWatcher = std::function<void(const std::string& out_so_far, int pid)>;
RunResult run(const std::vector<std::string>& argv,
              const Env& env,
              const StdinSpec& in,
              std::chrono::milliseconds limit = default_run_limit,
              const std::string& stdout_path = {},
              const StdoutWatcher& on_stdout = {});

// True when the child `pid` has not exited yet (it is not reaped).
bool still_running(int pid);

// A long-running helper process (the test server). Its stdin is a pipe that
// this object holds open: closing it tells the server to exit. Its stdout is
// read only up to the first line; its stderr is this process's stderr.
class ServerProcess {
public:
  // Starts `argv` with environment `env` and waits up to `ready_limit` for
  // its first stdout line. Throws std::runtime_error when the process cannot
  // be started or ends or stays silent without writing that line.
  ServerProcess(const std::vector<std::string>& argv, const Env& env, std::chrono::milliseconds ready_limit);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // The first line the process wrote, without its newline.
  const std::string& first_line() const { return first_line_; }

  // Closes its stdin, waits up to 5 s for it to exit, then kills it. Safe
  // to call more than once.
  void stop();

private:
  int pid_ = -1;
  int stdin_fd_ = -1;
  std::string first_line_;
};

} // namespace gptq::it
