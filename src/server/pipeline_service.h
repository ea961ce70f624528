// The server's engine: turns a request (push webhook, API call, the web UI,
// a schedule) into a stored pipeline and runs it with the same scheduler as
// `slipway run` and the executor ServiceOptions::executor_factory gives, recording every status
// change and log byte in the Store and publishing log bytes to the LogHub.
//
// Layout under ServiceOptions::data_dir (the server's alone):
//   repos/<project id>.git      bare mirror of the project's repository
//   runs/<pipeline id>/         the run directory (jobs/<name>/ log, artifacts)
//   cache/<project id>/         the project's caches
// and under ServiceOptions::builds_dir, where the jobs run (server_dirs.h):
//   <project id>/               snapshot and workspaces (exec/workspace.h),
//                               git-objects/ (shared_objects.h), home/ and
//                               variables/<pipeline id>/
// Each project's jobs run as ServiceOptions::job_users gives them; when that
// is another user than the server's, the workspaces belong to it and Start
// refuses a builds directory it could not reach.
// All methods are thread-safe. Requests never block on a running pipeline:
// CreatePipeline stores the pipeline, queues it and returns.
#ifndef SLIPWAY_SERVER_PIPELINE_SERVICE_H_
#define SLIPWAY_SERVER_PIPELINE_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/network_fetcher.h"
#include "server/executor_factory.h"
#include "server/job_users.h"
#include "server/log_hub.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/status.h"

namespace slipway {

// Told of every automatic rollback the service starts (docs/deployments.md):
// the deployment that failed and the new deployment that redeploys the
// environment's last successful one (status created, rollback_of set).
// Called on a worker thread with no lock of the service held; it may use
// the store. This is where an incident linked to the failed deployment is
// opened.
using RollbackListener =
    std::function<void(const DeploymentRecord& failed, const DeploymentRecord& rollback)>;

// How often a server's timer looks at leases, free pipelines, schedules and
// expiries, and a live log follows a job in the store without a notice: a
// second, or SLIPWAY_TEST_TIMER_MS (docs/replicas.md): a test makes it long
// to show that a notice alone wakes a replica.
int64_t ServerTimerPeriodMs();

struct ServiceOptions {
  std::string data_dir;
  std::string builds_dir;  // Empty: DefaultBuildsDir(data_dir), i.e. DATA-builds.
  // Who each project's jobs run as; empty: the server's own user, every
  // project alike (JobUsers::Self).
  std::optional<JobUsers> job_users;
  int max_running_pipelines = 2;  // Pipelines run at once; more wait queued.
  int jobs_per_pipeline = 0;      // --jobs of each run; 0: number of CPUs.
  // Makes the executor of each pipeline run (executor_factory.h); empty:
  // ShellExecutorFactory().
  ExecutorFactory executor_factory;
  // The time every decision of the service is taken by: delayed jobs and
  // the scheduler's timers, schedules' next runs. Must outlive the service;
  // null: the machine's (MachineClock()).
  Clock* clock = nullptr;
  // How pipelines' remote, template, project and component includes are
  // fetched (docs/server.md, "Includes"): http (allow_http, ca_file,
  // timeouts) and template_source are taken from here. Each pipeline has
  // its own include cache, so that what its creation read is what its run
  // reads; project and component includes come from the server's own
  // projects of the same top-level group.
  FetchOptions includes;
  // Networks remote includes may reach although their addresses are
  // internal (util/address_class.h), as "a.b.c.d/len" or one address.
  std::vector<std::string> include_networks;
  // Null: nobody is told.
  RollbackListener on_automatic_rollback;
  // Several servers on one PostgreSQL database (docs/replicas.md): this
  // server's name in the pipelines' owner column (empty: a random one), and
  // how long a pipeline stays its own without a renewal before another
  // server takes it over.
  std::string replica_id;
  int64_t lease_timeout_ms = 30000;
};

struct CreatePipelineRequest {
  int64_t project_id = 0;
  std::string ref;             // Branch or tag name; empty: the project's default branch.
  bool tag = false;            // ref names a tag (refs/tags/...), not a branch.
  std::string sha;             // Exact commit (webhooks); empty: the tip of ref after fetching.
  std::string before_sha;      // Push events: the previous tip; else empty.
  std::string source = "api";  // push, web, api, schedule, trigger
  std::vector<StoredVariable> variables;  // Highest precedence, like --variable.
  // A merge-request pipeline (merge and pull-request webhooks): ref and sha
  // are taken from its source branch and sha, source is
  // merge_request_event, and CreatePipeline finds the target branch's tip
  // in the fetched mirror and the diff base (their merge base).
  std::optional<MergeRequest> merge_request;
  // The API token that asks for it (its id); 0: none (webhooks, schedules,
  // triggers, downstream pipelines). Who deploys (docs/deployments.md).
  int64_t user_token_id = 0;
  // A downstream pipeline (docs/child-pipelines.md): the trigger job that
  // creates it and that job's pipeline. A child (source parent_pipeline,
  // at the parent's ref and sha) is read from the trigger job's
  // trigger:include, include:artifact entries from trigger_artifacts (saved
  // with the pipeline, so that a rerun reads what its creation read). A
  // downstream pipeline whose configuration is invalid is an error, not a
  // stored failed pipeline: its trigger job fails saying why.
  int64_t upstream_pipeline_id = 0;
  int64_t upstream_job_id = 0;
  struct ArtifactFile {
    std::string job;   // The job of the parent whose artifact it is.
    std::string path;  // Relative, inside its artifacts.
    std::string text;
  };
  std::vector<ArtifactFile> trigger_artifacts;
};

// GitLab's CI Lint of a project (pipeline_lint.h).
struct LintRequest;
struct LintResult;

// Counters for /metrics.
struct ServiceStats {
  int64_t queued_pipelines = 0;
  int64_t running_pipelines = 0;
  int64_t running_jobs = 0;
};

class PipelineService {
 public:
  // store and hub must outlive the service.
  static StatusOr<std::unique_ptr<PipelineService>> Create(Store* store, LogHub* hub,
                                                           ServiceOptions options);
  virtual ~PipelineService() = default;

