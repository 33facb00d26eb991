// gptq_bench_run: times commands side by side for tests/bench/run.sh.
//
// Usage: gptq_bench_run [--runs N] [--timeout SECONDS] [--out-dir DIR] COMMAND...
//   where each COMMAND is
//     --cmd NAME [--env NAME=VALUE]... [--stdin FILE] [--] PROGRAM [ARG]... ;
//   (the lone ";" ends the command's words; quote it in a shell).
//
// Each command first runs once as a warm-up, not counted, its stdout going
// to the file DIR/NAME with --out-dir (so that a caller can check the
// output), else to /dev/null. Then come N rounds (default 30; 0 runs the warm-ups only), each
// running every command once, in the given order in even rounds and in
// reverse order in odd ones (AB BA AB ...), so that drift in the machine's
// speed falls on all commands alike. Timed runs write stdout to /dev/null.
//
// A run is fork + execve with exactly the --env variables as environment
// (nothing is inherited), stdin from --stdin FILE (opened afresh per run) or
// /dev/null, stderr to a temporary file, in a process group of its own.
// PROGRAM without a "/" is looked up in this program's PATH. Wall time is
// CLOCK_MONOTONIC from just before fork to just after wait4 returns; peak
// RSS is wait4's ru_maxrss, which on Linux is the largest peak of the
// process and of every descendant it waited for (so `/bin/sh -c 'a | b'`
// reports max(a, b), not their sum), and is never below this program's own
// resident size at fork.
//
// Prints one line per command, after all runs:
//   NAME runs=N wall_ms_median=X wall_ms_min=X wall_ms_max=X rss_mib_median=X rss_mib_max=X
// (with --runs 0, the warm-up's figures, runs=0). Medians of an even count
// are the mean of the two middle values.
//
// Exit status: 0; 1 if any run exits non-zero, dies of a signal or outlives
// --timeout (default 300 s; its process group is then killed), after
// printing the command's name, its status and its stderr; 2 for a usage
// error.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct Command {
  std::string name;
  std::vector<std::string> env;
  std::string stdin_path = "/dev/null";
  std::vector<std::string> argv;
  std::string program; // argv[0] resolved to a path
  std::vector<double> wall_ms;
  std::vector<double> rss_mib;
};

struct Run {
  double wall_ms = 0;
  double rss_mib = 0;
};

const char* const usage = "usage: gptq_bench_run [--runs N] [--timeout SECONDS] [--out-dir DIR] COMMAND...\n"
                          "  COMMAND: --cmd NAME [--env NAME=VALUE]... [--stdin FILE] [--] PROGRAM [ARG]... ;\n";

volatile std::sig_atomic_t timed_out = 0;

void on_alarm(int)
{
  timed_out = 1;
}

double monotonic_ms()
{
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

[[noreturn]] void usage_error(const std::string& message)
{
  std::fprintf(stderr, "gptq_bench_run: %s\n%s", message.c_str(), usage);
  std::exit(2);
}

// `program` itself if it names a path, else the first executable PROGRAM in
// this process's PATH; empty if there is none.
std::string resolve(const std::string& program)
{
  if (program.find('/') != std::string::npos) {
    return program;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) {
      return {};
    }
    dirs.remove_prefix(colon + 1);
  }
}

