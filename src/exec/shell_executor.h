// The shell executor: runs a job on this machine with bash, in a clean
// workspace, the way GitLab Runner's shell executor runs it.
//
// One attempt, in GitLab Runner's order:
//   1. workspace: a directory of the pool, <builds>/<n>/<project name>,
//      holding exactly the run's snapshot of the project (see workspace.h;
//      <builds> is <state_dir>/builds, or <run_dir>/builds without a
//      state_dir); CI_PROJECT_DIR points at it and CI_BUILDS_DIR at <builds>.
//   2. caches restored (cache.h), then artifacts of context.artifact_job_dirs
//      copied in, in order (artifacts.h).
//   3. before_script + script in one bash (bash_script.h), under
//      context.timeout. The script file is <builds>/<n>/step_script.sh
//      (after_script.sh for step 4), beside the workspace.
//   4. after_script, if any, in a separate bash with CI_JOB_STATUS set to
//      success, failed or canceled, under its own timeout; its result never
//      changes the job's. It also runs after a timeout; after a cancel it gets
//      at most kill_grace.
//   5. caches saved and artifacts collected per their `when`.
// Everything the attempt logs goes to the LogSink (which keeps the job's log
// file); JobResult::log_path is left empty.
//
// Environment of the job's processes: exactly the job's variables (values
// expanded as GitLab Runner expands them, except `expand: false` ones) plus
// PATH, HOME, USER, LOGNAME, LANG, LC_ALL, TZ and TMPDIR taken from slipway's
// own environment when set there and not set by the job — except HOME, USER
// and LOGNAME, which come from Options::identity when there is one. Nothing
// else from the host leaks in. bash runs with --noprofile --norc (GitLab Runner uses a
// login shell; profiles are host state, so slipway leaves them out).
#ifndef SLIPWAY_EXEC_SHELL_EXECUTOR_H_
#define SLIPWAY_EXEC_SHELL_EXECUTOR_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "exec/job_identity.h"
#include "util/subprocess.h"
#include "exec/workspace.h"

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
  JobResult Run(const Job& job, const JobContext& context, LogSink* log,
                const CancelToken& cancel) override;

  // The environment (NAME=value) the job's processes get; see above.
  static std::vector<std::string> JobEnvironment(const VariableList& variables,
                                                 const JobIdentity* identity = nullptr);
  // The credentials a job with this identity is spawned with: none when it
  // is slipway's own uid and gid (nothing to switch).
  static std::optional<Credentials> JobCredentials(const JobIdentity& identity);

 private:
  Options options_;
  std::string bash_path_;  // options_.bash resolved through PATH once.
  std::unique_ptr<ProcessRunner> owned_runner_;
  ProcessRunner* runner_;
  WorkspaceFactory workspaces_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SHELL_EXECUTOR_H_
