// Durable history for `slipway serve`: projects, pipelines, jobs, job logs,
// the artifacts index, API tokens and schedules. One interface, two backends
// with the same schema in meaning (docs/database.md): SQLite (embedded, the
// default) and PostgreSQL.
//
// Contracts shared by every implementation:
// - Thread-safe: any method may be called from any thread at once. Each call
//   is atomic (one transaction); CreatePipeline writes the pipeline and all
//   its jobs or nothing.
// - Errors are values. A lookup that finds nothing returns an empty optional;
//   a non-OK Status means the database failed or the request was invalid
//   (unknown id on update, a status change GitLab does not allow, a bad
//   filter), and its message says which.
// - Times are Unix milliseconds (UTC) taken from StoreOptions::clock.
// - Once a method that writes has returned OK, what it wrote survives a crash
//   of the process (SQLite: WAL + synchronous=NORMAL; PostgreSQL: commit).
#ifndef SLIPWAY_STORE_STORE_H_
#define SLIPWAY_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/ci_status.h"
#include "pipeline/merge_request_info.h"
#include "store/delivery_records.h"
#include "store/job_runner.h"
#include "util/clock.h"
#include "util/status.h"

namespace slipway {

struct ProjectRecord {
  int64_t id = 0;  // Assigned by the store.
  std::string name;
  std::string path_with_namespace;  // Unique, e.g. "group/app".
  std::string repo_url;             // A local path or a URL git can fetch.
  std::string default_branch = "main";
  // Empty: webhooks are not verified by secret. Stored encrypted when the
  // store has a secrets key (StoreOptions::secrets_key_file).
  std::string webhook_secret;
  // Without a webhook_secret, webhooks are refused unless this is set (an
  // explicit choice to let anyone who can reach the server start pipelines).
  bool allow_unsigned_webhooks = false;
  int64_t created_at = 0;  // Assigned by the store.
  // Which executor runs the project's jobs (ServiceOptions::executor_factory);
  // checked by MakeProject (server/project_spec.h), stored as given.
  std::string executor = "shell";
  // GitLab's "prevent outdated deployment jobs" and "allow job retries for
  // rollback deployments" (docs/deployments.md); both on by default.
  bool ci_forward_deployment_enabled = true;
  bool ci_forward_deployment_rollback_allowed = true;
};

// A variable given when a pipeline is created (API, schedule, trigger).
struct StoredVariable {
  std::string key;
  std::string value;
  std::string variable_type = "env_var";  // env_var | file
  bool operator==(const StoredVariable&) const = default;
};

struct PipelineRecord {
  int64_t id = 0;  // Assigned by the store.
  int64_t project_id = 0;
  int64_t iid = 0;  // 1, 2, ... per project; assigned by the store.
  std::string ref;
  bool tag = false;  // ref is a tag (GitLab's `tag` field; scope=tags).
  std::string sha;
  std::string before_sha;
  std::string source;  // push, web, api, schedule, trigger, ...
  std::string name;    // workflow:name, may be empty.
  CiStatus status = CiStatus::kCreated;
  int64_t created_at = 0;  // Assigned by the store.
  int64_t updated_at = 0;
  std::optional<int64_t> started_at;
  std::optional<int64_t> finished_at;
  std::optional<int64_t> duration_ms;
  std::string yaml_errors;                // Lint errors of an invalid pipeline file.
  std::vector<StoredVariable> variables;  // Stored encrypted, as webhook_secret.
  // A downstream pipeline (docs/child-pipelines.md): the pipeline and its
  // trigger job (GitLab's bridge) that created it. Empty for the others.
  std::optional<int64_t> upstream_pipeline_id;
  std::optional<int64_t> upstream_job_id;
  // The API token that created it (its id); none for webhooks, schedules,
  // triggers and downstream pipelines. Who deploys (docs/deployments.md).
  std::optional<int64_t> user_token_id;
  // A merge-request pipeline (source merge_request_event): its merge
  // request as it was when the pipeline was created, diff base included.
  std::optional<MergeRequest> merge_request;
  // CI_OPEN_MERGE_REQUESTS when it was created: "path!iid,..." of the open
  // merge requests of its branch that the server knew of; empty for none.
  std::string open_merge_requests;
};

// A merge request (GitHub and Gitea: pull request) as the project's
// webhooks described it last: what CI_OPEN_MERGE_REQUESTS is made of.
struct MergeRequestRecord {
  int64_t project_id = 0;
  int64_t iid = 0;  // The forge's number; one row per (project_id, iid).
  std::string title;
  std::string source_branch;
  std::string target_branch;
  std::string sha;               // The source branch's head it last saw.
  std::string state = "opened";  // opened, closed or merged (GitLab's words).
  int64_t updated_at = 0;        // Assigned by the store.
};

// A project's forge, to which the server posts a commit status for every
// pipeline state change (docs/server.md, "Commit statuses to the forge").
struct ProjectForgeSettings {
  int64_t project_id = 0;
  std::string kind;  // gitlab, github or gitea.
  // The forge's API base URL: https://gitlab.example/api/v4,
  // https://api.github.com, https://gitea.example/api/v1.
  std::string api_url;
  // The project on the forge. GitLab: its id or path; GitHub, Gitea: owner/repo.
  std::string forge_project;
  // Encrypted at rest (docs/database.md, "Secrets"); never logged, never
  // returned by the API.
  std::string token;
};

// What the latest status post for a pipeline gave: the dashboard shows it.
struct ForgeStatusResult {
  int64_t pipeline_id = 0;
  std::string forge;  // gitlab, github or gitea.
  std::string state;  // The state sent, in the forge's words.
  bool ok = false;
  std::string error;       // Why it failed after every retry; empty when ok.
  int64_t updated_at = 0;  // Assigned by the store.
};

// A commit status posted through the API (GitLab's "external" statuses:
// POST /projects/:id/statuses/:sha), one per (project, sha, ref, name).
struct CommitStatusRecord {
  int64_t id = 0;  // Assigned by the store.
  int64_t project_id = 0;
  std::string sha;
  std::string ref;
  std::string name = "default";
  std::string status;  // pending, running, success, failed, canceled, skipped.
  std::string target_url;
  std::string description;
  int64_t created_at = 0;  // Assigned by the store.
  int64_t updated_at = 0;
  std::optional<int64_t> started_at;   // First set running.
  std::optional<int64_t> finished_at;  // Set success, failed, canceled or skipped.
};

// A project's outgoing webhook (GitLab's project hooks): pipeline and job
// events POSTed to url in GitLab's payloads (docs/api.md, "Project hooks").
struct ProjectHookRecord {
  int64_t id = 0;  // Assigned by the store.
  int64_t project_id = 0;
  std::string url;
  // Sent as X-Gitlab-Token; encrypted at rest, never returned by the API.
  std::string token;
  bool pipeline_events = false;
  bool job_events = false;
  bool enable_ssl_verification = true;
  int64_t created_at = 0;  // Assigned by the store.
};

struct JobRecord {
  int64_t id = 0;           // Assigned by the store.
  int64_t pipeline_id = 0;  // Assigned by CreatePipeline.
  std::string name;
  std::string stage = "test";
  int stage_idx = 0;  // Position of the stage in `stages:`.
  CiStatus status = CiStatus::kCreated;
  std::string when = "on_success";
  bool allow_failure = false;
  std::optional<int> exit_code;
  std::string failure_reason;  // GitLab's values, e.g. "script_failure".
  bool retried = false;        // A newer attempt of this job exists.
  int retry_count = 0;         // 0 for the first attempt.
  int64_t created_at = 0;
  std::optional<int64_t> queued_at;
  std::optional<int64_t> started_at;
  std::optional<int64_t> finished_at;
  std::optional<int64_t> duration_ms;
  JobRunner runner;  // The remote runner that took its attempt; id 0: none.
  std::vector<std::string> needs;
  int64_t log_size = 0;  // Bytes of log stored so far.
  // The image its last attempt ran in, as resolved ("registry/repo:tag"),
  // and that image's manifest digest ("sha256:<hex>"); empty without one.
  std::string image, image_digest;
  // A trigger: job (GitLab's bridge): it starts a downstream pipeline
  // instead of a script.
  bool bridge = false;
  // Its resource_group key, variables expanded; empty: none. Held across
  // the project's pipelines (server/resource_groups.h).
  std::string resource_group;
  // The API token that last played or retried it (a retry copies it); none:
  // nobody did. Who deploys (docs/deployments.md).
  std::optional<int64_t> user_token_id;
};

// A change of a job's status. Fields left empty keep their stored value.
struct JobUpdate {
  CiStatus status = CiStatus::kPending;
  std::optional<int> exit_code;
  std::optional<std::string> failure_reason;
  std::optional<JobRunner> runner;
  std::optional<std::string> image, image_digest;
  // The effective allow_failure, e.g. true for a job that failed with one of
  // its `allow_failure:exit_codes` (as JobRun::allow_failure).
  std::optional<bool> allow_failure;
  // A trigger job following its downstream pipeline again (GitLab's
  // Bridge: `pending` from any status, then the downstream's): any status
  // may change, a finished one too. Only for bridge jobs.
  bool follow_downstream = false;
};

// One of a job's artifacts as GitLab lists them (GET /jobs/:id `artifacts`):
// the archive, or one report type. The server records them when the job
// finishes, from what its job directory holds (exec/artifact_index.h).
struct ArtifactRecord {
  int64_t job_id = 0;
  // Where its files are, relative to the pipeline's run directory
  // (`jobs/<dir>/artifacts`, `jobs/<dir>/reports/junit`).
  std::string path;
  std::string file_type = "archive";  // archive, junit, dotenv, ...
  int64_t size = 0;                   // Bytes of its files.
  std::string sha256;                 // Lowercase hex; empty when not computed.
  std::string filename;               // As GitLab lists it: artifacts.zip, junit.xml.gz ...
  std::string file_format;            // zip, gzip or raw.
  // Unix ms after which the cleaner removes it (artifacts:expire_in from the
  // job's end); none: never.
  std::optional<int64_t> expire_at;
};

// A job's code coverage, from its `coverage:` regexp and its log
// (exec/coverage.h), as written ("91.67").
struct JobCoverage {
  int64_t job_id = 0;
  std::string coverage;
  bool retried = false;  // Its job has a newer attempt.
};

// The latest attempt of a job as the pipeline list's stage graph needs it.
struct StageJobStatus {
  int64_t pipeline_id = 0;
  std::string stage;
  int stage_idx = 0;
  CiStatus status = CiStatus::kCreated;
  bool allow_failure = false;
};

// kRunner: a remote runner's token (docs/runners.md); it takes and reports
// jobs and can do nothing else: not even the read routes accept it.
enum class TokenRole { kRead, kRun, kAdmin, kRunner };
const char* TokenRoleName(TokenRole r);  // "read", "run", "admin", "runner"
std::optional<TokenRole> ParseTokenRole(std::string_view name);

struct TokenRecord {
  int64_t id = 0;
  std::string name;
  std::string token_sha256;  // Lowercase hex of SHA-256 over the raw token.
  TokenRole role = TokenRole::kRead;
  int64_t created_at = 0;
  std::optional<int64_t> last_used_at;
  bool revoked = false;
};

struct CreatedToken {
  TokenRecord record;
  std::string raw;  // Shown once to the user; the store keeps only its hash.
};

struct ScheduleRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string description;
  std::string cron;                   // Five-field cron syntax.
  std::string cron_timezone = "UTC";  // IANA name.
  std::string ref;
  std::vector<StoredVariable> variables;  // Stored encrypted, as webhook_secret.
  bool active = true;
  std::optional<int64_t> next_run_at;  // Computed by the caller from cron.
  std::optional<int64_t> last_pipeline_id;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// A project's CI/CD variable, as GitLab's project variables API has it
// (docs/api.md). Its value is stored encrypted, as webhook_secret.
struct ProjectVariableRecord {
  int64_t project_id = 0;
  std::string key;
  std::string value;
  std::string variable_type = "env_var";  // env_var | file
  bool is_protected = false;              // Only for pipelines of protected refs.
  bool masked = false;                    // Hidden in job logs.
  bool raw = false;                       // Never expanded.
  bool hidden = false;                    // Masked, and its value never shown by the API.
  std::string environment_scope = "*";
  std::string description;
  bool operator==(const ProjectVariableRecord&) const = default;
};

// A pipeline trigger token of a project (GitLab's pipeline triggers API):
// POST /projects/:id/trigger/pipeline with the token starts a pipeline. Only
// the token's SHA-256 is stored, and its first characters to tell it apart.
struct TriggerRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string description;
  std::string token_prefix;  // The first 4 characters after "glptt-".
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> last_used;
};