  // Prepares the builds directory (server_dirs.h), crash recovery, then
  // starts the workers and the schedule timer:
  // running jobs left by a previous process become failed
  // (runner_system_failure) or are retried when their retry:when allows;
  // pipelines still created/pending/running are queued again.
  virtual Status Start() = 0;
  // Stops what runs (job processes are killed) and waits for the workers.
  // The store is left as a crash leaves it — running jobs stay running,
  // pipelines stay active — so that the next Start() treats them exactly as
  // after a crash (failed with runner_system_failure or retried, pipelines
  // resumed). Called by the destructor too.
  virtual void Stop() = 0;

  // Fetches the project's repository, resolves ref/sha, reads
  // .gitlab-ci.yml at that commit and creates the pipeline with the jobs
  // GitLab would create for this source. An invalid pipeline file gives a
  // stored pipeline with status failed and yaml_errors set (not an error);
  // a fetch failure or an unknown ref is an error. A pipeline with no jobs
  // (workflow:rules, every job excluded) is an error, as in GitLab.
  virtual StatusOr<PipelineRecord> CreatePipeline(const CreatePipelineRequest& request) = 0;

  // GitLab's pipeline actions. Cancel: running jobs are canceled, pending
  // and created ones too. Retry: every failed or canceled job gets a new
  // attempt and the pipeline runs again.
  virtual Status CancelPipeline(int64_t pipeline_id) = 0;
  virtual StatusOr<PipelineRecord> RetryPipeline(int64_t pipeline_id) = 0;

  // GitLab's job actions: retry a finished job (returns the new attempt),
  // cancel a pending or running job, play a manual job.
  virtual StatusOr<JobRecord> RetryJob(int64_t job_id) = 0;
  virtual StatusOr<JobRecord> CancelJob(int64_t job_id) = 0;
  virtual StatusOr<JobRecord> PlayJob(int64_t job_id) = 0;

  // The directory holding a finished job's archive (for download), as its
  // artifact record says, or empty if it kept none (or is a retried attempt,
  // whose files the newer attempt replaced).
  virtual std::string ArtifactsDir(int64_t job_id) = 0;

  // Fetches the project's repository into its mirror, as CreatePipeline
  // does, and returns the mirror's git directory for reading (the
  // repository API, lint). Reads need no lock: git updates refs atomically.
  virtual StatusOr<std::string> FetchMirror(int64_t project_id) = 0;

  // Deletes a project: its running and queued pipelines are canceled and
  // waited for, then its records go from the store and its files (mirror,
  // run directories, caches, builds directory) from the disk. False: no
  // such project.
  virtual StatusOr<bool> DeleteProject(int64_t project_id) = 0;

  // Reads the project's pipeline as CreatePipeline would, without storing
  // or running anything (pipeline_lint.h).
  virtual StatusOr<LintResult> Lint(const LintRequest& request) = 0;

  // GitLab's environment stop: with a stop job (environment:on_stop of
  // the last successful deployment) and without force, that job runs (a
  // manual one is played, a finished one retried) and the environment is
  // stopping until it succeeds; otherwise it is stopped at once. Its
  // auto_stop_at is cleared either way. Returns the environment afterwards.
  virtual StatusOr<EnvironmentRecord> StopEnvironment(int64_t environment_id, bool force) = 0;

  // Rolls an environment back to one of its successful deployments, as
  // GitLab does: that deployment's job is retried in its own pipeline, with
  // the artifacts and variables it had (nothing is rebuilt). Returns the new
  // deployment (created; rollback_of: the environment's newest deployment
  // after the target, if any). Refused while the target's pipeline runs or
  // another deployment of the environment runs.
  virtual StatusOr<DeploymentRecord> RollbackTo(int64_t deployment_id) = 0;

  virtual ServiceStats Stats() = 0;

  // The directory holding one of a finished job's artifacts:reports
  // (`junit` ...), as ArtifactsDir for the archive, or empty.
  virtual std::string ReportDir(int64_t job_id, const std::string& report_type) = 0;
  // GitLab's "delete job artifacts": removes the job's archive and reports
  // (files and records; its log stays). False if it had none.
  virtual StatusOr<bool> DeleteArtifacts(int64_t job_id) = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_PIPELINE_SERVICE_H_
