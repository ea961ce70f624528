#include "util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/job_process.h"

extern char** environ;

namespace slipway {
namespace {

// The machine's monotonic clock, not a slipway::Clock: the deadlines below
// are enforced on a real process by poll(), whose waits are real time, and
// that a fake clock could not shorten.
using SteadyClock = std::chrono::steady_clock;

// How often a running child is checked for cancellation: the CancelToken is
// polled, so this bounds how long a Ctrl-C takes to reach the job.
constexpr std::chrono::milliseconds kCancelPollInterval{20};
// Without a pidfd (kernels before 5.3), how often waitid() is retried.
constexpr std::chrono::milliseconds kExitPollInterval{5};
// After the job is finished, how long a pipe held open by a process that
// escaped (only possible with ContainmentKind::kProcessGroup: one that
// called setsid) may keep Run from returning.
constexpr std::chrono::milliseconds kDrainAfterExit{2000};

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Closes an fd on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace

PosixProcessRunner::PosixProcessRunner() : containment_(DefaultContainment()) {}

PosixProcessRunner::PosixProcessRunner(Containment containment)
    : containment_(std::move(containment)) {}

StatusOr<ProcessResult> PosixProcessRunner::Run(const ProcessSpec& spec, const OutputFn& output,
                                                const CancelToken* cancel) {
  // The pipes read: stdout (and stderr with it), then stderr alone when the
  // spec asks for it.
  Fd read_ends[2];
  Fd write_ends[2];
  const OutputFn* sinks[2] = {&output, &spec.stderr_output};
  const int pipe_count = spec.stderr_output ? 2 : 1;
  for (int i = 0; i < pipe_count; ++i) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Status::Error(Errno("pipe2"));
    read_ends[i] = Fd(pipe_fds[0]);
    write_ends[i] = Fd(pipe_fds[1]);
  }
  StatusOr<std::unique_ptr<JobProcess>> started =
      JobProcess::Start(spec, write_ends[0].get(), write_ends[1].get(), containment_);
  write_ends[0].Reset();
  write_ends[1].Reset();
  if (!started.ok()) return started.status();
  JobProcess& job = **started;
  const pid_t pid = job.pid();
  for (int i = 0; i < pipe_count; ++i) {
    fcntl(read_ends[i].get(), F_SETFL, fcntl(read_ends[i].get(), F_GETFL) | O_NONBLOCK);
  }
  auto any_open = [&] { return read_ends[0].get() >= 0 || read_ends[1].get() >= 0; };
  Fd pidfd(PidfdOpen(pid));

  ProcessResult result;
  const SteadyClock::time_point start = SteadyClock::now();
  std::optional<SteadyClock::time_point> deadline;
  if (spec.timeout) deadline = start + *spec.timeout;
  std::optional<SteadyClock::time_point> term_sent;
  bool killed = false;
  bool exited = false;  // The leader has exited and the job is finished.
  std::optional<SteadyClock::time_point> drain_until;
  char buffer[65536];

  while (!exited || any_open()) {
    SteadyClock::time_point now = SteadyClock::now();
    // Decide on signals first: a child that ignores its output still ends.
    if (!exited && !term_sent) {
      bool cancel_now = cancel != nullptr && cancel->canceled();
      bool timeout_now = deadline && now >= *deadline;
      if (cancel_now || timeout_now) {
        result.canceled = cancel_now;
        result.timed_out = !cancel_now;
        job.Terminate();
        term_sent = now;
      }
    }
    if (term_sent && !killed && !exited && now >= *term_sent + spec.kill_grace) {
      job.KillAll();
      killed = true;
    }

    std::chrono::milliseconds wait{-1};
    auto bound = [&](std::chrono::milliseconds ms) {
      ms = std::max(ms, std::chrono::milliseconds(0));
      wait = wait.count() < 0 ? ms : std::min(wait, ms);
    };
    auto until = [&](SteadyClock::time_point t) {
      bound(std::chrono::duration_cast<std::chrono::milliseconds>(t - now) +
            std::chrono::milliseconds(1));
    };
    if (!exited) {
      if (cancel != nullptr && !term_sent) bound(kCancelPollInterval);
      if (deadline && !term_sent) until(*deadline);
      if (term_sent && !killed) until(*term_sent + spec.kill_grace);
      if (pidfd.get() < 0) bound(kExitPollInterval);
    }
    if (drain_until) until(*drain_until);

    pollfd fds[3];
    int nfds = 0;
    for (const Fd& read_end : read_ends) {
      if (read_end.get() >= 0) fds[nfds++] = {read_end.get(), POLLIN, 0};
    }
    if (!exited && pidfd.get() >= 0) fds[nfds++] = {pidfd.get(), POLLIN, 0};
    if (nfds > 0) {
      int rc = poll(fds, nfds, static_cast<int>(wait.count()));
      if (rc < 0 && errno != EINTR) return Status::Error(Errno("poll"));  // ~JobProcess kills.
    }

    for (int i = 0; i < pipe_count; ++i) {
      Fd& read_end = read_ends[i];
      while (read_end.get() >= 0) {
        ssize_t n = read(read_end.get(), buffer, sizeof(buffer));
        if (n > 0) {
          (*sinks[i])(std::string_view(buffer, static_cast<size_t>(n)));
          continue;
        }
        if (n == 0) {
          read_end.Reset();  // Every writer is gone.
        } else if (errno == EINTR) {
          continue;
        }
        break;  // EAGAIN: nothing more for now.
      }
    }

    if (!exited) {
      // WNOWAIT keeps the leader a zombie so its pid, which is the group id,
      // cannot be reused while the rest of the job is being killed.
      siginfo_t info;
      info.si_pid = 0;
      if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
        exited = true;
        result.exit_code = job.Finish();  // Kills whatever the job left running.
        drain_until = SteadyClock::now() + kDrainAfterExit;
      }
    }
    if (drain_until && SteadyClock::now() >= *drain_until) {
      read_ends[0].Reset();
      read_ends[1].Reset();
    }
  }
  return result;
}

std::vector<std::string> HostEnvironmentForTools() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("GIT_DIR=") || entry.starts_with("GIT_INDEX_FILE=") ||
        entry.starts_with("GIT_WORK_TREE=") || entry.starts_with("GIT_OBJECT_DIRECTORY=") ||
        entry.starts_with("GIT_ALTERNATE_OBJECT_DIRECTORIES=") ||
        entry.starts_with("GIT_COMMON_DIR=") || entry.starts_with("GIT_PREFIX=")) {
      continue;
    }
    env.emplace_back(entry);
  }
  return env;
}

StatusOr<std::string> RunTool(ProcessRunner* runner, const std::vector<std::string>& argv,
                              const std::string& cwd, const std::vector<std::string>& extra_env) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.cwd = cwd;
  spec.discard_stderr = true;
  spec.contain = false;
  // getenv() takes the first of duplicate names, so overrides go first.
  spec.env = extra_env;
  for (std::string& e : HostEnvironmentForTools()) spec.env.push_back(std::move(e));
  std::string out;
  StatusOr<ProcessResult> result = runner->Run(
      spec, [&](std::string_view chunk) { out.append(chunk); }, nullptr);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    std::string command;
    for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
    return Status::Error("'" + command + "' failed with exit code " +
                         std::to_string(result->exit_code));
  }
  return out;
}

}  // namespace slipway