struct CreatedTrigger {
  TriggerRecord trigger;
  std::string raw;  // "glptt-" and 40 hex digits; shown once.
};

template <typename T>
struct Page {
  std::vector<T> items;
  int64_t total = 0;  // Matching rows over all pages (X-Total).
};

// GitLab's GET /projects/:id/pipelines parameters.
struct PipelineFilter {
  int64_t project_id = 0;
  std::string scope;  // "", running, pending, finished, branches, tags
  std::optional<CiStatus> status;
  // Empty: no filter; but child pipelines (source parent_pipeline) are
  // listed only when source asks for them, as in GitLab.
  std::string ref, sha, source, name;
  std::optional<bool> yaml_errors;
  std::optional<int64_t> updated_after, updated_before;
  std::string order_by = "id";  // id, status, ref, updated_at
  std::string sort = "desc";    // asc, desc
  int page = 1;
  int per_page = 20;  // 1..100
};

// GET /projects/:id/pipelines/:pid/jobs and GET /projects/:id/jobs.
struct JobFilter {
  std::optional<int64_t> pipeline_id;  // One of pipeline_id and project_id.
  std::optional<int64_t> project_id;
  std::vector<CiStatus> scope;  // Empty: every status.
  bool include_retried = false;
  // Empty: every job; false: no trigger jobs (GitLab's jobs API lists only
  // builds, bridges under /bridges); true: only trigger jobs.
  std::optional<bool> bridge;
  int page = 1;
  int per_page = 20;
};

