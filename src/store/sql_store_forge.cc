// SqlStore: a project's forge (its token encrypted as the other secret
// columns), what posting commit statuses to it gave, the commit statuses
// posted through the API, and outgoing project hooks (their tokens
// encrypted too).
#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

constexpr char kCommitStatusColumns[] =
    "id, project_id, sha, ref, name, status, target_url, description, created_at, updated_at, "
    "started_at, finished_at";

CommitStatusRecord CommitStatusFromRow(const SqlRow& row) {
  CommitStatusRecord s;
  s.id = row.Int(0);
  s.project_id = row.Int(1);
  s.sha = row.Text(2);
  s.ref = row.Text(3);
  s.name = row.Text(4);
  s.status = row.Text(5);
  s.target_url = row.Text(6);
  s.description = row.Text(7);
  s.created_at = row.Int(8);
  s.updated_at = row.Int(9);
  s.started_at = row.OptInt(10);
  s.finished_at = row.OptInt(11);
  return s;
}

bool IsFinalStatus(const std::string& status) {
  return status == "success" || status == "failed" || status == "canceled" || status == "skipped";
}

}  // namespace

Status SqlStore::SetProjectForge(const ProjectForgeSettings& settings) {
  StatusOr<std::string> token = SealSecret(settings.token, kForgeTokenColumn);
  if (!token.ok()) return token.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (settings.kind.empty()) {
    auto deleted =
        db_->Query("DELETE FROM project_forges WHERE project_id = ?", {settings.project_id});
    return deleted.ok() ? Status::Ok() : deleted.status();
  }
  auto saved = db_->Query(
      "INSERT INTO project_forges (project_id, kind, api_url, forge_project, token) VALUES (?, ?, "
      "?, ?, ?) ON CONFLICT (project_id) DO UPDATE SET kind = excluded.kind, api_url = "
      "excluded.api_url, forge_project = excluded.forge_project, token = excluded.token",
      {settings.project_id, settings.kind, settings.api_url, settings.forge_project, *token});
  return saved.ok() ? Status::Ok() : saved.status();
}