std::vector<char*> c_strings(std::vector<std::string>& v)
{
  std::vector<char*> out;
  for (auto& s : v) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// Prints the temporary stderr file `fd` to our stderr.
void show_stderr(int fd)
{
  ::lseek(fd, 0, SEEK_SET);
  char buffer[4096];
  ssize_t got = 0;
  bool any = false;
  while ((got = ::read(fd, buffer, sizeof buffer)) > 0) {
    std::fwrite(buffer, 1, static_cast<std::size_t>(got), stderr);
    any = true;
  }
  if (!any) {
    std::fputs("(nothing on stderr)\n", stderr);
  }
}

// Runs `cmd` once, its stderr into the temporary file `err_fd`; exits the
// program with status 1 if the run fails.
Run run_once(Command& cmd, const std::string& stdout_path, int err_fd, int timeout_seconds)
{
  std::vector<char*> argv = c_strings(cmd.argv);
  std::vector<char*> envp = c_strings(cmd.env);
  if (::ftruncate(err_fd, 0) != 0 || ::lseek(err_fd, 0, SEEK_SET) != 0) {
    std::perror("gptq_bench_run: stderr file");
    std::exit(1);
  }

  const double start = monotonic_ms();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("gptq_bench_run: fork");
    std::exit(1);
  }
  if (pid == 0) {
    // This program is single-threaded, so the child may do this much
    // before execve.
    ::setpgid(0, 0);
    const int in = ::open(cmd.stdin_path.c_str(), O_RDONLY);
    const int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err_fd, 2) < 0) {
      std::fprintf(stderr, "gptq_bench_run: redirecting: %s\n", std::strerror(errno));
      ::_exit(127);
    }
    ::execve(cmd.program.c_str(), argv.data(), envp.data());
    const std::string message = "gptq_bench_run: execve " + cmd.program + ": " + std::strerror(errno) + "\n";
    if (::write(2, message.data(), message.size()) < 0) {
      // nothing more to do
    }
    ::_exit(127);
  }

  int status = 0;
  rusage usage{};
  timed_out = 0;
  ::alarm(static_cast<unsigned>(timeout_seconds));
  pid_t got = 0;
  while ((got = ::wait4(pid, &status, 0, &usage)) < 0 && errno == EINTR) {
    if (timed_out != 0) {
      ::kill(-pid, SIGKILL);
    }
  }
  const double end = monotonic_ms();
  ::alarm(0);
  if (got < 0) {
    std::perror("gptq_bench_run: wait4");
    std::exit(1);
  }
  if (timed_out != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (timed_out != 0) {
      std::fprintf(stderr, "gptq_bench_run: %s: killed after %d s\n", cmd.name.c_str(), timeout_seconds);
    } else if (WIFSIGNALED(status)) {
      std::fprintf(stderr, "gptq_bench_run: %s: killed by signal %d\n", cmd.name.c_str(), WTERMSIG(status));
    } else {
      std::fprintf(stderr, "gptq_bench_run: %s: exit status %d\n", cmd.name.c_str(), WEXITSTATUS(status));
    }
    std::fputs("command:", stderr);
    for (const auto& word : cmd.argv) {
      std::fprintf(stderr, " %s", word.c_str());
    }
    std::fputs("\nits stderr:\n", stderr);
    show_stderr(err_fd);
    ::kill(-pid, SIGKILL); // anything it left behind
    std::exit(1);
  }
  return Run{ end - start, static_cast<double>(usage.ru_maxrss) / 1024.0 };
}

double median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Parses a whole non-negative decimal number, or exits with a usage error.
long number(const char* text, const char* option)
{
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 0) {
    usage_error(std::string(option) + " needs a number, not: " + text);
  }
  return v;
}