struct LogSlice {
  std::string bytes;
  int64_t offset = 0;      // Where bytes start.
  int64_t total_size = 0;  // The log's size when read.
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- projects
  // Fails if path_with_namespace is taken.
  virtual StatusOr<ProjectRecord> CreateProject(const ProjectRecord& project) = 0;
  virtual StatusOr<std::optional<ProjectRecord>> GetProject(int64_t id) = 0;
  virtual StatusOr<std::optional<ProjectRecord>> GetProjectByPath(std::string_view path) = 0;
  virtual StatusOr<std::vector<ProjectRecord>> ListProjects() = 0;  // By id.
  // Stores name, repo_url, default_branch, webhook_secret,
  // allow_unsigned_webhooks and executor of project.id (path_with_namespace
  // and the rest stay); false: no such project.
  virtual StatusOr<bool> UpdateProject(const ProjectRecord& project) = 0;
  // Deletes the project and everything of it (pipelines, jobs, logs,
  // variables, environments … by the schema's cascades). Returns the ids of
  // its pipelines, whose files the caller removes; nullopt: no such project.
  virtual StatusOr<std::optional<std::vector<int64_t>>> DeleteProject(int64_t id) = 0;

  // The project's deployment safety settings (ProjectRecord); an unknown id
  // is an error.
  virtual StatusOr<ProjectRecord> SetProjectDeploymentSafety(int64_t id, bool forward_enabled,
                                                             bool rollback_allowed) = 0;

