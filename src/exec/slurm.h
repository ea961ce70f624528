// The Slurm executor's place to run scripts: each script of a job (its
// before_script + script, after_script, a deployment check) becomes one
// Slurm batch job of the cluster this machine is a submit host of, the way
// Jacamar CI's Slurm executor runs GitLab jobs (docs/slurm.md):
//   1. `sbatch --parsable --wrap='exec bash ... <script>'` submits it, with
//      the job's variables as sbatch's environment (--export=ALL), never on
//      a command line: they do not show in ps, squeue or scontrol. The job
//      runs in the workspace (--chdir) as the user slipway submits as (the
//      job's identity when slipway runs as root), under a time limit of the
//      job's timeout rounded up to whole minutes (--time), with the words of
//      SCHEDULER_PARAMETERS (exec/scheduler_parameters.h) added. The Slurm
//      job id goes into the log.
//   2. The job's stdout and stderr go to one file beside the script
//      (<name>.slurm.out), which the executor tails into the log while it
//      runs: the builds directory must be on a file system the compute
//      nodes share with this machine.
//   3. `scontrol show job` tells when it ended and its exit code (ExitCode
//      N:S is N, or 128+S when a signal S ended it).
//   4. A cancel, or the job's timeout passing (measured here, to the
//      millisecond; Slurm's own limit is the backstop), is `scancel`:
//      Slurm sends SIGTERM, then SIGKILL after the cluster's KillWait, and
//      the executor waits until Slurm says the job ended, so nothing of it
//      is left running.
#ifndef SLIPWAY_EXEC_SLURM_H_
#define SLIPWAY_EXEC_SLURM_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "exec/job_lifecycle.h"
#include "util/status.h"
#include "util/subprocess.h"

namespace slipway {

// A Slurm job as one line of `scontrol show job -o` describes it.
struct SlurmJobStatus {
  std::string state;   // JobState: PENDING, RUNNING, COMPLETING, COMPLETED, FAILED ...
  std::string reason;  // Reason, e.g. why it is pending.
  int exit_code = 0;   // ExitCode's N.
  int signal = 0;      // ExitCode's S.
  // Whether the job is over: any state but PENDING, CONFIGURING, RUNNING,
  // COMPLETING (its processes are still being ended), SUSPENDED, REQUEUED,
  // RESIZING, SIGNALING, STAGE_OUT.
  bool Finished() const;
  // The exit code as bash reports it: N, or 128+S when signal S ended it.
  int ShellExitCode() const { return signal != 0 ? 128 + signal : exit_code; }
};

// Parses `scontrol show job -o` output (one line of Key=Value words); an
// error when JobState or ExitCode is missing or malformed.
StatusOr<SlurmJobStatus> ParseScontrolJob(std::string_view text);

class SlurmScriptRunner : public ScriptRunner {
 public:
  struct Options {
    // Slurm's commands, looked up in slipway's PATH; they find the cluster
    // as Slurm's commands do (SLURM_CONF, /etc/slurm/slurm.conf), and a
    // SLURM_CONF of slipway's own wins over one among the job's variables.
    std::string sbatch = "sbatch";
    std::string scontrol = "scontrol";
    std::string scancel = "scancel";
    std::string sinfo = "sinfo";
    // How often the job's state is asked for during its first 20 seconds,
    // and the output file read; ten times as long (at most 500 ms) after.
    std::chrono::milliseconds poll_interval{50};
    // After scancel, how long to wait for Slurm to end the job before the
    // attempt gives up on it (the cluster's KillWait should be shorter).
    std::chrono::milliseconds cancel_wait{std::chrono::seconds(60)};
  };

  // runner (which must outlive this) runs Slurm's commands.
  SlurmScriptRunner(Options options, ProcessRunner* runner)
      : options_(std::move(options)), runner_(runner) {}

  // Whether Slurm's commands are here and the controller answers (sinfo);
  // the error says what is missing.
  static Status Check(const Options& options, ProcessRunner* runner);

  // Warns that image: and services: are ignored.
  StatusOr<std::unique_ptr<ScriptSession>> Open(const Job& job, const std::string& workspace,
                                                const std::function<void(const std::string&)>& log,
                                                const OpenLimits& limits) override;

 private:
  Options options_;
  ProcessRunner* runner_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SLURM_H_
