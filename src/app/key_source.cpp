#include "key_source.hpp"

#include "error.hpp"
#include "input.hpp"
#include "text.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gptq {

namespace {

std::string first_line(const std::string& text)
{
  return std::string(trim(text.substr(0, text.find('\n'))));
}

// "1 s", "2.5 s": a time limit as messages show it.
std::string seconds_text(std::chrono::milliseconds limit)
{
  std::string text = std::to_string(limit.count() / 1000);
  if (const auto ms = limit.count() % 1000) {
    std::string fraction = std::to_string(1000 + ms).substr(1);
    text += "." + fraction.substr(0, fraction.find_last_not_of('0') + 1);
  }
  return text + " s";
}

// How a key command ended.
struct CommandResult {
  enum class End { exited, too_slow, too_much };
  End end = End::exited;
  int status = 0;  // for End::exited: the exit status, or 128 + the signal
  std::string out; // stdout, at most key_limit
  std::string err; // the start of stderr
};

// Reads what non-blocking `fd` holds now (up to 64 KiB, so that a writer
// that never stops cannot keep gptq here) into `sink`, keeping at most
// `keep` bytes in it and dropping the rest. Returns false at end of file.
bool drain(int fd, std::string& sink, std::size_t keep)
{
  char buffer[4096];
  for (int reads = 0; reads < 16; ++reads) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      sink.append(buffer, std::min(static_cast<std::size_t>(n), keep - std::min(keep, sink.size())));
    } else if (n == 0) {
      return false;
    } else if (errno == EINTR) {
      continue;
    } else {
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
  }
  return true;
}

[[noreturn]] void cannot_run(int error)
{
  throw Error(ExitStatus::auth, "api_key_cmd", std::string("cannot run it: ") + std::strerror(error));
}

// A key command started, its stdout and stderr on pipes.
struct Child {
  pid_t pid = -1;
  int out = -1;           // the read end of its stdout, non-blocking
  int err = -1;           // the read end of its stderr, non-blocking
  bool own_group = false; // it leads a process group of its own: stop it by -pid
};

// Starts `command` with /bin/sh, stdin from /dev/null and SIGPIPE at its
// default. Throws gptq::Error (auth) when it cannot be started.
Child spawn_command(const std::string& command)
{
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    cannot_run(errno);
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int error = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    cannot_run(error);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // gptq ignores SIGPIPE; the command should not inherit that.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  short flags = POSIX_SPAWN_SETSIGDEF;
  // Without a terminal, the command gets a process group of its own, so
  // that stopping it stops what it started too (a gpg waiting for a
  // pinentry). With one, it stays in gptq's: a background group could not
  // ask the user for a passphrase there, and Ctrl-C reaches it anyway.
  Child child;
  const int tty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
  child.own_group = tty < 0;
  if (tty >= 0) {
    close(tty);
  } else {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, flags);
  const char* argv[] = { "/bin/sh", "-c", command.c_str(), nullptr };
  const int rc = posix_spawn(&child.pid, "/bin/sh", &actions, &attr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    cannot_run(rc);
  }
  for (const int fd : { out_pipe[0], err_pipe[0] }) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  child.out = out_pipe[0];
  child.err = err_pipe[0];
  return child;
}