  // ---- resource groups (sql_store_resource_groups.cc)
  // Makes the project's groups of these keys that do not exist yet
  // (process_mode unordered).
  virtual Status EnsureResourceGroups(int64_t project_id, const std::vector<std::string>& keys) = 0;
  virtual StatusOr<std::optional<ResourceGroupRecord>> FindResourceGroup(int64_t project_id,
                                                                         std::string_view key) = 0;
  virtual StatusOr<std::vector<ResourceGroupRecord>> ListResourceGroups(
      int64_t project_id) = 0;  // By id.
  // Sets the group's process_mode (one of ResourceGroupRecord's); none: no
  // such group.
  virtual StatusOr<std::optional<ResourceGroupRecord>> SetResourceGroupMode(
      int64_t project_id, std::string_view key, std::string_view mode) = 0;
  // The latest attempts of the project's jobs in group key that have not
  // started yet (created, scheduled, waiting_for_resource, pending), by
  // pipeline id then job id: GitLab's upcoming processables.
  virtual StatusOr<std::vector<JobRecord>> UpcomingResourceJobs(int64_t project_id,
                                                                std::string_view key) = 0;

  // ---- deploy freezes (sql_store_freeze_periods.cc); crons are the
  // caller's to check.
  virtual StatusOr<FreezePeriodRecord> CreateFreezePeriod(const FreezePeriodRecord& period) = 0;
  virtual StatusOr<std::optional<FreezePeriodRecord>> GetFreezePeriod(int64_t id) = 0;
  // By created_at.
  virtual StatusOr<std::vector<FreezePeriodRecord>> ListFreezePeriods(int64_t project_id) = 0;
  // Replaces freeze_start, freeze_end and cron_timezone of period.id.
  virtual StatusOr<FreezePeriodRecord> UpdateFreezePeriod(const FreezePeriodRecord& period) = 0;
  virtual Status DeleteFreezePeriod(int64_t id) = 0;

