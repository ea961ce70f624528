// One started process tree under a Containment (util/containment.h): the
// command, everything it starts, and how to signal and end them all. Used by
// PosixProcessRunner, which owns the waiting and the output.
#ifndef SLIPWAY_UTIL_JOB_PROCESS_H_
#define SLIPWAY_UTIL_JOB_PROCESS_H_

#include <sys/types.h>

#include <memory>

#include "util/cgroup.h"
#include "util/containment.h"
#include "util/status.h"
#include "util/subprocess.h"

namespace slipway {

class JobProcess {
 public:
  // Starts spec's command (stdin /dev/null, stdout and stderr on output_fd;
  // stderr on error_fd when it is >= 0, else on /dev/null with
  // spec.discard_stderr) in a new process group
  // under containment (kProcessGroup instead when !spec.contain). Errors:
  // "cannot start 'argv[0]'[ in cwd]: reason".
  static StatusOr<std::unique_ptr<JobProcess>> Start(const ProcessSpec& spec, int output_fd,
                                                     int error_fd, const Containment& containment);
  // Kills and reaps whatever Finish did not.
  ~JobProcess();
  JobProcess(const JobProcess&) = delete;
  JobProcess& operator=(const JobProcess&) = delete;

  // The process whose exit ends the job: the command, or its reaper.
  pid_t pid() const { return pid_; }
  // SIGTERM to the command's process group.
  void Terminate();
  // SIGKILL to every process of the job.
  void KillAll();
  // Once pid() has exited (still a zombie, not reaped): kills what is left,
  // waits until it is gone, reaps pid() and returns its exit code (128+N for
  // signal N). Call once.
  int Finish();

 private:
  JobProcess(ContainmentKind kind, bool adopt_orphans, pid_t pid, std::unique_ptr<JobCgroup> cgroup)
      : kind_(kind), adopt_orphans_(adopt_orphans), pid_(pid), cgroup_(std::move(cgroup)) {}

  const ContainmentKind kind_;
  const bool adopt_orphans_;
  pid_t pid_;
  std::unique_ptr<JobCgroup> cgroup_;  // kCgroup only.
  bool finished_ = false;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_JOB_PROCESS_H_
