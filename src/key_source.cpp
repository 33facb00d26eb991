#include "key_source.hpp"

#include "error.hpp"
#include "text.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gptq {

namespace {

std::string first_line(const std::string& text)
{
  return std::string(trim(text.substr(0, text.find('\n'))));
}

// Runs `command` with /bin/sh; returns its exit status, stdout and stderr.
int run_command(const std::string& command, std::string& out, std::string& err)
{
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw Error(ExitStatus::auth, "api_key_cmd", std::string("cannot run it: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw Error(ExitStatus::auth, "api_key_cmd", std::string("cannot run it: ") + std::strerror(rc));
  }
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open_count = 2;
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

std::optional<std::string> read_api_key(const KeySource& source, const Environment& env, std::ostream& warnings)
{
  std::string key;
  std::string where;
  if (source.command) {
    where = "api_key_cmd of " + source.origin;
    std::string out;
    std::string err;
    const int status = run_command(*source.command, out, err);
    if (status != 0) {
      throw Error(ExitStatus::auth,
                  where,
                  "'" + one_line(*source.command, 80) + "' failed with status " + std::to_string(status) +
                    (trim(err).empty() ? std::string() : ": " + one_line(first_line(err), 200)));
    }
    key = first_line(out);
  } else if (source.file) {
    where = "api_key_file of " + source.origin;
    struct stat st;
    std::ifstream in(*source.file);
    if (!in || stat(source.file->c_str(), &st) != 0) {
      throw Error(ExitStatus::auth, where, "cannot read '" + *source.file + "': " + std::strerror(errno));
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
      warnings << "gptq: warning: the key file '" << *source.file
               << "' is readable by others; chmod 600 it\n" << std::flush;
    }
    std::getline(in, key);
    key = std::string(trim(key));
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