  // ---- protected environments and approvals (sql_store_approvals.cc)
  // Protects (project_id, name); none when it already is.
  virtual StatusOr<std::optional<ProtectedEnvironmentRecord>> ProtectEnvironment(
      const ProtectedEnvironmentRecord& protection) = 0;
  virtual StatusOr<std::vector<ProtectedEnvironmentRecord>> ListProtectedEnvironments(
      int64_t project_id) = 0;  // By name.
  virtual StatusOr<std::optional<ProtectedEnvironmentRecord>> FindProtectedEnvironment(
      int64_t project_id, std::string_view name) = 0;
  // Whether there was one to remove.
  virtual StatusOr<bool> UnprotectEnvironment(int64_t project_id, std::string_view name) = 0;
  // Records a token's approval or rejection; none when that token already
  // gave one for the deployment (one each, as in GitLab).
  virtual StatusOr<std::optional<DeploymentApprovalRecord>> AddDeploymentApproval(
      const DeploymentApprovalRecord& approval) = 0;
  virtual StatusOr<std::vector<DeploymentApprovalRecord>> ListDeploymentApprovals(
      int64_t deployment_id) = 0;  // By id.
  // Sets the token that played or retried the job (JobRecord::user_token_id).
  virtual Status SetJobUser(int64_t job_id, int64_t token_id) = 0;

  // ---- pipelines
  // Inserts pipeline (id, iid, timestamps assigned) and its jobs in one
  // transaction. Returns the stored pipeline.
  virtual StatusOr<PipelineRecord> CreatePipeline(const PipelineRecord& pipeline,
                                                  const std::vector<JobRecord>& jobs) = 0;
  virtual StatusOr<std::optional<PipelineRecord>> GetPipeline(int64_t id) = 0;
  virtual StatusOr<Page<PipelineRecord>> ListPipelines(const PipelineFilter& filter) = 0;
  // A pipeline's status is derived from its jobs by the caller, so any change
  // is allowed (as in GitLab). Sets started_at on the first running,
  // finished_at and duration on success/failed/canceled, updated_at always.
  virtual StatusOr<PipelineRecord> UpdatePipelineStatus(int64_t id, CiStatus status) = 0;
  // Deletes the pipeline with its jobs, logs and artifacts index.
  virtual Status DeletePipeline(int64_t id) = 0;
  // The pipelines whose upstream_pipeline_id is pipeline_id (those its
  // trigger jobs created), by id.
  virtual StatusOr<std::vector<PipelineRecord>> ListDownstreamPipelines(int64_t pipeline_id) = 0;

  // ---- jobs
  virtual StatusOr<std::optional<JobRecord>> GetJob(int64_t id) = 0;
  virtual StatusOr<Page<JobRecord>> ListJobs(const JobFilter& filter) = 0;  // By id.
  // Validated with JobTransitionAllowed. Sets queued_at on pending,
  // started_at on running, finished_at and duration on a finished status.
  virtual StatusOr<JobRecord> UpdateJob(int64_t id, const JobUpdate& update) = 0;
  // GitLab's retry: the finished job is marked retried and a copy is created
  // (status created, retry_count + 1, fresh log). Returns the new job.
  virtual StatusOr<JobRecord> RetryJob(int64_t id) = 0;

  // ---- job logs: append-only, addressed by byte offset.
  // Appends bytes at the end of the job's log; returns the new size.
  virtual StatusOr<int64_t> AppendLog(int64_t job_id, std::string_view bytes) = 0;
  // Up to max_bytes starting at offset (clamped to the log's size).
  virtual StatusOr<LogSlice> ReadLog(int64_t job_id, int64_t offset, int64_t max_bytes) = 0;

  // ---- artifacts index; adding the same (job, path) again replaces it.
  virtual Status AddArtifact(const ArtifactRecord& artifact) = 0;
  virtual StatusOr<std::vector<ArtifactRecord>> ListArtifacts(int64_t job_id) = 0;  // By path.

  // ---- tokens
  virtual StatusOr<CreatedToken> CreateToken(std::string_view name, TokenRole role) = 0;
  // The live token whose raw value is `raw` (and records its use), or none
  // when it is unknown or revoked.
  virtual StatusOr<std::optional<TokenRecord>> LookupToken(std::string_view raw) = 0;
  virtual Status RevokeToken(int64_t id) = 0;
  virtual StatusOr<std::vector<TokenRecord>> ListTokens() = 0;

