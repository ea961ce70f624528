// A cgroup v2 per job: the job's process starts inside it (util/spawn.h),
// so does everything it starts, whatever it does to its session, group or
// parent; when the job ends everything left in it is killed at once.
//
// Job cgroups are children of slipway's own cgroup, named
// slipway-<pid>-<start time>-<n> after the slipway process that made them
// (its pid and its start time in clock ticks since boot, field 22 of
// /proc/<pid>/stat, so that a reused pid is not taken for it). No
// controller is enabled in them: a cgroup is used only to find and kill
// processes, which needs none.
#ifndef SLIPWAY_UTIL_CGROUP_H_
#define SLIPWAY_UTIL_CGROUP_H_

#include <cstdint>
#include <memory>
#include <string>

#include "util/status.h"

namespace slipway {

// The directory of this process's cgroup v2: the "0::/path" line of
// /proc/self/cgroup under the cgroup2 mount of /proc/self/mountinfo
// (/sys/fs/cgroup on systemd machines, /sys/fs/cgroup/unified on hybrid
// ones). Errors say why there is none.
StatusOr<std::string> OwnCgroupDir();

// Limits a job cgroup carries for everything in it (cgroup v2 memory.max
// and cpu.max); 0: no limit.
struct CgroupLimits {
  uint64_t memory_bytes = 0;
  // CPU bandwidth in thousandths of a CPU (1500: one and a half CPUs).
  uint64_t cpu_millis = 0;
  bool any() const { return memory_bytes != 0 || cpu_millis != 0; }
};

// The controllers that cgroups below parent may use: the words of its
// cgroup.subtree_control ("cpu memory pids"); empty when none or unreadable.
std::string SubtreeControllers(const std::string& parent);
// Whether the word `controller` is among them.
bool HasController(const std::string& controllers, const std::string& controller);

// Writes limits into the cgroup directory dir_fd as the kernel reads them:
// memory.max "<bytes>" (and memory.swap.max "0" where the kernel has it, so
// that the limit is not dodged by swapping), cpu.max "<quota> 100000"
// (quota microseconds per 100 ms). Errors name the file.
Status WriteCgroupLimits(int dir_fd, const CgroupLimits& limits);

class JobCgroup {
 public:
  // Makes a new job cgroup below parent. use_kill_file false: kill by
  // freezing and signalling each process (what kernels before 5.14, without
  // cgroup.kill, get; tests force it).
  static StatusOr<std::unique_ptr<JobCgroup>> Create(const std::string& parent,
                                                     bool use_kill_file = true);
  // Opens an existing one (a stale cgroup to clean up).
  static StatusOr<std::unique_ptr<JobCgroup>> Open(const std::string& path);
  // Kills what is left, waits for it to go and removes the cgroup.
  ~JobCgroup();
  JobCgroup(const JobCgroup&) = delete;
  JobCgroup& operator=(const JobCgroup&) = delete;

  // Sets its limits (WriteCgroupLimits) before a process enters it.
  Status SetLimits(const CgroupLimits& limits) { return WriteCgroupLimits(dir_fd_, limits); }

  // An O_DIRECTORY descriptor of the cgroup, for SpawnRequest::cgroup_dir_fd.
  int dir_fd() const { return dir_fd_; }
  const std::string& path() const { return path_; }

  // SIGKILLs every process in the cgroup and its descendant cgroups.
  void KillAll();
  // Blocks until no process is left in it (zombies do not count), killing
  // again every second in case something was missed.
  void WaitEmpty();
  // How many processes it and its descendants hold now.
  int CountProcesses() const;
  // Removes the cgroup and its descendant cgroups; kills and waits first if
  // it is not empty. Idempotent.
  void Destroy();

 private:
  JobCgroup(std::string path, int dir_fd, bool use_kill_file)
      : path_(std::move(path)), dir_fd_(dir_fd), use_kill_file_(use_kill_file) {}
  void FreezeAndKill();

  std::string path_;
  int dir_fd_;
  bool use_kill_file_;
  bool removed_ = false;
};

// Kills the processes in the job cgroups below parent that were made by
// slipway processes which no longer run (killed with SIGKILL, so their jobs
// ran on), and removes those cgroups. Returns how many processes it killed.
int KillStaleJobCgroups(const std::string& parent);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_CGROUP_H_
