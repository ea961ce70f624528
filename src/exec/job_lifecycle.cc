#include "exec/job_lifecycle.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "exec/artifacts.h"
#include "exec/bash_script.h"
#include "exec/cache.h"
#include "exec/deploy_verifier.h"
#include "exec/file_tree.h"
#include "exec/run_dir.h"

namespace slipway {
namespace {

// The attempt's output as the LogSink receives it, with slipway's own lines
// kept on lines of their own.
class JobLog {
 public:
  JobLog(std::string job_name, LogSink* sink) : job_name_(std::move(job_name)), sink_(sink) {}

  void Write(std::string_view bytes) {
    if (bytes.empty()) return;
    at_line_start_ = bytes.back() == '\n';
    if (sink_ != nullptr) sink_->Write(job_name_, bytes);
  }
  // Writes text as a line of its own (after a newline if the job's output
  // ended mid-line).
  void Line(std::string_view text) {
    std::string line = at_line_start_ ? "" : "\n";
    line.append(text);
    line += '\n';
    Write(line);
  }

 private:
  std::string job_name_;
  LogSink* sink_;
  bool at_line_start_ = true;
};

// Go's time.Duration formatting, which GitLab Runner's messages use:
// "500ms", "10s", "1m30s", "1h0m0s".
std::string GoDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, frac = ms % 1000;
  std::string out;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += std::to_string(s);
  if (frac > 0) {
    std::string f = std::to_string(frac);
    f = std::string(3 - f.size(), '0') + f;
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "s";
}

constexpr const char* kHostVariables[] = {"PATH", "HOME",   "USER", "LOGNAME",
                                          "LANG", "LC_ALL", "TZ",   "TMPDIR"};

bool ValidEnvName(std::string_view name) {
  return !name.empty() && name.find('=') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

bool WhenMatches(const std::string& when, JobOutcome outcome) {
  if (outcome == JobOutcome::kCanceled) return false;
  if (when == "always") return true;
  if (when == "on_failure") return outcome == JobOutcome::kFailed;
  return outcome == JobOutcome::kSuccess;
}

void RestoreCaches(const Job& job, const std::vector<std::string>& keys, const VariableList& vars,
                   const std::string& cache_dir, const std::string& workspace,
                   const OptionalOwner& owner, JobLog* log) {
  CacheStore store(cache_dir);
  for (size_t i = 0; i < job.caches.size(); ++i) {
    const Cache& cache = job.caches[i];
    if (cache.policy == "push") continue;
    log->Line("Restoring cache");
    bool restored = false;
    for (const std::string& key : RestoreKeys(cache, keys[i], vars)) {
      log->Line("Checking cache for " + key + "...");
      StatusOr<std::string> found = store.Restore({key}, workspace, owner);
      if (!found.ok()) {
        log->Line("WARNING: " + found.status().message());
      } else if (!found->empty()) {
        log->Line("Successfully extracted cache");
        restored = true;
        break;
      } else {
        log->Line("WARNING: file does not exist");
      }
    }
    if (!restored) log->Line("Failed to extract cache");
  }
}

void SaveCaches(const Job& job, const std::vector<std::string>& keys, const VariableList& vars,
                const std::string& cache_dir, const std::string& workspace,
                const std::unordered_set<std::string>& source_files, JobOutcome outcome,
                JobLog* log) {
  CacheStore store(cache_dir);
  for (size_t i = 0; i < job.caches.size(); ++i) {
    const Cache& cache = job.caches[i];
    if (cache.policy == "pull" || !WhenMatches(cache.when, outcome)) continue;
    log->Line(outcome == JobOutcome::kSuccess ? "Saving cache for successful job"
                                              : "Saving cache for failed job");
    log->Line("Creating cache " + keys[i] + "...");
    StatusOr<std::vector<TreeEntry>> entries = ListWorkspace(workspace);
    if (!entries.ok()) {
      log->Line("WARNING: " + entries.status().message());
      continue;
    }
    Artifacts as_artifacts;  // cache:paths/untracked select files as artifacts do.
    as_artifacts.paths = cache.paths;
    as_artifacts.untracked = cache.untracked;
    std::vector<TreeEntry> chosen =
        SelectEntries(*entries, ArtifactSelection(as_artifacts, vars), source_files, workspace,
                      [&](const std::string& line) { log->Line(line); });
    Status saved = store.Save(keys[i], workspace, chosen);
    log->Line(saved.ok() ? "Created cache" : "WARNING: " + saved.message());
  }
}

Status UploadArtifacts(const Job& job, const VariableList& vars, const std::string& workspace,
                       const std::unordered_set<std::string>& source_files,
                       const std::string& job_dir, JobResult* result, JobLog* log) {
  const Artifacts& artifacts = job.artifacts;
  if (!artifacts.present || !WhenMatches(artifacts.when, result->outcome)) return Status::Ok();
  log->Line(result->outcome == JobOutcome::kSuccess ? "Uploading artifacts for successful job"
                                                    : "Uploading artifacts for failed job");
  LogLineFn line = [&](const std::string& text) { log->Line(text); };
  if (!artifacts.paths.empty() || artifacts.untracked) {
    log->Line("Uploading artifacts...");
    Status s = CollectArtifacts(artifacts, vars, workspace, source_files, job_dir, line);
    if (!s.ok()) return s;
  }
  StatusOr<Reports> reports = CollectReports(artifacts, vars, workspace, job_dir, line);
  if (!reports.ok()) return reports.status();
  result->dotenv = std::move(reports->dotenv);
  result->summary = std::move(reports->summary);
  return Status::Ok();
}

class HostScriptSession : public ScriptSession {
 public:
  explicit HostScriptSession(ProcessRunner* runner) : runner_(runner) {}
  StatusOr<ProcessResult> Run(const ProcessSpec& spec, const OutputFn& output,
                              const CancelToken* cancel) override {
    return runner_->Run(spec, output, cancel);
  }

 private:
  ProcessRunner* runner_;
};

}  // namespace

StatusOr<std::unique_ptr<ScriptSession>> HostScriptRunner::Open(
    const Job& job, const std::string&, const std::function<void(const std::string&)>& log,
    const OpenLimits&) {
  if (job.image || job.services) {
    log("WARNING: image: and services: are ignored; the shell executor runs the job on "
        "this machine");
  }
  return std::unique_ptr<ScriptSession>(std::make_unique<HostScriptSession>(runner_));
}

JobLifecycle::JobLifecycle(Options options, WorkspaceFactory* workspaces, ScriptRunner* scripts)
    : options_(std::move(options)),
      bash_path_(ResolveExecutable(options_.bash)),
      workspaces_(workspaces),
      scripts_(scripts) {}

std::optional<Credentials> JobLifecycle::JobCredentials(const JobIdentity& identity) {
  if (identity.uid == geteuid() && identity.gid == getegid()) return std::nullopt;
  return Credentials{identity.uid, identity.gid, {}};
}

std::vector<std::string> JobLifecycle::JobEnvironment(const VariableList& variables,
                                                      const JobIdentity* identity,
                                                      const std::string& home) {
  std::vector<std::string> env;
  for (const char* name : kHostVariables) {
    const char* value = std::getenv(name);
    std::string_view n = name;
    if (n == "HOME" && !home.empty()) value = home.c_str();
    if (identity != nullptr && (n == "USER" || n == "LOGNAME")) value = identity->user.c_str();
    if (value != nullptr && variables.Find(name) == nullptr) {
      env.push_back(std::string(name) + "=" + value);
    }
  }
  for (const Variable& v : variables.items()) {
    if (!ValidEnvName(v.name)) continue;
    env.push_back(v.name + "=" + (v.expand ? ExpandVariables(v.value, variables) : v.value));
  }
  return env;
}

JobResult JobLifecycle::Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* sink,
                            const CancelToken& cancel) {
  JobResult result;
  result.outcome = JobOutcome::kFailed;
  Status made = MakeDirs(host.job_dir);
  JobLog log(job.name, sink);
  auto system_failure = [&](const std::string& what, const Status& status) {
    log.Line("ERROR: " + what + ": " + status.message());
    log.Line("ERROR: Job failed (system failure)");
    result.outcome = JobOutcome::kFailed;
    result.failure_reason = "runner_system_failure";
    result.exit_code = -1;
    return result;
  };
  if (!made.ok()) return system_failure("Preparing job directory failed", made);

  StatusOr<std::shared_ptr<const Snapshot>> snapshot =
      workspaces_->GetSnapshot(spec.repository, spec.commit, host.run_dir);
  if (!snapshot.ok()) return system_failure("Preparing workspace failed", snapshot.status());
  const Variable* project_name = spec.variables.Find("CI_PROJECT_NAME");
  StatusOr<std::string> acquired = workspaces_->Acquire(
      **snapshot, host.run_dir, JobDirName(project_name != nullptr ? project_name->value : ""));
  if (!acquired.ok()) return system_failure("Preparing workspace failed", acquired.status());
  const std::string workspace = *acquired;
  // The job's own HOME, fresh and gone with the job: nothing one job
  // leaves there (credentials, caches, shell history) reaches the next.
  StatusOr<std::string> made_home = workspaces_->MakeHomeBeside(workspace);
  std::string home = made_home.ok() ? *made_home : "";
  struct Releaser {
    WorkspaceFactory* factory;
    const std::string& workspace;
    const std::string& home;
    ~Releaser() {
      if (!home.empty()) (void)RemoveTree(home);  // Else the next job's removes it.
      factory->Release(workspace);
    }
  } releaser{workspaces_, workspace, home};
  if (!made_home.ok()) return system_failure("Preparing HOME failed", made_home.status());

  VariableList variables = spec.variables;
  variables.Set("CI_PROJECT_DIR", workspace);
  std::string slot = workspace.substr(0, workspace.find_last_of('/'));
  variables.Set("CI_BUILDS_DIR", slot.substr(0, slot.find_last_of('/')));

  // GitLab Runner's order: caches first, then the artifacts of earlier jobs.
  std::vector<std::string> cache_keys;
  for (size_t i = 0; i < job.caches.size(); ++i) {
    cache_keys.push_back(
        CacheKey(job.caches[i], i, variables, (*snapshot)->dir, (*snapshot)->entries));
  }
  if (!host.cache_dir.empty()) {
    RestoreCaches(job, cache_keys, variables, host.cache_dir, workspace, options_.workspace_owner,
                  &log);
  }
  for (const JobSpec::ArtifactSource& from : spec.artifacts_from) {
    if (host.artifacts == nullptr) break;
    StatusOr<std::string> dir = host.artifacts->Fetch(from);
    if (!dir.ok()) return system_failure("Downloading artifacts failed", dir.status());
    if (dir->empty()) continue;
    log.Line("Downloading artifacts for " + from.job_name + " (" + std::to_string(from.job_id) +
             ")...");
    Status restored = RestoreArtifacts(*dir, workspace, options_.workspace_owner);
    if (!restored.ok()) return system_failure("Downloading artifacts failed", restored);
  }

  OpenLimits open_limits;
  open_limits.cancel = &cancel;
  if (spec.timeout) open_limits.deadline = std::chrono::steady_clock::now() + *spec.timeout;
  StatusOr<std::unique_ptr<ScriptSession>> session = scripts_->Open(
      job, workspace, [&](const std::string& line) { log.Line(line); }, open_limits);
  if (!session.ok() && open_limits.Ended()) {
    // Canceled or out of time while it was being prepared: an image pull
    // stops with the job, and the job ends as it would in its script.
    result.exit_code = -1;
    if (cancel.canceled()) {
      result.outcome = JobOutcome::kCanceled;
      log.Line("ERROR: Job failed: canceled");
    } else {
      result.outcome = JobOutcome::kFailed;
      result.failure_reason = "job_execution_timeout";
      log.Line("ERROR: Job failed: execution took longer than " +
               GoDuration(spec.timeout.value_or(std::chrono::milliseconds(0))) + " seconds");
    }
    return result;
  }
  if (!session.ok()) return system_failure("Preparing environment failed", session.status());
  result.image = (*session)->image();
  result.image_digest = (*session)->image_digest();
  // In an image the job's HOME is the image user's, as with GitLab's
  // container executors (the sandbox drops what it takes for slipway's).
  const std::string env_home = result.image.empty() ? home : "";

  ProcessSpec process;
  // GitLab Runner's value while the job's own stages run.
  variables.Set("CI_JOB_STATUS", "running");
  const JobIdentity* identity = options_.identity ? &*options_.identity : nullptr;
  process.env = JobEnvironment(variables, identity, env_home);
  process.cwd = workspace;
  process.kill_grace = options_.kill_grace;
  if (identity != nullptr) {
    process.umask = identity->umask;
    process.credentials = JobCredentials(*identity);
  }
  auto run_script = [&](const std::vector<std::string>& commands, const std::string& name,
                        const CancelToken* token) -> StatusOr<ProcessResult> {
    // Beside the workspace, in the pool's slot: rewriting a file there is
    // cheaper than creating one per job (see workspace.h).
    StatusOr<std::string> written =
        workspaces_->WriteBeside(workspace, name + ".sh", BuildBashScript(commands));
    if (!written.ok()) return written.status();
    const std::string& path = *written;
    process.argv = {bash_path_, "--noprofile", "--norc", path};
    return (*session)->Run(
        process, [&](std::string_view chunk) { log.Write(chunk); }, token);
  };

  bool canceled = cancel.canceled();
  // Opening (waiting for services) used up the job's timeout: the script
  // does not start.
  bool timed_out = !canceled && open_limits.Ended();
  std::chrono::steady_clock::time_point script_started = std::chrono::steady_clock::now();
  if (!canceled && !timed_out) {
    std::vector<std::string> commands = job.before_script;
    commands.insert(commands.end(), job.script.begin(), job.script.end());
    log.Line("Executing \"step_script\" stage of the job script");
    script_started = std::chrono::steady_clock::now();
    process.timeout = spec.timeout;
    StatusOr<ProcessResult> ran = run_script(commands, "step_script", &cancel);
    if (!ran.ok()) return system_failure("Starting the job script failed", ran.status());
    canceled = ran->canceled;
    timed_out = ran->timed_out;
    result.exit_code = (canceled || timed_out) ? -1 : ran->exit_code;
    if (!canceled && !timed_out && ran->exit_code == 0) result.outcome = JobOutcome::kSuccess;
  }
  bool checks_failed = false;
  if (!spec.checks.empty() && result.outcome == JobOutcome::kSuccess && !canceled) {
    // Deployment checks are part of the job: after its script, before
    // after_script (which sees their outcome in CI_JOB_STATUS).
    DeployVerifier::Options verify;
    verify.log = [&](const std::string& line) { log.Line(line); };
    verify.run_command = [&](const std::vector<std::string>& script,
                             std::chrono::milliseconds timeout, const CancelToken* token) {
      process.timeout = timeout;
      return run_script(script, "check_script", token);
    };
    const std::string* environment = variables.Get("CI_ENVIRONMENT_NAME");
    // The job's timeout bounds its checks too: a watchdog cancels them when
    // it passes (or when the job is canceled).
    CancelToken checks_cancel;
    std::atomic<bool> checks_done{false};
    std::atomic<bool> checks_timed_out{false};
    std::thread watchdog([&] {
      while (!checks_done.load()) {
        if (spec.timeout && std::chrono::steady_clock::now() >= script_started + *spec.timeout) {
          checks_timed_out.store(true);
          checks_cancel.Cancel();
          return;
        }
        if (cancel.canceled()) {
          checks_cancel.Cancel();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    Verification verified = DeployVerifier(std::move(verify))
                                .Verify(environment != nullptr ? *environment : "", spec.checks,
                                        variables, checks_cancel);
    checks_done.store(true);
    watchdog.join();
    result.checks = std::move(verified.checks);
    canceled = verified.canceled && !checks_timed_out.load();
    if (checks_timed_out.load()) {
      timed_out = true;
      result.outcome = JobOutcome::kFailed;
    } else if (verified.failed) {
      checks_failed = true;
      result.outcome = JobOutcome::kFailed;
      result.failure_message = "deployment check '" + verified.failed_check + "' did not pass";
    }
  }
  if (canceled) {
    result.outcome = JobOutcome::kCanceled;
    result.exit_code = -1;
  } else if (timed_out) {
    result.failure_reason = "job_execution_timeout";
  } else if (result.outcome == JobOutcome::kFailed) {
    result.failure_reason = "script_failure";
  }

  if (!job.after_script.empty()) {
    log.Line("Running after_script");
    const char* status = result.outcome == JobOutcome::kSuccess  ? "success"
                         : result.outcome == JobOutcome::kFailed ? "failed"
                                                                 : "canceled";
    variables.Set("CI_JOB_STATUS", status);
    process.env = JobEnvironment(variables, identity, env_home);
    process.timeout = canceled ? std::min(options_.after_script_timeout, options_.kill_grace)
                               : options_.after_script_timeout;
    // Not subject to the cancel token: a canceled job's after_script runs
    // (bounded by the timeout above) as GitLab runs it.
    StatusOr<ProcessResult> after = run_script(job.after_script, "after_script", nullptr);
    if (!after.ok()) {
      log.Line("WARNING: after_script failed to start: " + after.status().message());
    } else if (after->timed_out) {
      log.Line("WARNING: after_script timed out after " + GoDuration(*process.timeout) +
               ", but job will continue unaffected");
    } else if (after->exit_code != 0) {
      log.Line("WARNING: after_script failed, but job will continue unaffected: exit code " +
               std::to_string(after->exit_code));
    }
  }

  session->reset();  // Its helpers stop before anything is collected.

  if (result.outcome != JobOutcome::kCanceled) {
    if (!host.cache_dir.empty()) {
      SaveCaches(job, cache_keys, variables, host.cache_dir, workspace, (*snapshot)->source_files,
                 result.outcome, &log);
    }
    Status uploaded = UploadArtifacts(job, variables, workspace, (*snapshot)->source_files,
                                      host.job_dir, &result, &log);
    if (!uploaded.ok()) {
      log.Line("ERROR: Uploading artifacts failed: " + uploaded.message());
      if (result.outcome == JobOutcome::kSuccess) {
        result.outcome = JobOutcome::kFailed;
        result.failure_reason = "unknown_failure";
      }
    }
  }

  switch (result.outcome) {
    case JobOutcome::kSuccess:
      log.Line("Job succeeded");
      break;
    case JobOutcome::kCanceled:
      log.Line("ERROR: Job failed: canceled");
      break;
    case JobOutcome::kFailed:
      if (result.failure_reason == "unknown_failure") {
        log.Line("ERROR: Job failed: artifacts could not be uploaded");
      } else if (checks_failed) {
        log.Line("ERROR: Job failed: " + result.failure_message);
      } else if (timed_out) {
        log.Line("ERROR: Job failed: execution took longer than " +
                 GoDuration(spec.timeout.value_or(std::chrono::milliseconds(0))) + " seconds");
      } else {
        log.Line("ERROR: Job failed: exit code " + std::to_string(result.exit_code));
      }
      break;
  }
  return result;
}

}  // namespace slipway