  // ---- pipeline schedules
  virtual StatusOr<ScheduleRecord> CreateSchedule(const ScheduleRecord& schedule) = 0;
  virtual StatusOr<std::optional<ScheduleRecord>> GetSchedule(int64_t id) = 0;
  virtual StatusOr<std::vector<ScheduleRecord>> ListSchedules(int64_t project_id) = 0;
  // Replaces every field but id, project_id and created_at.
  virtual StatusOr<ScheduleRecord> UpdateSchedule(const ScheduleRecord& schedule) = 0;
  virtual Status DeleteSchedule(int64_t id) = 0;
  // Active schedules with next_run_at <= now_ms, oldest first.
  virtual StatusOr<std::vector<ScheduleRecord>> DueSchedules(int64_t now_ms) = 0;

  // Environments and deployments (sql_store_deployments.cc). The
  // environment of (project_id, name) is made if missing, else its url and
  // tier are updated, and it becomes available again.
  virtual StatusOr<EnvironmentRecord> SaveEnvironment(const EnvironmentRecord& environment) = 0;
  virtual StatusOr<std::optional<EnvironmentRecord>> GetEnvironment(int64_t id) = 0;
  // The environment of (project_id, name) moved to state (available,
  // stopping, stopped); none: nothing happens (a stop job of an environment
  // never deployed to).
  virtual StatusOr<std::optional<EnvironmentRecord>> SetEnvironmentState(
      int64_t project_id, std::string_view name, std::string_view state) = 0;
  virtual StatusOr<std::vector<EnvironmentRecord>> ListEnvironments(int64_t project_id) = 0;
  virtual StatusOr<std::optional<EnvironmentRecord>> FindEnvironment(int64_t project_id,
                                                                     std::string_view name) = 0;
  // GitLab's POST /environments: a new environment, or an error saying the
  // name is taken.
  virtual StatusOr<EnvironmentRecord> CreateEnvironment(const EnvironmentRecord& environment) = 0;
  // Sets external_url and tier of environment.id (PUT /environments/:id).
  virtual StatusOr<EnvironmentRecord> UpdateEnvironment(const EnvironmentRecord& environment) = 0;
  // Deletes the environment and its deployments.
  virtual Status DeleteEnvironment(int64_t id) = 0;
  // auto_stop_at becomes now + in_seconds, or none.
  virtual StatusOr<EnvironmentRecord> SetEnvironmentAutoStop(int64_t id,
                                                             std::optional<int64_t> in_seconds) = 0;
  // Available environments whose auto_stop_at is <= now_ms, oldest first.
  virtual StatusOr<std::vector<EnvironmentRecord>> EnvironmentsToAutoStop(int64_t now_ms) = 0;
  virtual StatusOr<DeploymentRecord> CreateDeployment(const DeploymentRecord& deployment) = 0;
  // Moves a deployment to status (finished_at set for success, failed,
  // canceled); an unknown id is an error.
  virtual StatusOr<DeploymentRecord> SetDeploymentStatus(int64_t id, std::string_view status) = 0;
  virtual StatusOr<std::optional<DeploymentRecord>> GetDeployment(int64_t id) = 0;
  virtual StatusOr<std::optional<DeploymentRecord>> DeploymentOfJob(int64_t job_id) = 0;
  virtual StatusOr<Page<DeploymentRecord>> ListDeployments(const DeploymentFilter& filter) = 0;
  // The environment's newest deployment that succeeded, if any.
  virtual StatusOr<std::optional<DeploymentRecord>> LastSuccessfulDeployment(
      int64_t environment_id) = 0;
  // Stores the results of a deployment's checks (DeploymentRecord::checks);
  // an unknown id is an error.
  virtual StatusOr<DeploymentRecord> SetDeploymentChecks(int64_t id, std::string_view checks) = 0;

  // ---- incidents (sql_store_incidents.cc)
  // Stores incident (iid assigned; created_at now unless given). One with an
  // external_key while an open incident of its project has that key makes
  // nothing and returns the open one. status must be open; source one of
  // api, alertmanager, rollback.
  virtual StatusOr<IncidentRecord> CreateIncident(const IncidentRecord& incident) = 0;
  virtual StatusOr<std::optional<IncidentRecord>> GetIncident(int64_t id) = 0;
  virtual StatusOr<std::optional<IncidentRecord>> GetIncidentByIid(int64_t project_id,
                                                                   int64_t iid) = 0;
  virtual StatusOr<Page<IncidentRecord>> ListIncidents(const IncidentFilter& filter) = 0;
  // Replaces title, description and deployment_id.
  virtual StatusOr<IncidentRecord> UpdateIncident(const IncidentRecord& incident) = 0;
  // Resolves the incident at resolved_at (none: now); an incident already
  // resolved stays as it was. An unknown id is an error.
  virtual StatusOr<IncidentRecord> ResolveIncident(int64_t id,
                                                   std::optional<int64_t> resolved_at) = 0;
  // Opens a resolved incident again (an error if another open incident of
  // its project has its external_key).
  virtual StatusOr<IncidentRecord> ReopenIncident(int64_t id) = 0;
  // Resolves the project's open incident with external_key, if any.
  virtual StatusOr<std::optional<IncidentRecord>> ResolveIncidentByKey(
      int64_t project_id, std::string_view external_key, std::optional<int64_t> resolved_at) = 0;

