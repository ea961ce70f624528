// SqlStore: projects and pipelines. Jobs and logs are in sql_store_jobs.cc,
// tokens and schedules in sql_store_admin.cc.
#include "store/sql_store.h"

#include <algorithm>
#include <chrono>

#include "store/record_codec.h"

namespace slipway {
namespace {

const std::string kSelectProject = std::string("SELECT ") + kProjectColumns + " FROM projects";
const std::string kSelectPipeline = std::string("SELECT ") + kPipelineColumns + " FROM pipelines";

// The SQL for GitLab's `scope` parameter of the pipelines list, or an error.
StatusOr<std::string> ScopeCondition(const PipelineFilter& f, std::vector<SqlValue>* params) {
  if (f.scope.empty()) return std::string();
  if (f.scope == "running" || f.scope == "pending") {
    params->push_back(f.scope);
    return std::string(" AND status = ?");
  }
  if (f.scope == "finished") {
    return std::string(" AND status IN ('success', 'failed', 'canceled', 'skipped')");
  }
  if (f.scope == "branches" || f.scope == "tags") {
    // GitLab: the latest pipeline of each branch (or tag).
    int64_t tag = f.scope == "tags" ? 1 : 0;
    params->push_back(tag);
    params->push_back(f.project_id);
    params->push_back(tag);
    return std::string(
        " AND tag = ? AND id IN (SELECT MAX(id) FROM pipelines WHERE project_id = ? AND tag = ? "
        "AND source <> 'parent_pipeline' GROUP BY ref)");
  }
  return Status::Error("scope does not have a valid value: '" + f.scope +
                       "' (running, pending, finished, branches, tags)");
}

}  // namespace

SqlStore::SqlStore(std::unique_ptr<SqlDatabase> db, StoreOptions options)
    : db_(std::move(db)), options_(std::move(options)) {}

int64_t SqlStore::Now() const {
  return UnixMillis((options_.clock != nullptr ? options_.clock : MachineClock())->WallNow());
}

// ---- projects

StatusOr<ProjectRecord> SqlStore::CreateProject(const ProjectRecord& project) {
  if (project.name.empty()) return Status::Error("project name must not be empty");
  if (project.path_with_namespace.empty()) {
    return Status::Error("project path_with_namespace must not be empty");
  }
  StatusOr<std::string> secret = SealSecret(project.webhook_secret, kWebhookSecretColumn);
  if (!secret.ok()) return secret.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto existing = db_->Query("SELECT id FROM projects WHERE path_with_namespace = ?",
                             {project.path_with_namespace});
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) {
    return Status::Error("project path '" + project.path_with_namespace +
                         "' has already been taken");
  }
  auto rows = db_->Query(
      std::string(
          "INSERT INTO projects (name, path_with_namespace, repo_url, default_branch, "
          "webhook_secret, created_at, executor, allow_unsigned_webhooks) VALUES (?, ?, ?, ?, "
          "?, ?, ?, ?) RETURNING ") +
          kProjectColumns,
      {project.name, project.path_with_namespace, project.repo_url, project.default_branch, *secret,
       Now(), project.executor, BoolValue(project.allow_unsigned_webhooks)});
  if (!rows.ok()) return rows.status();
  ProjectRecord created = ProjectFromRow(rows->at(0));
  created.webhook_secret = project.webhook_secret;
  return created;
}

StatusOr<bool> SqlStore::UpdateProject(const ProjectRecord& project) {
  if (project.name.empty()) return Status::Error("project name must not be empty");
  StatusOr<std::string> secret = SealSecret(project.webhook_secret, kWebhookSecretColumn);
  if (!secret.ok()) return secret.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "UPDATE projects SET name = ?, repo_url = ?, default_branch = ?, webhook_secret = ?, "
      "allow_unsigned_webhooks = ?, executor = ? WHERE id = ? RETURNING id",
      {project.name, project.repo_url, project.default_branch, *secret,
       BoolValue(project.allow_unsigned_webhooks), project.executor, project.id});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