std::vector<Command> parse_commands(int argc, char** argv, int i)
{
  std::vector<Command> commands;
  auto next = [&](std::string_view option) -> std::string {
    if (i + 1 >= argc) {
      usage_error(std::string(option) + " needs a value");
    }
    return argv[++i];
  };
  for (; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--cmd") {
      usage_error(std::string("expected --cmd, not: ") + argv[i]);
    }
    Command cmd;
    cmd.name = next("--cmd");
    for (++i; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg == "--env") {
        cmd.env.push_back(next(arg));
        if (cmd.env.back().find('=') == std::string::npos) {
          usage_error("--env needs NAME=VALUE, not: " + cmd.env.back());
        }
      } else if (arg == "--stdin") {
        cmd.stdin_path = next(arg);
      } else if (arg == "--") {
        ++i;
        break;
      } else if (arg.starts_with("--")) {
        usage_error("unknown option of --cmd " + cmd.name + ": " + std::string(arg));
      } else {
        break;
      }
    }
    for (; i < argc && std::string_view(argv[i]) != ";"; ++i) {
      cmd.argv.emplace_back(argv[i]);
    }
    if (i >= argc) {
      usage_error("the command " + cmd.name + " does not end with ;");
    }
    if (cmd.name.empty() || cmd.name.find_first_of("/ \t\n") != std::string::npos) {
      usage_error("a command's NAME must be a word without \"/\": " + cmd.name);
    }
    if (cmd.argv.empty()) {
      usage_error("the command " + cmd.name + " has no program");
    }
    cmd.program = resolve(cmd.argv[0]);
    if (cmd.program.empty()) {
      usage_error("not found in PATH: " + cmd.argv[0]);
    }
    commands.push_back(std::move(cmd));
  }
  if (commands.empty()) {
    usage_error("no command given");
  }
  return commands;
}

} // namespace

int main(int argc, char** argv)
{
  long runs = 30;
  long timeout_seconds = 300;
  std::string out_dir;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = number(argv[++i], "--runs");
    } else if (arg == "--timeout" && i + 1 < argc) {
      timeout_seconds = std::max(1L, number(argv[++i], "--timeout"));
    } else if (arg == "--out-dir" && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else {
      break;
    }
  }
  std::vector<Command> commands = parse_commands(argc, argv, i);

  struct sigaction alarm_action {};
  alarm_action.sa_handler = on_alarm; // no SA_RESTART: wait4 returns EINTR
  sigemptyset(&alarm_action.sa_mask);
  ::sigaction(SIGALRM, &alarm_action, nullptr);

  std::string err_path = "/tmp/gptq-bench-run.XXXXXX";
  if (const char* tmpdir = std::getenv("TMPDIR"); tmpdir != nullptr && *tmpdir != '\0') {
    err_path = std::string(tmpdir) + "/gptq-bench-run.XXXXXX";
  }
  const int err_fd = ::mkostemp(err_path.data(), O_CLOEXEC);
  if (err_fd < 0) {
    std::perror("gptq_bench_run: temporary file");
    return 1;
  }
  ::unlink(err_path.c_str());

  const int timeout = static_cast<int>(std::min(timeout_seconds, 100000L));
  std::vector<Run> warmups;
  for (auto& cmd : commands) {
    warmups.push_back(run_once(cmd, out_dir.empty() ? "/dev/null" : out_dir + "/" + cmd.name, err_fd, timeout));
  }
  for (long round = 0; round < runs; ++round) {
    for (std::size_t k = 0; k < commands.size(); ++k) {
      Command& cmd = commands[round % 2 == 0 ? k : commands.size() - 1 - k];
      const Run r = run_once(cmd, "/dev/null", err_fd, timeout);
      cmd.wall_ms.push_back(r.wall_ms);
      cmd.rss_mib.push_back(r.rss_mib);
    }
  }

  for (std::size_t k = 0; k < commands.size(); ++k) {
    Command& cmd = commands[k];
    if (runs == 0) {
      cmd.wall_ms.push_back(warmups[k].wall_ms);
      cmd.rss_mib.push_back(warmups[k].rss_mib);
    }
    std::printf("%s runs=%ld wall_ms_median=%.3f wall_ms_min=%.3f wall_ms_max=%.3f rss_mib_median=%.2f "
                "rss_mib_max=%.2f\n",
                cmd.name.c_str(),
                runs,
                median(cmd.wall_ms),
                *std::min_element(cmd.wall_ms.begin(), cmd.wall_ms.end()),
                *std::max_element(cmd.wall_ms.begin(), cmd.wall_ms.end()),
                median(cmd.rss_mib),
                *std::max_element(cmd.rss_mib.begin(), cmd.rss_mib.end()));
  }
  return 0;
}
