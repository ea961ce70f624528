#include "util/job_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/children.h"
#include "util/reaper.h"
#include "util/spawn.h"

namespace slipway {

StatusOr<std::unique_ptr<JobProcess>> JobProcess::Start(const ProcessSpec& spec, int output_fd,
                                                        int error_fd,
                                                        const Containment& containment) {
  if (spec.argv.empty()) return Status::Error("cannot spawn: empty command");
  SpawnRequest request;
  request.argv = spec.argv;
  request.env = spec.env;
  request.cwd = spec.cwd;
  request.stdout_fd = output_fd;
  request.stderr_fd = error_fd >= 0 ? error_fd : spec.discard_stderr ? -1 : output_fd;
  request.credentials = spec.credentials;
  request.umask = spec.umask;
  // A job that runs as another user shares no session with slipway
  // (SIGCONT crosses users within one) nor its controlling terminal.
  request.new_session = spec.credentials.has_value();

  std::unique_ptr<JobCgroup> cgroup;
  int status_pipe[2] = {-1, -1};
  const ContainmentKind kind = spec.contain ? containment.kind : ContainmentKind::kProcessGroup;
  if (kind == ContainmentKind::kCgroup) {
    StatusOr<std::unique_ptr<JobCgroup>> made =
        JobCgroup::Create(containment.cgroup_parent, !containment.freeze_to_kill);
    if (!made.ok()) {
      return Status::Error("cannot start '" + spec.argv[0] + "': " + made.status().message());
    }
    cgroup = std::move(*made);
    if (containment.job_limits.any()) {
      Status limited = cgroup->SetLimits(containment.job_limits);
      if (!limited.ok()) {
        return Status::Error("cannot start '" + spec.argv[0] + "': " + limited.message());
      }
    }
    request.cgroup_dir_fd = cgroup->dir_fd();
    request.join_cgroup_by_write = containment.join_by_write;
  } else if (kind == ContainmentKind::kReaper) {
    request.name = spec.argv[0];
    request.argv = {containment.reaper, kReaperMode};
    request.argv.insert(request.argv.end(), spec.argv.begin(), spec.argv.end());
    request.parent_death_signal = kReaperKillAll;
    if (pipe2(status_pipe, O_CLOEXEC) != 0) {
      return Status::Error("cannot start '" + spec.argv[0] + "': pipe: " + std::strerror(errno));
    }
    request.fd3 = status_pipe[1];
  }

  StatusOr<pid_t> pid = Spawn(request);
  if (status_pipe[1] >= 0) close(status_pipe[1]);
  if (!pid.ok()) {
    if (status_pipe[0] >= 0) close(status_pipe[0]);
    return pid.status();
  }
  std::unique_ptr<JobProcess> process(
      new JobProcess(kind, containment.adopt_orphans, *pid, std::move(cgroup)));
  if (status_pipe[0] >= 0) {
    // The reaper closes its end once the command runs, after a message if
    // it could not start it.
    std::string message;
    char buffer[512];
    ssize_t n;
    while ((n = read(status_pipe[0], buffer, sizeof buffer)) != 0) {
      if (n > 0) {
        message.append(buffer, static_cast<size_t>(n));
      } else if (errno != EINTR) {
        break;
      }
    }
    close(status_pipe[0]);
    if (!message.empty()) return Status::Error(message);  // ~JobProcess reaps the reaper.
  }
  return process;
}

JobProcess::~JobProcess() {
  if (finished_) return;
  KillAll();
  siginfo_t info;
  while (waitid(P_PID, pid_, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  Finish();
}

void JobProcess::Terminate() {
  if (kind_ == ContainmentKind::kReaper) {
    kill(pid_, kReaperTerminate);
  } else {
    kill(-pid_, SIGTERM);
  }
}

void JobProcess::KillAll() {
  switch (kind_) {
    case ContainmentKind::kCgroup:
      cgroup_->KillAll();
      break;
    case ContainmentKind::kReaper:
      kill(pid_, kReaperKillAll);
      break;
    case ContainmentKind::kProcessGroup:
      kill(-pid_, SIGKILL);
      break;
  }
}

int JobProcess::Finish() {
  finished_ = true;
  switch (kind_) {
    case ContainmentKind::kCgroup:
      cgroup_->Destroy();  // Kills and waits for whatever the job left.
      break;
    case ContainmentKind::kReaper:
      break;  // The reaper killed everything before it exited.
    case ContainmentKind::kProcessGroup:
      // The group id is the pid, still held by the zombie: it cannot be
      // reused before the group is killed.
      kill(-pid_, SIGKILL);
      break;
  }
  int status = ReapChild(pid_);
  // A reaper killed by a signal could not kill the job's processes; those
  // left without a parent came to this process.
  if (kind_ == ContainmentKind::kReaper && adopt_orphans_ && WIFSIGNALED(status)) {
    KillStrayChildren();
  }
  return ExitCodeOf(status);
}

}  // namespace slipway