  // ---- the Alertmanager token of a project: the store keeps its SHA-256.
  // Makes a new token (replacing any) and returns it, shown once.
  virtual StatusOr<std::string> CreateAlertToken(int64_t project_id) = 0;
  // Whether raw is the project's current token (false when it has none).
  virtual StatusOr<bool> CheckAlertToken(int64_t project_id, std::string_view raw) = 0;

  // ---- what DORA metrics need (sql_store_dora.cc)
  // Records the commits a deployment shipped; a commit already recorded for
  // it is kept as it was.
  virtual Status AddDeploymentCommits(int64_t deployment_id,
                                      const std::vector<DeploymentCommit>& commits) = 0;
  virtual StatusOr<std::vector<DeploymentCommit>> ListDeploymentCommits(int64_t deployment_id) = 0;
  // The project's first successful deployment that shipped the commit
  // (a full sha, or an abbreviation of at least 7 hex digits), by commits
  // recorded or, failing that, by its own sha.
  virtual StatusOr<std::optional<DeploymentRecord>> DeploymentOfCommit(int64_t project_id,
                                                                       std::string_view sha) = 0;
  virtual StatusOr<DoraFacts> LoadDoraFacts(const DoraQuery& query) = 0;

  // ---- project variables (by key and environment_scope within a project)
  virtual StatusOr<std::vector<ProjectVariableRecord>> ListProjectVariables(
      int64_t project_id) = 0;  // By key, then scope.
  // False, storing nothing, when the project has the key in that scope.
  virtual StatusOr<bool> CreateProjectVariable(const ProjectVariableRecord& variable) = 0;
  // Replaces the variable of that project, key and scope; false when there
  // is none.
  virtual StatusOr<bool> UpdateProjectVariable(const ProjectVariableRecord& variable) = 0;
  virtual StatusOr<bool> DeleteProjectVariable(int64_t project_id, std::string_view key,
                                               std::string_view environment_scope) = 0;

  // ---- pipeline trigger tokens
  virtual StatusOr<CreatedTrigger> CreateTrigger(int64_t project_id,
                                                 std::string_view description) = 0;
  virtual StatusOr<std::vector<TriggerRecord>> ListTriggers(int64_t project_id) = 0;  // By id.
  virtual StatusOr<std::optional<TriggerRecord>> GetTrigger(int64_t id) = 0;
  virtual StatusOr<bool> UpdateTrigger(int64_t id, std::string_view description) = 0;
  virtual StatusOr<bool> DeleteTrigger(int64_t id) = 0;
  // The trigger of project_id whose token is raw, its last_used set to now;
  // nullopt when there is none.
  virtual StatusOr<std::optional<TriggerRecord>> UseTrigger(int64_t project_id,
                                                            std::string_view raw) = 0;

  // ---- webhook deliveries (replay protection)
  // Takes a delivery of project_id known by keys (its delivery id, the digest
  // of its signed body …): records every key with received_at = now_ms and
  // returns true, unless one of them was already taken within the last
  // window_ms, in which case nothing is recorded and it returns false (a
  // replay). Keys of other projects never collide. Keys older than the window
  // are deleted (of every project) on the way. Atomic, also between processes.
  virtual StatusOr<bool> TakeWebhookDelivery(int64_t project_id,
                                             const std::vector<std::string>& keys, int64_t now_ms,
                                             int64_t window_ms) = 0;
  // Forgets keys taken by TakeWebhookDelivery, so that the forge may deliver
  // again (the delivery failed before it created anything).
  virtual Status ForgetWebhookDelivery(int64_t project_id,
                                       const std::vector<std::string>& keys) = 0;

