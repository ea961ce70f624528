// Running one child process and supervising it to the end: output, timeout,
// cancellation, and the guarantee that nothing it started outlives it
// (docs/processes.md).
#ifndef SLIPWAY_UTIL_SUBPROCESS_H_
#define SLIPWAY_UTIL_SUBPROCESS_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/cancel_token.h"
#include "util/containment.h"
#include "util/spawn.h"
#include "util/status.h"

namespace slipway {

// Called with chunks of the child's stdout and stderr (one pipe, so they are
// interleaved exactly as written; stdout alone with
// ProcessSpec::stderr_output), on the thread that called Run.
using OutputFn = std::function<void(std::string_view)>;

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in slipway's own PATH.
  // The complete environment as NAME=value strings; nothing is inherited.
  std::vector<std::string> env;
  std::string cwd;  // Empty: the caller's working directory.
  std::optional<std::chrono::milliseconds> timeout;
  // After SIGTERM (timeout or cancel), how long the group may take to exit
  // before it gets SIGKILL.
  std::chrono::milliseconds kill_grace{5000};
  // true: stderr goes to /dev/null instead of the output pipe (for tools
  // whose stdout is parsed).
  bool discard_stderr = false;
  // Set: stderr goes to a pipe of its own, its chunks to this function (on
  // the thread that called Run), and discard_stderr is ignored. For tools
  // whose stdout is parsed and whose stderr explains a failure (git).
  OutputFn stderr_output;
  // Set: the child switches to this user and these groups before exec
  // (needs slipway to run as root).
  std::optional<Credentials> credentials;
  // Set: the child's umask; unset: slipway's own (see SpawnRequest::umask).
  std::optional<mode_t> umask;
  // true: run under the runner's Containment, so that everything the child
  // starts is killed when it ends. false: only its process group is (for
  // slipway's own tools, such as git, which leave nothing running; spares
  // them a reaper's start).
  bool contain = true;
};

struct ProcessResult {
  // The exit status; 128+N when killed by signal N (as bash reports it).
  int exit_code = -1;
  bool timed_out = false;
  bool canceled = false;
};

// Runs processes to completion. Implementations are thread-safe: the
// scheduler runs several jobs at once.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Blocks until the child and every process it started are gone. On
  // timeout or once cancel is set (cancel may be null), the child's process
  // group gets SIGTERM, then everything it started gets SIGKILL after
  // spec.kill_grace. When the child exits, whatever it left running is
  // killed, in its group or not (setsid, double forks: see Containment), so
  // a job never leaves anything behind. A non-OK Status means the child
  // could not be started (or the system failed), not that it exited non-zero.
  virtual StatusOr<ProcessResult> Run(const ProcessSpec& spec, const OutputFn& output,
                                      const CancelToken* cancel) = 0;
};

// Spawn (util/spawn.h) into a new process group under a Containment, stdin
// from /dev/null, stdout and stderr on one O_CLOEXEC pipe (or two, with
// stderr_output) read with poll(). The one way slipway runs a process: jobs
// (exec/shell_executor.h), the tools the engine runs, git (util/git.h).
class PosixProcessRunner : public ProcessRunner {
 public:
  // Under DefaultContainment().
  PosixProcessRunner();
  // Under the given one (tests of each path).
  explicit PosixProcessRunner(Containment containment);
  StatusOr<ProcessResult> Run(const ProcessSpec& spec, const OutputFn& output,
                              const CancelToken* cancel) override;

 private:
  Containment containment_;
};

// The host environment as NAME=value strings, minus variables that would
// redirect git (GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE, GIT_PREFIX ...). For slipway's own
// helper commands, never for jobs.
std::vector<std::string> HostEnvironmentForTools();

// Runs argv (with extra_env, then HostEnvironmentForTools) in cwd and
// returns its stdout (stderr is discarded); a non-zero exit is an error naming
// the command and its exit code.
StatusOr<std::string> RunTool(ProcessRunner* runner, const std::vector<std::string>& argv,
                              const std::string& cwd,
                              const std::vector<std::string>& extra_env = {});

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SUBPROCESS_H_
