// The shell executor: runs a job on this machine with bash, in a clean
// workspace, the way GitLab Runner's shell executor runs it.
//
// The attempt follows the one job lifecycle (job_lifecycle.h); its scripts
// run through Options::scripts, which is the host's bash unless the caller
// gives another ScriptRunner (the sandbox executor gives bubblewrap's).
#ifndef SLIPWAY_EXEC_SHELL_EXECUTOR_H_
#define SLIPWAY_EXEC_SHELL_EXECUTOR_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "exec/job_identity.h"
#include "exec/job_lifecycle.h"
#include "exec/workspace.h"
#include "util/subprocess.h"

namespace slipway {

class ShellExecutor : public Executor {
 public:
  struct Options {
    std::string bash = "bash";
    // SIGTERM-to-SIGKILL grace on timeout and cancel.
    std::chrono::milliseconds kill_grace{5000};
    // GitLab's default for after_script (RUNNER_AFTER_SCRIPT_TIMEOUT).
    std::chrono::milliseconds after_script_timeout{std::chrono::minutes(5)};
    // Where the snapshot and the workspaces outlive the run, to be reused by
    // the next (see workspace.h); empty: under the run directory.
    std::string state_dir;
    // Who the job runs as (the server: one per project, server/job_users.h);
    // none: as slipway's own user, with its HOME and umask, exactly as
    // before identities existed. With one, every process of the job (script
    // and after_script) starts with its umask and its HOME, USER and
    // LOGNAME; when its uid or gid is not slipway's own (a server running
    // as root) the process switches to them, with no supplementary group,
    // before it runs anything of the job's (docs/processes.md). slipway's
    // own tools (git for the snapshot) keep running as slipway.
    std::optional<JobIdentity> identity;
    // Who the files slipway writes into a job's workspace (the snapshot,
    // caches, artifacts) belong to; unset: slipway's own user. A server
    // running as root sets the user its jobs run as; the pool's directories
    // and the job's script files then stay slipway's, readable by this
    // group only (workspace.h).
    OptionalOwner workspace_owner;
    // The git object directory a workspace's .git borrows objects from
    // (workspace.h); empty: the project's own.
    std::string git_objects;
    // Where the job's scripts run; null: the host, through the executor's
    // ProcessRunner. Must outlive the executor.
    ScriptRunner* scripts = nullptr;
  };

  // runner must outlive the executor; null means a PosixProcessRunner owned
  // by the executor.
  explicit ShellExecutor(Options options, ProcessRunner* runner = nullptr);
  ShellExecutor() : ShellExecutor(Options()) {}

  // Starts making the run's snapshot of project_dir's working tree now, in
  // the background (see WorkspaceFactory::Prefetch): call it before loading
  // the pipeline, so that the two overlap.
  void Prefetch(const std::string& project_dir) { workspaces_.Prefetch(project_dir); }

  // Thread-safe.
  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel) override {
    return lifecycle_.Run(job, spec, host, log, cancel);
  }

 private:
  std::unique_ptr<ProcessRunner> owned_runner_;
  ProcessRunner* runner_;
  WorkspaceFactory workspaces_;
  HostScriptRunner host_scripts_;
  JobLifecycle lifecycle_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SHELL_EXECUTOR_H_
