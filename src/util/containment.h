// How slipway makes sure that nothing a job starts outlives it
// (docs/processes.md). Chosen once per process:
//   kCgroup        each job runs in a cgroup v2 of its own (util/cgroup.h),
//                  killed as a whole when the job ends;
//   kReaper        where no cgroup can be made (no cgroup v2, no
//                  delegation, SLIPWAY_NO_CGROUP=1): each job runs under
//                  `slipway __reap` (util/reaper.h), a child subreaper that
//                  kills every descendant when the job's command ends;
//   kProcessGroup  neither (a program that links the engine without
//                  naming a reaper binary): the job's process group only.
#ifndef SLIPWAY_UTIL_CONTAINMENT_H_
#define SLIPWAY_UTIL_CONTAINMENT_H_

#include <string>

#include "util/cgroup.h"

namespace slipway {

enum class ContainmentKind { kCgroup, kReaper, kProcessGroup };

struct Containment {
  ContainmentKind kind = ContainmentKind::kProcessGroup;
  // kCgroup: the cgroup job cgroups are made in (slipway's own).
  std::string cgroup_parent;
  // kReaper: the slipway binary, run as `reaper __reap COMMAND...`.
  std::string reaper;
  // kReaper: whether this process is a child subreaper that kills the
  // orphans reaching it (util/children.h) when a reaper dies abnormally.
  bool adopt_orphans = false;
  // kCgroup, for tests of the older kernels' paths: join by writing
  // cgroup.procs instead of CLONE_INTO_CGROUP; kill by freezing instead of
  // cgroup.kill.
  bool join_by_write = false;
  bool freeze_to_kill = false;
  // kCgroup: limits every job cgroup gets before its process enters it.
  // Only controllers in cgroup_parent's cgroup.subtree_control can be
  // limited (SubtreeControllers); the caller checks.
  CgroupLimits job_limits;
  // Why the cgroup path is not used, for Describe (empty with kCgroup).
  std::string why_not_cgroup;

  // One line for logs: "cgroup v2 (under /sys/fs/cgroup/x)", "reaper (no
  // cgroup: ...)".
  std::string Describe() const;
};

// Names the binary that has the hidden `__reap` mode (the slipway binary;
// main passes /proc/self/exe, the tests their build's slipway) and whether
// this process adopts orphans. Call before the first DefaultContainment();
// without it the fallback is kProcessGroup.
void SetReaperBinary(const std::string& path, bool adopt_orphans);

// The containment this process uses, found on the first call (thread-safe):
// kCgroup when a child of slipway's own cgroup v2 can be made and entered
// (unless SLIPWAY_NO_CGROUP is set to anything but "" or "0"), else kReaper
// when a reaper binary was named, else kProcessGroup. With kReaper and
// adopt_orphans, makes this process a child subreaper.
const Containment& DefaultContainment();

// With kCgroup: kills the processes of job cgroups left by slipway
// processes that no longer run (see KillStaleJobCgroups). Returns how many.
int KillLeftoverJobProcesses();

}  // namespace slipway

#endif  // SLIPWAY_UTIL_CONTAINMENT_H_
