// Starting a child process: the one primitive every process slipway runs
// (jobs, the reaper, git) is started with, and the registry of the children
// it started.
//
// The child is made with clone(CLONE_VM | CLONE_VFORK), as posix_spawn makes
// it, and before execve makes only async-signal-safe raw system calls:
//   join the cgroup (cgroup_dir_fd; clone3's CLONE_INTO_CGROUP where the
//   kernel has it, else a write of "0" to its cgroup.procs), dup2 of 0/1/2,
//   close every other descriptor (close_range), chdir, setpgid (or setsid),
//   every signal to its default action, the umask, setgroups/setgid/setuid,
//   the parent-death signal, an empty signal mask, execve.
// So the child inherits no descriptor but 0, 1, 2 (and fd 3 when asked),
// whatever flags the parent's descriptors have and whichever thread opened
// them; and it never reads the parent's environment (another thread may be
// changing it).
#ifndef SLIPWAY_UTIL_SPAWN_H_
#define SLIPWAY_UTIL_SPAWN_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace slipway {

// Who the child runs as. Applied after the cgroup is joined and before the
// parent-death signal is set (a change of credentials clears it). Needs
// CAP_SETUID and CAP_SETGID (slipway running as root).
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // Supplementary groups; empty: none.
};

struct SpawnRequest {
  // argv[0] is the program: a path when it contains '/', else looked up in
  // slipway's own PATH as execvp does (relative entries after the chdir).
  std::vector<std::string> argv;
  std::string name;              // The program named in errors; empty: argv[0].
  std::vector<std::string> env;  // NAME=value; exactly the child's environment.
  std::string cwd;               // Empty: the caller's working directory.
  // Descriptors for the child's 0, 1 and 2; -1 means /dev/null. They may be
  // close-on-exec (the child's copies are not) and may be equal.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // >= 0: also given to the child as fd 3 (the reaper's status pipe).
  int fd3 = -1;
  bool new_process_group = true;  // setpgid(0, 0): the child leads a new group.
  // setsid() instead: the child leads a new session (and so a new group),
  // with no controlling terminal, and shares no session with slipway (the
  // kernel lets any process send SIGCONT to any other of its session,
  // whatever their users).
  bool new_session = false;
  // >= 0: an O_DIRECTORY descriptor of a cgroup v2 directory the child is
  // started in, before it can run any code of its own.
  int cgroup_dir_fd = -1;
  // With cgroup_dir_fd: write "0" to cgroup.procs from the child instead of
  // using CLONE_INTO_CGROUP (what kernels before 5.7 and other architectures
  // than x86-64 get; tests force it to cover that path).
  bool join_cgroup_by_write = false;
  std::optional<Credentials> credentials;
  // Set: the child's umask (the file mode creation mask it and what it
  // starts inherit); unset: slipway's own.
  std::optional<mode_t> umask;
  // Non-zero: the child gets this signal when the calling thread exits
  // (PR_SET_PDEATHSIG); it is not started at all if slipway is already gone.
  int parent_death_signal = 0;
};

// Starts the child and returns its pid once it has called execve, or an
// error "cannot start 'name'[ in cwd]: reason" with the errno of the step
// that failed (chdir, execve, joining the cgroup ...). The pid is registered
// as spawned until ReapChild (util/children.h) reaps it. Thread-safe.
StatusOr<pid_t> Spawn(const SpawnRequest& request);

// The exit status as bash reports it: the exit code, or 128+N when killed by
// signal N.
int ExitCodeOf(int wait_status);

// The file a PATH search for name would run (name itself if it contains
// '/'): the first executable regular file in slipway's PATH; name unchanged
// when none is found or the search meets a relative entry, so that spawning
// it searches (and reports the error) itself. Resolving once spares each
// spawn the search (one failed execve per directory before the right one).
std::string ResolveExecutable(const std::string& name);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SPAWN_H_
