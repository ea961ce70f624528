// Store written once over SqlDatabase; SqliteStore and PostgresStore only
// choose the connection. One connection per store, every call holding mu_
// for its whole transaction: calls from many threads are serialised, which
// keeps each call atomic and costs little next to the disk or network.
// Several processes may share one database (e.g. `slipway token create`
// beside a running server): SQLite waits on its busy timeout, PostgreSQL on
// row locks.
#ifndef SLIPWAY_STORE_SQL_STORE_H_
#define SLIPWAY_STORE_SQL_STORE_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/action_requests.h"
#include "store/delivery_claims.h"
#include "store/pipeline_leases.h"
#include "store/replica_notices.h"
#include "store/secret_box.h"
#include "store/sql_database.h"
#include "store/store.h"
#include "util/thread_annotations.h"

namespace slipway {

class SqlStore : public Store,
                 public PipelineLeases,
                 public DeliveryClaims,
                 public ReplicaNotices,
                 public ActionRequests {
 public:
  // db must already be migrated to the latest schema version.
  SqlStore(std::unique_ptr<SqlDatabase> db, StoreOptions options);

  // Loads (or creates) options.secrets_key_file, checks it against the key
  // the database's secrets are encrypted with and encrypts plain-text ones;
  // see StoreOptions::secrets_key_file. Called once, by Open.
  Status SetUpSecrets();

  StatusOr<ProjectRecord> CreateProject(const ProjectRecord& project) override;
  StatusOr<std::optional<ProjectRecord>> GetProject(int64_t id) override;
  StatusOr<std::optional<ProjectRecord>> GetProjectByPath(std::string_view path) override;
  StatusOr<std::vector<ProjectRecord>> ListProjects() override;
  StatusOr<bool> UpdateProject(const ProjectRecord& project) override;
  StatusOr<std::optional<std::vector<int64_t>>> DeleteProject(int64_t id) override;

  StatusOr<PipelineRecord> CreatePipeline(const PipelineRecord& pipeline,
                                          const std::vector<JobRecord>& jobs) override;
  StatusOr<std::optional<PipelineRecord>> GetPipeline(int64_t id) override;
  StatusOr<Page<PipelineRecord>> ListPipelines(const PipelineFilter& filter) override;
  StatusOr<PipelineRecord> UpdatePipelineStatus(int64_t id, CiStatus status) override;
  Status DeletePipeline(int64_t id) override;
  StatusOr<std::vector<PipelineRecord>> ListDownstreamPipelines(int64_t pipeline_id) override;

  StatusOr<std::optional<JobRecord>> GetJob(int64_t id) override;
  StatusOr<Page<JobRecord>> ListJobs(const JobFilter& filter) override;
  StatusOr<JobRecord> UpdateJob(int64_t id, const JobUpdate& update) override;
  StatusOr<JobRecord> RetryJob(int64_t id) override;

  StatusOr<int64_t> AppendLog(int64_t job_id, std::string_view bytes) override;
  StatusOr<LogSlice> ReadLog(int64_t job_id, int64_t offset, int64_t max_bytes) override;

  Status AddArtifact(const ArtifactRecord& artifact) override;
  StatusOr<std::vector<ArtifactRecord>> ListArtifacts(int64_t job_id) override;

  StatusOr<CreatedToken> CreateToken(std::string_view name, TokenRole role) override;
  StatusOr<std::optional<TokenRecord>> LookupToken(std::string_view raw) override;
  Status RevokeToken(int64_t id) override;
  StatusOr<std::vector<TokenRecord>> ListTokens() override;

  StatusOr<ScheduleRecord> CreateSchedule(const ScheduleRecord& schedule) override;
  StatusOr<std::optional<ScheduleRecord>> GetSchedule(int64_t id) override;
  StatusOr<std::vector<ScheduleRecord>> ListSchedules(int64_t project_id) override;
  StatusOr<ScheduleRecord> UpdateSchedule(const ScheduleRecord& schedule) override;
  Status DeleteSchedule(int64_t id) override;
  StatusOr<std::vector<ScheduleRecord>> DueSchedules(int64_t now_ms) override;

  StatusOr<EnvironmentRecord> SaveEnvironment(const EnvironmentRecord& environment) override;
  StatusOr<std::optional<EnvironmentRecord>> GetEnvironment(int64_t id) override;
  StatusOr<std::optional<EnvironmentRecord>> SetEnvironmentState(int64_t project_id,
                                                                 std::string_view name,
                                                                 std::string_view state) override;
  StatusOr<std::vector<EnvironmentRecord>> ListEnvironments(int64_t project_id) override;
  StatusOr<std::optional<EnvironmentRecord>> FindEnvironment(int64_t project_id,
                                                             std::string_view name) override;
  StatusOr<EnvironmentRecord> CreateEnvironment(const EnvironmentRecord& environment) override;
  StatusOr<EnvironmentRecord> UpdateEnvironment(const EnvironmentRecord& environment) override;
  Status DeleteEnvironment(int64_t id) override;
  StatusOr<EnvironmentRecord> SetEnvironmentAutoStop(int64_t id,
                                                     std::optional<int64_t> in_seconds) override;
  StatusOr<std::vector<EnvironmentRecord>> EnvironmentsToAutoStop(int64_t now_ms) override;
  StatusOr<ProjectRecord> SetProjectDeploymentSafety(int64_t id, bool forward_enabled,
                                                     bool rollback_allowed) override;
  Status EnsureResourceGroups(int64_t project_id, const std::vector<std::string>& keys) override;
  StatusOr<std::optional<ResourceGroupRecord>> FindResourceGroup(int64_t project_id,
                                                                 std::string_view key) override;
  StatusOr<std::vector<ResourceGroupRecord>> ListResourceGroups(int64_t project_id) override;
  StatusOr<std::optional<ResourceGroupRecord>> SetResourceGroupMode(int64_t project_id,
                                                                    std::string_view key,
                                                                    std::string_view mode) override;
  StatusOr<std::vector<JobRecord>> UpcomingResourceJobs(int64_t project_id,
                                                        std::string_view key) override;
  StatusOr<FreezePeriodRecord> CreateFreezePeriod(const FreezePeriodRecord& period) override;
  StatusOr<std::optional<FreezePeriodRecord>> GetFreezePeriod(int64_t id) override;
  StatusOr<std::vector<FreezePeriodRecord>> ListFreezePeriods(int64_t project_id) override;
  StatusOr<FreezePeriodRecord> UpdateFreezePeriod(const FreezePeriodRecord& period) override;
  Status DeleteFreezePeriod(int64_t id) override;
  StatusOr<std::optional<ProtectedEnvironmentRecord>> ProtectEnvironment(
      const ProtectedEnvironmentRecord& protection) override;
  StatusOr<std::vector<ProtectedEnvironmentRecord>> ListProtectedEnvironments(
      int64_t project_id) override;
  StatusOr<std::optional<ProtectedEnvironmentRecord>> FindProtectedEnvironment(
      int64_t project_id, std::string_view name) override;
  StatusOr<bool> UnprotectEnvironment(int64_t project_id, std::string_view name) override;
  StatusOr<std::optional<DeploymentApprovalRecord>> AddDeploymentApproval(
      const DeploymentApprovalRecord& approval) override;
  StatusOr<std::vector<DeploymentApprovalRecord>> ListDeploymentApprovals(
      int64_t deployment_id) override;
  Status SetJobUser(int64_t job_id, int64_t token_id) override;
  StatusOr<DeploymentRecord> CreateDeployment(const DeploymentRecord& deployment) override;
  StatusOr<DeploymentRecord> SetDeploymentStatus(int64_t id, std::string_view status) override;
  StatusOr<std::optional<DeploymentRecord>> GetDeployment(int64_t id) override;
  StatusOr<std::optional<DeploymentRecord>> DeploymentOfJob(int64_t job_id) override;
  StatusOr<Page<DeploymentRecord>> ListDeployments(const DeploymentFilter& filter) override;
  StatusOr<std::optional<DeploymentRecord>> LastSuccessfulDeployment(
      int64_t environment_id) override;
  StatusOr<DeploymentRecord> SetDeploymentChecks(int64_t id, std::string_view checks) override;

  StatusOr<IncidentRecord> CreateIncident(const IncidentRecord& incident) override;
  StatusOr<std::optional<IncidentRecord>> GetIncident(int64_t id) override;
  StatusOr<std::optional<IncidentRecord>> GetIncidentByIid(int64_t project_id,
                                                           int64_t iid) override;
  StatusOr<Page<IncidentRecord>> ListIncidents(const IncidentFilter& filter) override;
  StatusOr<IncidentRecord> UpdateIncident(const IncidentRecord& incident) override;
  StatusOr<IncidentRecord> ResolveIncident(int64_t id, std::optional<int64_t> resolved_at) override;
  StatusOr<IncidentRecord> ReopenIncident(int64_t id) override;
  StatusOr<std::optional<IncidentRecord>> ResolveIncidentByKey(
      int64_t project_id, std::string_view external_key,
      std::optional<int64_t> resolved_at) override;
  StatusOr<std::vector<ProjectVariableRecord>> ListProjectVariables(int64_t project_id) override;
  StatusOr<bool> CreateProjectVariable(const ProjectVariableRecord& variable) override;
  StatusOr<bool> UpdateProjectVariable(const ProjectVariableRecord& variable) override;
  StatusOr<bool> DeleteProjectVariable(int64_t project_id, std::string_view key,
                                       std::string_view environment_scope) override;
  StatusOr<CreatedTrigger> CreateTrigger(int64_t project_id, std::string_view description) override;
  StatusOr<std::vector<TriggerRecord>> ListTriggers(int64_t project_id) override;
  StatusOr<std::optional<TriggerRecord>> GetTrigger(int64_t id) override;
  StatusOr<bool> UpdateTrigger(int64_t id, std::string_view description) override;
  StatusOr<bool> DeleteTrigger(int64_t id) override;
  StatusOr<std::optional<TriggerRecord>> UseTrigger(int64_t project_id,
                                                    std::string_view raw) override;
  StatusOr<std::string> CreateAlertToken(int64_t project_id) override;
  StatusOr<bool> CheckAlertToken(int64_t project_id, std::string_view raw) override;

  Status AddDeploymentCommits(int64_t deployment_id,
                              const std::vector<DeploymentCommit>& commits) override;
  StatusOr<std::vector<DeploymentCommit>> ListDeploymentCommits(int64_t deployment_id) override;
  StatusOr<std::optional<DeploymentRecord>> DeploymentOfCommit(int64_t project_id,
                                                               std::string_view sha) override;
  StatusOr<DoraFacts> LoadDoraFacts(const DoraQuery& query) override;

  StatusOr<bool> TakeWebhookDelivery(int64_t project_id, const std::vector<std::string>& keys,
                                     int64_t now_ms, int64_t window_ms) override;
  Status ForgetWebhookDelivery(int64_t project_id, const std::vector<std::string>& keys) override;
  Status SaveMergeRequest(const MergeRequestRecord& record) override;
  StatusOr<ProjectHookRecord> CreateProjectHook(const ProjectHookRecord& hook) override;
  StatusOr<std::vector<ProjectHookRecord>> ListProjectHooks(int64_t project_id) override;
  StatusOr<std::optional<ProjectHookRecord>> GetProjectHook(int64_t id) override;
  StatusOr<bool> DeleteProjectHook(int64_t id) override;
  Status SetProjectForge(const ProjectForgeSettings& settings) override;
  StatusOr<std::optional<ProjectForgeSettings>> GetProjectForge(int64_t project_id) override;
  Status RecordForgeStatus(const ForgeStatusResult& result) override;
  StatusOr<std::optional<ForgeStatusResult>> GetForgeStatus(int64_t pipeline_id) override;
  StatusOr<CommitStatusRecord> SaveCommitStatus(const CommitStatusRecord& status) override;
  StatusOr<std::vector<CommitStatusRecord>> ListCommitStatuses(int64_t project_id,
                                                               std::string_view sha,
                                                               std::string_view ref,
                                                               std::string_view name) override;
  StatusOr<std::vector<int64_t>> OpenMergeRequestIids(int64_t project_id,
                                                      std::string_view source_branch) override;

  Status DeleteArtifacts(int64_t job_id) override;
  Status SetArtifactsExpireAt(int64_t job_id, std::optional<int64_t> expire_at) override;
  StatusOr<std::vector<int64_t>> JobsWithExpiredArtifacts(int64_t now_ms, int64_t before_job_id,
                                                          int limit) override;
  Status SetJobCoverage(int64_t job_id, const std::string& coverage) override;
  StatusOr<std::vector<JobCoverage>> ListJobCoverage(int64_t pipeline_id) override;
  StatusOr<std::vector<StageJobStatus>> ListStageJobStatuses(
      const std::vector<int64_t>& pipeline_ids) override;

  // Leases of pipelines among servers (pipeline_leases.h, sql_store_leases.cc).
  bool SharedByServers() override;
  StatusOr<bool> ClaimPipeline(int64_t id, std::string_view owner, int64_t expires_at) override;
  StatusOr<std::optional<std::string>> PipelineOwner(int64_t id) override;
  StatusOr<std::optional<int64_t>> ClaimNextPipeline(std::string_view owner,
                                                     int64_t expires_at) override;
  StatusOr<std::vector<int64_t>> RenewLeases(std::string_view owner, int64_t expires_at) override;
  Status ReleasePipeline(int64_t id, std::string_view owner) override;
  StatusOr<RecoveredPipelines> RecoverPipelines(const LeaseRecovery& what) override;
  StatusOr<bool> ClaimScheduleRun(int64_t id, int64_t due_at,
                                  std::optional<int64_t> next_run_at) override;

  // Who sends each event (delivery_claims.h, sql_store_deliveries.cc).
  StatusOr<bool> ClaimDelivery(const DeliveryClaim& claim, std::string_view owner,
                               int64_t expires_at) override;
  Status FinishDelivery(std::string_view publisher, std::string_view subject,
                        std::string_view state, std::string_view owner, int64_t now_ms) override;
  Status RenewDeliveries(std::string_view publisher, std::string_view owner,
                         int64_t expires_at) override;
  StatusOr<std::vector<DeliveryClaim>> TakeOverDeliveries(std::string_view publisher,
                                                          std::string_view owner, int64_t now_ms,
                                                          int64_t expires_at, int limit) override;
  Status PruneDeliveries(int64_t before_ms) override;

  // Notices and action requests (sql_store_notices.cc). Listen: an error
  // but for PostgresStore.
  Status Notify(const ReplicaNotice& notice) override;
  StatusOr<std::unique_ptr<NoticeListener>> Listen(
      std::function<void(const ReplicaNotice&)> on_notice) override;
  StatusOr<ActionRequest> CreateActionRequest(const ActionRequest& request) override;
  StatusOr<std::optional<ActionRequest>> GetActionRequest(int64_t id) override;
  StatusOr<std::optional<ActionRequest>> TakeActionRequest(int64_t id,
                                                           std::string_view owner) override;
  StatusOr<std::vector<int64_t>> PendingActionRequests(std::string_view owner) override;
  StatusOr<bool> FinishActionRequest(int64_t id, std::string_view owner,
                                     std::optional<int64_t> result_id,
                                     std::string_view error) override;
  StatusOr<bool> AbandonActionRequest(int64_t id, std::string_view error) override;

 private:
  int64_t Now() const;
  // Sends notice with PostgreSQL (delivered when the caller's transaction
  // commits, at once outside one); nothing with SQLite.
  Status NotifyLocked(const ReplicaNotice& notice) REQUIRES(mu_);
  // After a log append has committed: `log:<job_id>` unless one was sent for
  // the job within kLogNoticeGap (docs/replicas.md, "Notices").
  void NoticeLogLocked(int64_t job_id) REQUIRES(mu_);
  static constexpr std::chrono::milliseconds kLogNoticeGap{100};
  // The *Locked helpers expect mu_ held (and, where they write, a transaction).
  StatusOr<std::optional<PipelineRecord>> GetPipelineLocked(int64_t id);
  // The project hooks whose column ("id" or "project_id") is value.
  StatusOr<std::vector<ProjectHookRecord>> ProjectHooksLocked(const char* column, int64_t value);
  // The project's next iid from its counter column (last_pipeline_iid,
  // last_deployment_iid), inside the caller's transaction: the counter row
  // also serialises concurrent creators (a row lock in PostgreSQL, the write
  // lock in SQLite), so iids never collide. An unknown project is an error.
  StatusOr<int64_t> NextIidLocked(std::string_view counter, int64_t project_id);
  // INSERT INTO environments ... ON CONFLICT (project_id, name) DO
  // <on_conflict> RETURNING: the row, or none when DO NOTHING found one.
  StatusOr<std::optional<EnvironmentRecord>> InsertEnvironment(const EnvironmentRecord& e,
                                                               const char* on_conflict);
  StatusOr<std::optional<JobRecord>> GetJobLocked(int64_t id);
  StatusOr<JobRecord> FindJobLocked(int64_t id);  // An error if there is none.
  StatusOr<JobRecord> InsertJobLocked(const JobRecord& job, int64_t pipeline_id, int64_t now);
  StatusOr<JobRecord> SetJobStatusLocked(const JobRecord& job, const JobUpdate& update,
                                         int64_t now);

  // Secret columns (sql_store_secrets.cc), each named table.column, the
  // context its values are sealed with.
  static constexpr std::string_view kWebhookSecretColumn = "projects.webhook_secret";
  static constexpr std::string_view kPipelineVariablesColumn = "pipelines.variables";
  static constexpr std::string_view kForgeTokenColumn = "project_forges.token";
  static constexpr std::string_view kHookTokenColumn = "project_hooks.token";
  static constexpr std::string_view kScheduleVariablesColumn = "schedules.variables";
  static constexpr std::string_view kProjectVariableValueColumn = "project_variables.value";
  // The stored form of a value, or of a variables list ("[]" when empty);
  // as given without a key.
  StatusOr<std::string> SealSecret(const std::string& value, std::string_view column) const;
  StatusOr<std::string> SealVariables(const std::vector<StoredVariable>& variables,
                                      std::string_view column) const;
  // The value of a stored form; owner ("project 3") is for the message.
  StatusOr<std::string> OpenSecret(const std::string& stored, std::string_view column,
                                   std::string_view owner) const;
  StatusOr<std::vector<StoredVariable>> OpenVariables(const std::string& stored,
                                                      std::string_view column,
                                                      std::string_view owner) const;
  // Rows of the tables holding secrets to records, their secrets opened.
  StatusOr<ProjectRecord> ProjectFrom(const SqlRow& row) const;
  StatusOr<PipelineRecord> PipelineFrom(const SqlRow& row) const;
  StatusOr<ScheduleRecord> ScheduleFrom(const SqlRow& row) const;

  template <typename Record>
  using OpenRow = StatusOr<Record> (SqlStore::*)(const SqlRow&) const;
  template <typename Record>
  StatusOr<std::vector<Record>> OpenRows(const StatusOr<std::vector<SqlRow>>& rows,
                                         OpenRow<Record> from) const {
    if (!rows.ok()) return rows.status();
    std::vector<Record> out;
    out.reserve(rows->size());
    for (const SqlRow& row : *rows) {
      StatusOr<Record> record = (this->*from)(row);
      if (!record.ok()) return record.status();
      out.push_back(std::move(*record));
    }
    return out;
  }
  template <typename Record>
  StatusOr<std::optional<Record>> OpenFirstRow(const StatusOr<std::vector<SqlRow>>& rows,
                                               OpenRow<Record> from) const {
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return std::optional<Record>();
    StatusOr<Record> record = (this->*from)(rows->front());
    if (!record.ok()) return record.status();
    return std::optional<Record>(std::move(*record));
  }

  std::mutex mu_;
  std::unique_ptr<SqlDatabase> db_ GUARDED_BY(mu_);
  // When `log:<job id>` was last sent, by job (PostgreSQL only).
  std::unordered_map<int64_t, std::chrono::steady_clock::time_point> log_noticed_ GUARDED_BY(mu_);
  const StoreOptions options_;
  std::optional<SecretBox> secrets_;  // Set by SetUpSecrets; then constant.
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_SQL_STORE_H_
