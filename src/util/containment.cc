#include "util/containment.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "util/cgroup.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace slipway {
namespace {

struct ReaperSetting {
  std::mutex mu;
  std::string path GUARDED_BY(mu);
  bool adopt_orphans GUARDED_BY(mu) = false;
};
ReaperSetting& Reaper() {
  static ReaperSetting setting;
  return setting;
}

// Whether slipway can make a job cgroup below dir and move a process into
// it: it needs write access to the cgroup.procs files of both (the source
// and the destination of the move).
Status ProbeCgroup(const std::string& dir) {
  if (access((dir + "/cgroup.procs").c_str(), W_OK) != 0) {
    return Status::Error("cannot write " + dir + "/cgroup.procs");
  }
  StatusOr<std::unique_ptr<JobCgroup>> probe = JobCgroup::Create(dir);
  if (!probe.ok()) return probe.status();
  if (access(((*probe)->path() + "/cgroup.procs").c_str(), W_OK) != 0) {
    return Status::Error("cannot write " + (*probe)->path() + "/cgroup.procs");
  }
  return Status::Ok();
}

Containment Probe() {
  Containment c;
  const char* off = std::getenv("SLIPWAY_NO_CGROUP");
  if (off != nullptr && *off != '\0' && std::string(off) != "0") {
    c.why_not_cgroup = "SLIPWAY_NO_CGROUP is set";
  } else {
    StatusOr<std::string> dir = OwnCgroupDir();
    Status usable = dir.ok() ? ProbeCgroup(*dir) : dir.status();
    if (usable.ok()) {
      c.kind = ContainmentKind::kCgroup;
      c.cgroup_parent = *dir;
      return c;
    }
    c.why_not_cgroup = usable.message();
  }
  ReaperSetting& reaper = Reaper();
  std::lock_guard<std::mutex> lock(reaper.mu);
  if (!reaper.path.empty()) {
    c.kind = ContainmentKind::kReaper;
    c.reaper = reaper.path;
    c.adopt_orphans = reaper.adopt_orphans;
    // Orphans of a reaper that was killed come to this process, which
    // kills them (PosixProcessRunner, after a reaper dies by a signal).
    if (c.adopt_orphans) prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  return c;
}

}  // namespace

std::string Containment::Describe() const {
  switch (kind) {
    case ContainmentKind::kCgroup:
      return "a cgroup v2 per job (under " + cgroup_parent + ")";
    case ContainmentKind::kReaper:
      return "a reaper process per job (no cgroup: " + why_not_cgroup + ")";
    case ContainmentKind::kProcessGroup:
      break;
  }
  return "the job's process group only (no cgroup: " + why_not_cgroup + "; no reaper)";
}

void SetReaperBinary(const std::string& path, bool adopt_orphans) {
  ReaperSetting& reaper = Reaper();
  std::lock_guard<std::mutex> lock(reaper.mu);
  reaper.path = path;
  reaper.adopt_orphans = adopt_orphans;
}

const Containment& DefaultContainment() {
  static const Containment containment = Probe();
  return containment;
}

int KillLeftoverJobProcesses() {
  const Containment& c = DefaultContainment();
  if (c.kind != ContainmentKind::kCgroup) return 0;
  return KillStaleJobCgroups(c.cgroup_parent);
}

}  // namespace slipway