StatusOr<std::optional<std::vector<int64_t>>> SqlStore::DeleteProject(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto pipelines = db_->Query("SELECT id FROM pipelines WHERE project_id = ? ORDER BY id", {id});
  if (!pipelines.ok()) return pipelines.status();
  // One statement: the schema's ON DELETE CASCADE removes the rest with it.
  auto rows = db_->Query("DELETE FROM projects WHERE id = ? RETURNING id", {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<std::vector<int64_t>>();
  std::vector<int64_t> ids;
  for (const auto& row : *pipelines) ids.push_back(row.Int(0));
  return std::optional<std::vector<int64_t>>(std::move(ids));
}

StatusOr<std::optional<ProjectRecord>> SqlStore::GetProject(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return OpenFirstRow(db_->Query(kSelectProject + " WHERE id = ?", {id}), &SqlStore::ProjectFrom);
}

StatusOr<std::optional<ProjectRecord>> SqlStore::GetProjectByPath(std::string_view path) {
  std::lock_guard<std::mutex> lock(mu_);
  return OpenFirstRow(
      db_->Query(kSelectProject + " WHERE path_with_namespace = ?", {std::string(path)}),
      &SqlStore::ProjectFrom);
}

StatusOr<std::vector<ProjectRecord>> SqlStore::ListProjects() {
  std::lock_guard<std::mutex> lock(mu_);
  return OpenRows(db_->Query(kSelectProject + " ORDER BY id"), &SqlStore::ProjectFrom);
}

// ---- pipelines

StatusOr<int64_t> SqlStore::NextIidLocked(std::string_view counter, int64_t project_id) {
  // counter is one of the callers' column names, never a request's text.
  std::string column(counter);
  auto iid = db_->Query(
      "UPDATE projects SET " + column + " = " + column + " + 1 WHERE id = ? RETURNING " + column,
      {project_id});
  if (!iid.ok()) return iid.status();
  if (iid->empty()) return Status::Error("project " + std::to_string(project_id) + " not found");
  return iid->at(0).Int(0);
}

StatusOr<PipelineRecord> SqlStore::CreatePipeline(const PipelineRecord& pipeline,
                                                  const std::vector<JobRecord>& jobs) {
  StatusOr<std::string> variables = SealVariables(pipeline.variables, kPipelineVariablesColumn);
  if (!variables.ok()) return variables.status();
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  StatusOr<int64_t> iid = NextIidLocked("last_pipeline_iid", pipeline.project_id);
  if (!iid.ok()) return iid.status();
  int64_t now = Now();
  auto rows = db_->Query(
      "INSERT INTO pipelines (project_id, iid, ref, tag, sha, before_sha, source, name, status, "
      "created_at, updated_at, yaml_errors, variables, upstream_pipeline_id, upstream_job_id, "
      "user_token_id, merge_request, open_merge_requests) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?, ?, ?, ?, ?, ?) RETURNING " +
          std::string(kPipelineColumns),
      {pipeline.project_id, *iid, pipeline.ref, BoolValue(pipeline.tag), pipeline.sha,
       pipeline.before_sha, pipeline.source, pipeline.name, StatusValue(pipeline.status), now, now,
       pipeline.yaml_errors, *variables, OptionalValue(pipeline.upstream_pipeline_id),
       OptionalValue(pipeline.upstream_job_id), OptionalValue(pipeline.user_token_id),
       MergeRequestToJson(pipeline.merge_request), pipeline.open_merge_requests});
  if (!rows.ok()) return rows.status();
  PipelineRecord stored = PipelineFromRow(rows->at(0));
  stored.variables = pipeline.variables;
  for (const JobRecord& job : jobs) {
    auto inserted = InsertJobLocked(job, stored.id, now);
    if (!inserted.ok()) return inserted.status();
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  return stored;
}

StatusOr<std::optional<PipelineRecord>> SqlStore::GetPipelineLocked(int64_t id) {
  return OpenFirstRow(db_->Query(kSelectPipeline + " WHERE id = ?", {id}), &SqlStore::PipelineFrom);
}

StatusOr<std::optional<PipelineRecord>> SqlStore::GetPipeline(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetPipelineLocked(id);
}

StatusOr<Page<PipelineRecord>> SqlStore::ListPipelines(const PipelineFilter& f) {
  static const char* const kOrderColumns[] = {"id", "status", "ref", "updated_at"};
  if (std::find(std::begin(kOrderColumns), std::end(kOrderColumns), f.order_by) ==
      std::end(kOrderColumns)) {
    return Status::Error("order_by does not have a valid value: '" + f.order_by +
                         "' (id, status, ref, updated_at)");
  }
  if (f.sort != "asc" && f.sort != "desc") {
    return Status::Error("sort does not have a valid value: '" + f.sort + "' (asc, desc)");
  }
  std::vector<SqlValue> params = {f.project_id};
  std::string where = " WHERE project_id = ?";
  auto scope = ScopeCondition(f, &params);
  if (!scope.ok()) return scope.status();
  where += *scope;
  auto equal = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    where += std::string(" AND ") + column + " = ?";
    params.push_back(value);
  };
  if (f.status) equal("status", CiStatusName(*f.status));
  equal("ref", f.ref);
  equal("sha", f.sha);
  equal("source", f.source);
  // GitLab lists child pipelines only when asked for them by source.
  if (f.source.empty()) where += " AND source <> 'parent_pipeline'";
  equal("name", f.name);
  if (f.yaml_errors) where += *f.yaml_errors ? " AND yaml_errors <> ''" : " AND yaml_errors = ''";
  if (f.updated_after) {
    where += " AND updated_at > ?";
    params.push_back(*f.updated_after);
  }
  if (f.updated_before) {
    where += " AND updated_at < ?";
    params.push_back(*f.updated_before);
  }

  std::lock_guard<std::mutex> lock(mu_);
  auto count = db_->Query("SELECT COUNT(*) FROM pipelines" + where, params);
  if (!count.ok()) return count.status();
  int64_t per_page = std::clamp(f.per_page, 1, 100);
  int64_t page = std::max(f.page, 1);
  // order_by and sort were checked against fixed lists above.
  std::string order = " ORDER BY " + f.order_by + " " + f.sort + ", id " + f.sort;
  params.push_back(per_page);
  params.push_back((page - 1) * per_page);
  auto items = OpenRows(db_->Query(kSelectPipeline + where + order + " LIMIT ? OFFSET ?", params),
                        &SqlStore::PipelineFrom);
  if (!items.ok()) return items.status();
  Page<PipelineRecord> out;
  out.total = count->at(0).Int(0);
  out.items = std::move(*items);
  return out;
}

StatusOr<PipelineRecord> SqlStore::UpdatePipelineStatus(int64_t id, CiStatus status) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  auto current = GetPipelineLocked(id);
  if (!current.ok()) return current.status();
  if (!current->has_value()) return Status::Error("pipeline " + std::to_string(id) + " not found");
  PipelineRecord p = **current;
  if (p.status == status) return p;
  int64_t now = Now();
  if (status == CiStatus::kRunning && !p.started_at) p.started_at = now;
  if (IsFinished(status)) {
    p.finished_at = now;
    p.duration_ms = p.started_at ? std::optional<int64_t>(now - *p.started_at) : std::nullopt;
  } else if (IsActive(status)) {
    // Running again after a retry: the previous finish no longer holds.
    p.finished_at.reset();
    p.duration_ms.reset();
  }
  p.status = status;
  p.updated_at = now;
  auto updated = db_->Query(
      "UPDATE pipelines SET status = ?, updated_at = ?, started_at = ?, finished_at = ?, "
      "duration_ms = ? WHERE id = ?",
      {StatusValue(status), now, OptionalValue(p.started_at), OptionalValue(p.finished_at),
       OptionalValue(p.duration_ms), id});
  if (!updated.ok()) return updated.status();
  if (Status s = txn.Commit(); !s.ok()) return s;
  return p;
}

Status SqlStore::DeletePipeline(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query("DELETE FROM pipelines WHERE id = ? RETURNING id", {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Error("pipeline " + std::to_string(id) + " not found");
  return Status::Ok();
}

StatusOr<std::vector<PipelineRecord>> SqlStore::ListDownstreamPipelines(int64_t pipeline_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return OpenRows(
      db_->Query(kSelectPipeline + " WHERE upstream_pipeline_id = ? ORDER BY id", {pipeline_id}),
      &SqlStore::PipelineFrom);
}

}  // namespace slipway
