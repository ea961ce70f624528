// Test helper (header-only, tests only): the real slipway binary run with an
// argument vector (no shell), its stdout and stderr captured apart.
#ifndef SLIPWAY_CLI_CLI_TEST_UTIL_H_
#define SLIPWAY_CLI_CLI_TEST_UTIL_H_

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace slipway {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs SLIPWAY_BINARY args... in cwd (empty: the test's), stdin from
// /dev/null, with env (NAME=VALUE) added to the test's environment.
inline CliResult RunSlipway(const std::vector<std::string>& args, const std::string& cwd = "",
                            const std::vector<std::string>& env = {}) {
  int out_pipe[2], err_pipe[2];
  CliResult r;
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return r;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return r;
  std::vector<std::string> argv_storage = {SLIPWAY_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
    for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    for (std::string& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  for (int open = 2; open > 0;) {
    if (::poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace slipway

#endif  // SLIPWAY_CLI_CLI_TEST_UTIL_H_