// Reads `child`'s output until it exits, or until it runs past `limit` or
// prints more than key_limit (it is killed then). The key is read when the
// command exits, not when its output closes: a child it left in the
// background (an agent) may hold that open for ever. Closes child's pipes.
CommandResult wait_for(const Child& child, std::chrono::milliseconds limit)
{
  // Readable when the command exits; without it (kernels before 5.3),
  // gptq looks every 10 ms.
  const int exit_fd = static_cast<int>(syscall(SYS_pidfd_open, child.pid, 0));

  CommandResult result;
  constexpr std::size_t err_kept = 4096;
  pollfd fds[3] = { { child.out, POLLIN, 0 }, { child.err, POLLIN, 0 }, { exit_fd, POLLIN, 0 } };
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(child.pid, &status, WNOHANG);
    // ECHILD: the command exited and the kernel reaped it, since gptq was
    // started with SIGCHLD ignored; its status is lost, its output is not.
    if (done == child.pid || (done < 0 && errno == ECHILD)) {
      // What it wrote before it exited is in the pipes now.
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd >= 0) {
          drain(fds[i].fd, i == 0 ? result.out : result.err, i == 0 ? key_limit.bytes + 1 : err_kept);
        }
      }
      result.status = done != child.pid ? 0 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (result.out.size() > key_limit.bytes) {
        result.end = CommandResult::End::too_much;
      }
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (result.out.size() > key_limit.bytes || now >= deadline) {
      result.end = result.out.size() > key_limit.bytes ? CommandResult::End::too_much : CommandResult::End::too_slow;
      kill(child.own_group ? -child.pid : child.pid, SIGKILL);
      while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    if (exit_fd < 0) {
      wait = std::min(wait, std::chrono::milliseconds(10));
    }
    if (poll(fds, 3, static_cast<int>(wait.count())) < 0 && errno != EINTR) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && fds[i].revents != 0 &&
          !drain(fds[i].fd, i == 0 ? result.out : result.err, i == 0 ? key_limit.bytes + 1 : err_kept)) {
        close(fds[i].fd);
        fds[i].fd = -1; // poll skips it
      }
    }
  }
  for (const auto& p : fds) {
    if (p.fd >= 0) {
      close(p.fd);
    }
  }
  return result;
}

// Runs `command` with /bin/sh for at most `limit`.
CommandResult run_command(const std::string& command, std::chrono::milliseconds limit)
{
  return wait_for(spawn_command(command), limit);
}

} // namespace

std::optional<std::string> read_api_key(const KeySource& source,
                                        const Environment& env,
                                        std::ostream& warnings,
                                        const KeyCommandLimit& limit)
{
  std::string key;
  std::string where;
  // Where the source is set, so that a failure can be mended there.
  const std::string origin = source.defined_at.empty() ? "" : " (" + source.defined_at + ")";
  if (source.command) {
    where = "api_key_cmd of " + source.origin + origin;
    const CommandResult run = run_command(*source.command, limit.time);
    const std::string shown = quoted(*source.command, 80);
    if (run.end == CommandResult::End::too_slow) {
      throw Error(ExitStatus::auth,
                  where,
                  shown + " did not finish within " + seconds_text(limit.time) + " (" + limit.option +
                    "), so gptq stopped it");
    }
    if (run.end == CommandResult::End::too_much) {
      throw Error(
        ExitStatus::auth, where, shown + " printed more than the limit of " + key_limit.text + ", so gptq stopped it");
    }
    if (run.status != 0) {
      throw Error(ExitStatus::auth,
                  where,
                  shown + " failed with status " + std::to_string(run.status) +
                    (trim(run.err).empty() ? std::string() : ": " + one_line(first_line(run.err), 200)));
    }
    key = first_line(run.out);
  } else if (source.file) {
    where = "api_key_file of " + source.origin + origin;
    std::string text;
    try {
      text = read_user_file(*source.file, where, key_limit);
    } catch (const Error& e) {
      throw Error(ExitStatus::auth, e.phase(), e.what());
    }
    struct stat st;
    if (stat(source.file->c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
      warnings << "gptq: warning: the key file " << quoted(*source.file) << " is readable by others; chmod 600 it\n"
               << std::flush;
    }
    key = first_line(text);
  } else {
    where = source.env_name;
    key = std::string(trim(env(source.env_name).value_or("")));
  }
  if (key.empty()) {
    return std::nullopt;
  }
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      throw Error(ExitStatus::auth,
                  "",
                  "the key from " + where + " contains spaces, control or non-ASCII characters, so it cannot be sent");
    }
  }
  return key;
}

} // namespace gptq
