// Test helpers (tests only) for the ways job processes are contained: the
// containments to run a test under, and a job script that starts processes
// meant to outlive the job.
#ifndef SLIPWAY_UTIL_CONTAINMENT_TEST_UTIL_H_
#define SLIPWAY_UTIL_CONTAINMENT_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "util/cgroup.h"
#include "util/containment.h"
#include "util/test_dir.h"

namespace slipway {

// A containment a test runs under, by name (for the test's name).
struct NamedContainment {
  std::string name;
  Containment containment;
  // The cgroup path needs cgroup v2 with delegation; tests under it are
  // skipped where DefaultContainment() found none.
  bool needs_cgroup = false;
};

// Every path a job's processes can be run under on this machine: the
// cgroup (with CLONE_INTO_CGROUP and cgroup.kill), the cgroup as kernels
// before 5.7 and 5.14 get it (joined by a write, killed by freezing), and
// the reaper (SLIPWAY_BINARY __reap).
inline std::vector<NamedContainment> AllContainments() {
  std::vector<NamedContainment> out;
  // Not DefaultContainment(): this runs while tests are registered, before
  // the reaper binary is named (containment_test.cc).
  Containment cgroup;
  cgroup.kind = ContainmentKind::kCgroup;
  StatusOr<std::string> own = OwnCgroupDir();
  cgroup.cgroup_parent = own.ok() ? *own : "";
  out.push_back({"Cgroup", cgroup, true});
  Containment old_kernel = cgroup;
  old_kernel.join_by_write = true;
  old_kernel.freeze_to_kill = true;
  out.push_back({"CgroupJoinedByWriteKilledByFreezing", old_kernel, true});
  Containment reaper;
  reaper.kind = ContainmentKind::kReaper;
  reaper.reaper = SLIPWAY_BINARY;
  out.push_back({"Reaper", reaper, false});
  return out;
}

inline void PrintTo(const NamedContainment& named, std::ostream* os) { *os << named.name; }

// Skips the current test when it needs a cgroup and there is none.
#define SLIPWAY_SKIP_WITHOUT_CGROUP(named)                                           \
  if ((named).needs_cgroup && DefaultContainment().kind != ContainmentKind::kCgroup) \
  GTEST_SKIP() << "no cgroup v2 here: " << DefaultContainment().Describe()

// Bash commands that start three processes meant to outlive the job — one
// in a new session (setsid), one double-forked (its parent gone, so
// re-parented), one under nohup — each writing its pid to dir/<kind>.pid,
// and that wait until the three files are written.
inline std::string EscapingCommands(const std::string& dir) {
  return "setsid sleep 1000 & echo $! > " + dir + "/setsid.pid\n" + "( ( sleep 1000 & echo $! > " +
         dir + "/double.pid ) & )\n" + "nohup sleep 1000 >/dev/null 2>&1 & echo $! > " + dir +
         "/nohup.pid\n" + "until [ -s " + dir + "/double.pid ]; do sleep 0.01; done\n";
}

// The pids EscapingCommands wrote to dir.
inline std::vector<pid_t> EscapedPids(const std::string& dir) {
  std::vector<pid_t> pids;
  for (const char* kind : {"setsid", "double", "nohup"}) {
    pid_t pid = std::atoi(Slurp(dir + "/" + kind + ".pid").c_str());
    EXPECT_GT(pid, 1) << kind << ".pid in " << dir;
    if (pid > 1) pids.push_back(pid);
  }
  return pids;
}

// The lines of `ls -l /proc/self/fd` output that show a descriptor other
// than 0, 1, 2 and the directory ls itself opened to list them (or every
// line when there is no listing).
inline std::vector<std::string> UnexpectedDescriptors(const std::string& listing) {
  std::vector<std::string> unexpected;
  bool listed = false;
  size_t start = 0;
  while (start < listing.size()) {
    size_t end = listing.find('\n', start);
    if (end == std::string::npos) end = listing.size();
    std::string line = listing.substr(start, end - start);
    start = end + 1;
    size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    listed = true;
    size_t name = line.rfind(' ', arrow - 1) + 1;
    int fd = std::atoi(line.c_str() + name);
    std::string target = line.substr(arrow + 4);
    bool own_dir = target.rfind("/proc/", 0) == 0 && target.size() > 3 &&
                   target.compare(target.size() - 3, 3, "/fd") == 0;
    if (fd > 2 && !own_dir) unexpected.push_back(line);
  }
  if (!listed) unexpected.push_back("no listing in: " + listing);
  return unexpected;
}

}  // namespace slipway

#endif  // SLIPWAY_UTIL_CONTAINMENT_TEST_UTIL_H_
