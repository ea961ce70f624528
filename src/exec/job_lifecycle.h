// One attempt of a job on this machine, in GitLab Runner's order, the same
// for every executor that runs jobs here:
//   1. workspace: a directory of the pool, <builds>/<n>/<project name>,
//      holding exactly the snapshot of spec.repository at spec.commit (see
//      workspace.h; <builds> is <state_dir>/builds, or <run_dir>/builds
//      without a state_dir); CI_PROJECT_DIR points at it and CI_BUILDS_DIR
//      at <builds>.
//   2. caches restored (cache.h), then the artifacts of spec.artifacts_from,
//      fetched through host.artifacts, copied in, in order (artifacts.h).
//   3. before_script + script in one bash (bash_script.h), under
//      spec.timeout. The script file is <builds>/<n>/step_script.sh
//      (after_script.sh for step 4), beside the workspace.
//   4. after_script, if any, in a separate bash with CI_JOB_STATUS set to
//      success, failed or canceled, under its own timeout; its result never
//      changes the job's. It also runs after a timeout; after a cancel it gets
//      at most kill_grace.
//   5. caches saved and artifacts collected per their `when`.
// What differs between executors is only where the scripts of steps 3 and 4
// run: the ScriptRunner an executor gives (the host's bash, a sandbox ...).
// Everything the attempt logs goes to the LogSink.
//
// Environment of the job's processes: exactly the job's variables (values
// expanded as GitLab Runner expands them, except `expand: false` ones) plus
// PATH, HOME, USER, LOGNAME, LANG, LC_ALL, TZ and TMPDIR taken from slipway's
// own environment when set there and not set by the job — except USER and
// LOGNAME, which come from Options::identity when there is one, and HOME,
// which is the job's own: <workspace>.home beside its workspace in the
// pool's slot, made empty (0700, the workspace owner's) before the job and
// removed after it (WorkspaceFactory::MakeHomeBeside), for `slipway run` and
// the server alike. Nothing else from the host leaks in. bash runs with --noprofile --norc (GitLab
// Runner uses a login shell; profiles are host state, so slipway leaves them
// out).
#ifndef SLIPWAY_EXEC_JOB_LIFECYCLE_H_
#define SLIPWAY_EXEC_JOB_LIFECYCLE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "exec/job_identity.h"
#include "exec/workspace.h"
#include "util/subprocess.h"

namespace slipway {

// Where one attempt's scripts run. Destroyed once after_script has run (a
// runner that started helpers for the job, such as services, stops them
// then).
class ScriptSession {
 public:
  virtual ~ScriptSession() = default;
  // Runs spec (argv is bash and the script's path; cwd the workspace; env,
  // credentials, umask, timeout and kill_grace set) to its end, passing its
  // output to output; returns promptly once cancel (may be null) is set.
  virtual StatusOr<ProcessResult> Run(const ProcessSpec& spec, const OutputFn& output,
                                      const CancelToken* cancel) = 0;
  // The image the scripts run in (ResolvedImage::reference, ::digest); empty
  // for the host.
  virtual std::string image() const { return ""; }
  virtual std::string image_digest() const { return ""; }
};

// What ends the waits of opening a session (for services to listen): the
// job's cancel token and the end of its timeout (GitLab's job timeout covers
// the services' wait too).
struct OpenLimits {
  const CancelToken* cancel = nullptr;  // Null: not cancelable.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  bool Ended() const {
    return (cancel != nullptr && cancel->canceled()) ||
           (deadline && std::chrono::steady_clock::now() >= *deadline);
  }
};

// Starts the place an attempt's scripts run in, once its workspace is ready.
// Thread-safe: several jobs start at once.
class ScriptRunner {
 public:
  virtual ~ScriptRunner() = default;
  // log writes a line of slipway's own into the job's log. An error fails
  // the attempt as a runner system failure. A wait while opening ends
  // promptly once limits have Ended(); the session is then returned (the
  // lifecycle sees the cancel or the timeout).
  virtual StatusOr<std::unique_ptr<ScriptSession>> Open(
      const Job& job, const std::string& workspace,
      const std::function<void(const std::string&)>& log, const OpenLimits& limits) = 0;
};

// Runs scripts as processes of this machine through a ProcessRunner; warns
// that image: and services: are ignored.
class HostScriptRunner : public ScriptRunner {
 public:
  explicit HostScriptRunner(ProcessRunner* runner) : runner_(runner) {}
  StatusOr<std::unique_ptr<ScriptSession>> Open(const Job& job, const std::string& workspace,
                                                const std::function<void(const std::string&)>& log,
                                                const OpenLimits& limits) override;

 private:
  ProcessRunner* runner_;
};

class JobLifecycle {
 public:
  struct Options {
    std::string bash = "bash";  // Resolved through PATH once.
    // SIGTERM-to-SIGKILL grace on timeout and cancel.
    std::chrono::milliseconds kill_grace{5000};
    // GitLab's default for after_script (RUNNER_AFTER_SCRIPT_TIMEOUT).
    std::chrono::milliseconds after_script_timeout{std::chrono::minutes(5)};
    // Who the job runs as (see ShellExecutor::Options::identity).
    std::optional<JobIdentity> identity;
    // Who the files slipway writes into a job's workspace belong to.
    OptionalOwner workspace_owner;
  };

  // workspaces and scripts must outlive the lifecycle.
  JobLifecycle(Options options, WorkspaceFactory* workspaces, ScriptRunner* scripts);

  // Carries out one attempt; thread-safe.
  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel);

  // The environment (NAME=value) the job's processes get; see above.
  // home: the job's HOME; empty: slipway's own.
  static std::vector<std::string> JobEnvironment(const VariableList& variables,
                                                 const JobIdentity* identity = nullptr,
                                                 const std::string& home = "");
  // The credentials a job with this identity is spawned with: none when it
  // is slipway's own uid and gid (nothing to switch).
  static std::optional<Credentials> JobCredentials(const JobIdentity& identity);

 private:
  Options options_;
  std::string bash_path_;
  WorkspaceFactory* workspaces_;
  ScriptRunner* scripts_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_JOB_LIFECYCLE_H_
