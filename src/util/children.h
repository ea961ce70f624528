// The children of this process: which ones slipway started (the registry
// Spawn fills), and killing the others. A process that is a child subreaper
// (PR_SET_CHILD_SUBREAPER) adopts the orphans of its descendants; these
// functions find them and kill them.
#ifndef SLIPWAY_UTIL_CHILDREN_H_
#define SLIPWAY_UTIL_CHILDREN_H_

#include <sys/types.h>

#include <shared_mutex>
#include <vector>

namespace slipway {

// Held by Spawn from before the child exists until its pid is registered,
// so that KillStrayChildren never takes a child being started for a stray.
// Several spawns may hold one at once.
class ChildRegistration {
 public:
  ChildRegistration();
  ~ChildRegistration();
  ChildRegistration(const ChildRegistration&) = delete;
  ChildRegistration& operator=(const ChildRegistration&) = delete;
  void Register(pid_t pid);

 private:
  std::shared_lock<std::shared_mutex> lock_;
};

// The pids of this process's children (of every thread; zombies included),
// from /proc/self/task/*/children, or by scanning /proc where the kernel
// lacks that file.
std::vector<pid_t> ListChildren();

// waitpid(pid) (retrying on EINTR), then forgets pid as spawned. Returns the
// wait status, or -1 if pid was not a child.
int ReapChild(pid_t pid);

// Whether pid was started by Spawn and not yet reaped by ReapChild.
bool IsSpawnedChild(pid_t pid);

// SIGKILLs and reaps every child, then every child that reaches this
// process (a subreaper) when those die, until none is left. For a process
// whose every child is to go (the reaper).
void KillAllChildren();

// SIGKILLs and reaps every child that Spawn did not start (orphans adopted
// as a subreaper), and those that reach this process when they die, until
// none is left. Returns how many were killed. Thread-safe.
int KillStrayChildren();

}  // namespace slipway

#endif  // SLIPWAY_UTIL_CHILDREN_H_