StatusOr<std::optional<ProjectForgeSettings>> SqlStore::GetProjectForge(int64_t project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "SELECT project_id, kind, api_url, forge_project, token FROM project_forges WHERE "
      "project_id = ?",
      {project_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<ProjectForgeSettings>();
  const SqlRow& row = rows->front();
  ProjectForgeSettings settings;
  settings.project_id = row.Int(0);
  settings.kind = row.Text(1);
  settings.api_url = row.Text(2);
  settings.forge_project = row.Text(3);
  StatusOr<std::string> token =
      OpenSecret(row.Text(4), kForgeTokenColumn, "project " + std::to_string(project_id));
  if (!token.ok()) return token.status();
  settings.token = std::move(*token);
  return std::optional<ProjectForgeSettings>(std::move(settings));
}

Status SqlStore::RecordForgeStatus(const ForgeStatusResult& result) {
  std::lock_guard<std::mutex> lock(mu_);
  auto saved = db_->Query(
      "INSERT INTO forge_statuses (pipeline_id, forge, state, ok, error, updated_at) VALUES (?, "
      "?, ?, ?, ?, ?) ON CONFLICT (pipeline_id) DO UPDATE SET forge = excluded.forge, state = "
      "excluded.state, ok = excluded.ok, error = excluded.error, updated_at = "
      "excluded.updated_at",
      {result.pipeline_id, result.forge, result.state, BoolValue(result.ok), result.error, Now()});
  return saved.ok() ? Status::Ok() : saved.status();
}

StatusOr<std::optional<ForgeStatusResult>> SqlStore::GetForgeStatus(int64_t pipeline_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "SELECT pipeline_id, forge, state, ok, error, updated_at FROM forge_statuses WHERE "
      "pipeline_id = ?",
      {pipeline_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<ForgeStatusResult>();
  const SqlRow& row = rows->front();
  ForgeStatusResult r;
  r.pipeline_id = row.Int(0);
  r.forge = row.Text(1);
  r.state = row.Text(2);
  r.ok = row.Int(3) != 0;
  r.error = row.Text(4);
  r.updated_at = row.Int(5);
  return std::optional<ForgeStatusResult>(std::move(r));
}

StatusOr<CommitStatusRecord> SqlStore::SaveCommitStatus(const CommitStatusRecord& status) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  SqlValue started =
      status.status == "running" || IsFinalStatus(status.status) ? SqlValue(now) : SqlValue();
  SqlValue finished = IsFinalStatus(status.status) ? SqlValue(now) : SqlValue();
  // started_at keeps its first value; finished_at follows the status.
  auto rows = db_->Query(
      "INSERT INTO commit_statuses (project_id, sha, ref, name, status, target_url, description, "
      "created_at, updated_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (project_id, sha, ref, name) DO UPDATE SET status = excluded.status, "
      "target_url = excluded.target_url, description = excluded.description, updated_at = "
      "excluded.updated_at, started_at = COALESCE(commit_statuses.started_at, "
      "excluded.started_at), finished_at = excluded.finished_at RETURNING " +
          std::string(kCommitStatusColumns),
      {status.project_id, status.sha, status.ref, status.name, status.status, status.target_url,
       status.description, now, now, started, finished});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Error("commit status not saved");
  return CommitStatusFromRow(rows->front());
}

StatusOr<std::vector<CommitStatusRecord>> SqlStore::ListCommitStatuses(int64_t project_id,
                                                                       std::string_view sha,
                                                                       std::string_view ref,
                                                                       std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string("SELECT ") + kCommitStatusColumns +
                    " FROM commit_statuses WHERE project_id = ? AND sha = ?";
  std::vector<SqlValue> params = {project_id, std::string(sha)};
  if (!ref.empty()) {
    sql += " AND ref = ?";
    params.push_back(std::string(ref));
  }
  if (!name.empty()) {
    sql += " AND name = ?";
    params.push_back(std::string(name));
  }
  auto rows = db_->Query(sql + " ORDER BY id", params);
  if (!rows.ok()) return rows.status();
  std::vector<CommitStatusRecord> out;
  for (const SqlRow& row : *rows) out.push_back(CommitStatusFromRow(row));
  return out;
}

StatusOr<ProjectHookRecord> SqlStore::CreateProjectHook(const ProjectHookRecord& hook) {
  StatusOr<std::string> token = SealSecret(hook.token, kHookTokenColumn);
  if (!token.ok()) return token.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "INSERT INTO project_hooks (project_id, url, token, pipeline_events, job_events, "
      "enable_ssl_verification, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, "
      "created_at",
      {hook.project_id, hook.url, *token, BoolValue(hook.pipeline_events),
       BoolValue(hook.job_events), BoolValue(hook.enable_ssl_verification), Now()});
  if (!rows.ok()) return rows.status();
  ProjectHookRecord created = hook;
  created.id = rows->front().Int(0);
  created.created_at = rows->front().Int(1);
  return created;
}

StatusOr<std::vector<ProjectHookRecord>> SqlStore::ListProjectHooks(int64_t project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return ProjectHooksLocked("project_id", project_id);
}

StatusOr<std::optional<ProjectHookRecord>> SqlStore::GetProjectHook(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto hooks = ProjectHooksLocked("id", id);
  if (!hooks.ok()) return hooks.status();
  if (hooks->empty()) return std::optional<ProjectHookRecord>();
  return std::optional<ProjectHookRecord>(std::move(hooks->front()));
}

StatusOr<bool> SqlStore::DeleteProjectHook(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query("DELETE FROM project_hooks WHERE id = ? RETURNING id", {id});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

StatusOr<std::vector<ProjectHookRecord>> SqlStore::ProjectHooksLocked(const char* column,
                                                                      int64_t value) {
  auto rows =
      db_->Query(std::string("SELECT id, project_id, url, token, pipeline_events, job_events, "
                             "enable_ssl_verification, created_at FROM project_hooks WHERE ") +
                     column + " = ? ORDER BY id",
                 {value});
  if (!rows.ok()) return rows.status();
  std::vector<ProjectHookRecord> hooks;
  for (const SqlRow& row : *rows) {
    ProjectHookRecord h;
    h.id = row.Int(0);
    h.project_id = row.Int(1);
    h.url = row.Text(2);
    StatusOr<std::string> token =
        OpenSecret(row.Text(3), kHookTokenColumn, "project hook " + std::to_string(h.id));
    if (!token.ok()) return token.status();
    h.token = std::move(*token);
    h.pipeline_events = row.Int(4) != 0;
    h.job_events = row.Int(5) != 0;
    h.enable_ssl_verification = row.Int(6) != 0;
    h.created_at = row.Int(7);
    hooks.push_back(std::move(h));
  }
  return hooks;
}

}  // namespace slipway