  // ---- artifacts: expiry and removal (the server's cleaner, the API's
  // DELETE and keep; docs/artifacts.md "Expiry").
  // Forgets every artifact of the job (the files are the caller's).
  virtual Status DeleteArtifacts(int64_t job_id) = 0;
  // Sets (none: clears) the expiry of every artifact of the job.
  virtual Status SetArtifactsExpireAt(int64_t job_id, std::optional<int64_t> expire_at) = 0;
  // Up to `limit` jobs with an id below before_job_id and an artifact whose
  // expire_at is at or before now_ms, newest (highest id) first; a caller
  // pages with the last id it got.
  virtual StatusOr<std::vector<int64_t>> JobsWithExpiredArtifacts(int64_t now_ms,
                                                                  int64_t before_job_id,
                                                                  int limit) = 0;

  // ---- coverage (the API's job `coverage` and the pipeline's average).
  // Sets (replaces) the job's coverage.
  virtual Status SetJobCoverage(int64_t job_id, const std::string& coverage) = 0;
  // The coverage of every job of the pipeline that has one, by job id.
  virtual StatusOr<std::vector<JobCoverage>> ListJobCoverage(int64_t pipeline_id) = 0;
  // The latest attempts of the pipelines' jobs (at most 100 pipelines; trigger jobs too) by
  // pipeline, stage_idx and job id: the list's stage graphs in one query for a page.
  virtual StatusOr<std::vector<StageJobStatus>> ListStageJobStatuses(
      const std::vector<int64_t>& pipeline_ids) = 0;

  // ---- the project's forge: commit statuses out, and statuses posted in
  // Creates or replaces the project's forge; an empty kind removes it.
  virtual Status SetProjectForge(const ProjectForgeSettings& settings) = 0;
  virtual StatusOr<std::optional<ProjectForgeSettings>> GetProjectForge(int64_t project_id) = 0;
  // Creates or replaces the pipeline's result (updated_at now).
  virtual Status RecordForgeStatus(const ForgeStatusResult& result) = 0;
  virtual StatusOr<std::optional<ForgeStatusResult>> GetForgeStatus(int64_t pipeline_id) = 0;
  // Creates the status of (project_id, sha, ref, name) or updates its
  // status, target_url and description; started_at and finished_at follow
  // the status. Returns the row.
  virtual StatusOr<CommitStatusRecord> SaveCommitStatus(const CommitStatusRecord& status) = 0;
  // The project's statuses of sha, oldest first; empty ref or name: any.
  virtual StatusOr<std::vector<CommitStatusRecord>> ListCommitStatuses(int64_t project_id,
                                                                       std::string_view sha,
                                                                       std::string_view ref,
                                                                       std::string_view name) = 0;

  // ---- outgoing project hooks
  virtual StatusOr<ProjectHookRecord> CreateProjectHook(const ProjectHookRecord& hook) = 0;
  virtual StatusOr<std::vector<ProjectHookRecord>> ListProjectHooks(int64_t project_id) = 0;
  virtual StatusOr<std::optional<ProjectHookRecord>> GetProjectHook(int64_t id) = 0;
  // False when there was no such hook.
  virtual StatusOr<bool> DeleteProjectHook(int64_t id) = 0;

  // ---- merge requests (what the forge's webhooks said)
  // Creates or replaces the row of (record.project_id, record.iid).
  virtual Status SaveMergeRequest(const MergeRequestRecord& record) = 0;
  // The iids of the project's open merge requests from source_branch,
  // lowest first.
  virtual StatusOr<std::vector<int64_t>> OpenMergeRequestIids(int64_t project_id,
                                                              std::string_view source_branch) = 0;
};

struct StoreOptions {
  // The clock for every timestamp the store assigns; null: the machine's.
  // Must outlive the store.
  Clock* clock = nullptr;
  // PostgreSQL only: a schema to create (if missing) and use instead of the
  // default search_path, so that several stores can share one database.
  std::string postgres_schema;
  // The key that encrypts secrets at rest (store/secret_box.h). The file is
  // created with a new key when missing, unless the database already holds
  // secrets of a key (then opening fails: that key is needed). Opening fails
  // too when the file holds another key than the one the database's secrets
  // are encrypted with. At open, secrets stored in plain text (by older
  // versions) are encrypted. Empty: no key — secrets are stored as given
  // (in-memory and test stores), and reading an encrypted one fails.
  std::string secrets_key_file;
};

// "sqlite:PATH" or a plain path: SQLite (the file is created if missing;
// "sqlite::memory:" is a private in-memory database, the store's fake for
// tests);
// "postgresql://..." or "postgres://...": PostgreSQL. Migrates the schema to
// the current version before returning.
StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url, StoreOptions options = {});

}  // namespace slipway

#endif  // SLIPWAY_STORE_STORE_H_
