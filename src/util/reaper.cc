#include "util/reaper.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "util/children.h"
#include "util/spawn.h"

extern char** environ;

namespace slipway {
namespace {

constexpr int kStatusFd = 3;

// The exit status waitid reported for a child, as bash reports it.
int ExitCodeOf(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return info.si_status;
  return 128 + info.si_status;
}

}  // namespace

int ReaperMain(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: slipway %s COMMAND [ARG...]\n", kReaperMode);
    return 2;
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Signals are taken synchronously with sigwaitinfo; the command gets an
  // empty mask (Spawn resets it).
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGCHLD, kReaperTerminate, SIGINT, kReaperKillAll}) sigaddset(&handled, sig);
  sigprocmask(SIG_BLOCK, &handled, nullptr);

  bool report = fcntl(kStatusFd, F_SETFD, FD_CLOEXEC) == 0;
  SpawnRequest request;
  request.argv.assign(argv + 2, argv + argc);
  for (char** e = environ; *e != nullptr; ++e) request.env.emplace_back(*e);
  request.stdin_fd = 0;
  request.stdout_fd = 1;
  request.stderr_fd = 2;
  StatusOr<pid_t> command = Spawn(request);
  if (report) {
    if (!command.ok()) {
      std::string message = command.status().message();
      (void)!write(kStatusFd, message.data(), message.size());
    }
    close(kStatusFd);
  }
  if (!command.ok()) return 127;
  const pid_t group = *command;

  int exit_code = 128 + SIGKILL;
  bool running = true;
  while (running) {
    siginfo_t info;
    int sig = sigwaitinfo(&handled, &info);
    if (sig == SIGCHLD) {
      // Reap orphans that ended; stop at the command, left a zombie so that
      // its pid, the group's id, is not reused before the group is killed.
      while (true) {
        siginfo_t child{};
        if (waitid(P_ALL, 0, &child, WEXITED | WNOHANG | WNOWAIT) != 0 || child.si_pid == 0) break;
        if (child.si_pid == group) {
          exit_code = ExitCodeOf(child);
          running = false;
          break;
        }
        waitpid(child.si_pid, nullptr, 0);
      }
    } else if (sig == kReaperKillAll) {
      running = false;
    } else if (sig > 0) {
      kill(-group, sig);
    }
  }
  kill(-group, SIGKILL);
  KillAllChildren();
  return exit_code;
}

}  // namespace slipway
