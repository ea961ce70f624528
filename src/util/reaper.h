// The hidden `slipway __reap COMMAND [ARG...]` mode: the per-job reaper used
// where no cgroup can be made (util/containment.h, docs/processes.md).
//
// The reaper is a child subreaper (PR_SET_CHILD_SUBREAPER): every process
// the command starts that loses its parent (setsid and double forks
// included) is re-parented to it. It runs the command in a process group of
// its own, forwards kReaperTerminate (and SIGINT) to that group, and when the
// command ends, or on kReaperKillAll, SIGKILLs every process left below it
// until none is, then exits with the command's status (128+N when a signal
// N killed it; 137 after kReaperKillAll).
//
// slipway starts it with kReaperKillAll as its parent-death signal, so a
// slipway that dies takes its jobs along; and with fd 3 the write end of a
// close-on-exec pipe: the reaper closes it once the command runs, after
// writing "cannot start ..." there if the command could not be started.
#ifndef SLIPWAY_UTIL_REAPER_H_
#define SLIPWAY_UTIL_REAPER_H_

#include <signal.h>

namespace slipway {

inline constexpr char kReaperMode[] = "__reap";
inline constexpr int kReaperTerminate = SIGTERM;
inline constexpr int kReaperKillAll = SIGHUP;

// Runs the reaper for argv = {slipway, "__reap", COMMAND, ARG...}; returns
// the exit status. main() calls it first, before anything else runs.
int ReaperMain(int argc, char** argv);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_REAPER_H_
