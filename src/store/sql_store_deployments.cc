// SqlStore: environments and deployments (docs/deployments.md).
#include <algorithm>
#include <iterator>

#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

const std::string kSelectEnvironment =
    std::string("SELECT ") + kEnvironmentColumns + " FROM environments";
const std::string kSelectDeployment =
    std::string("SELECT ") + kDeploymentColumns + " FROM deployments";

constexpr const char* kDeploymentStatuses[] = {"created",  "running", "success", "failed",
                                               "canceled", "skipped", "blocked"};
constexpr const char* kEnvironmentTiers[] = {"production", "staging", "testing", "development",
                                             "other"};

bool OneOf(std::string_view value, const auto& list) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

bool Finished(std::string_view status) {
  return status == "success" || status == "failed" || status == "canceled";
}

}  // namespace

StatusOr<EnvironmentRecord> SqlStore::SaveEnvironment(const EnvironmentRecord& e) {
  // One statement, so that two pipelines deploying to a new environment at
  // once make one row.
  StatusOr<std::optional<EnvironmentRecord>> saved =
      InsertEnvironment(e,
                        "UPDATE SET external_url = excluded.external_url, tier = excluded.tier, "
                        "state = 'available', updated_at = excluded.updated_at");
  if (!saved.ok()) return saved.status();
  return **saved;
}

StatusOr<std::optional<EnvironmentRecord>> SqlStore::GetEnvironment(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(), kSelectEnvironment + " WHERE id = ?", {id}, EnvironmentFromRow);
}

StatusOr<std::optional<EnvironmentRecord>> SqlStore::SetEnvironmentState(int64_t project_id,
                                                                         std::string_view name,
                                                                         std::string_view state) {
  static constexpr const char* kStates[] = {"available", "stopping", "stopped"};
  if (!OneOf(state, kStates)) {
    return Status::Error("environment state '" + std::string(state) + "' is not one of GitLab's");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(),
                     "UPDATE environments SET state = ?, updated_at = ? WHERE project_id = ? AND "
                     "name = ? RETURNING " +
                         std::string(kEnvironmentColumns),
                     {std::string(state), Now(), project_id, std::string(name)},
                     EnvironmentFromRow);
}

StatusOr<std::vector<EnvironmentRecord>> SqlStore::ListEnvironments(int64_t project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(db_.get(), kSelectEnvironment + " WHERE project_id = ? ORDER BY id",
                      {project_id}, EnvironmentFromRow);
}

StatusOr<std::optional<EnvironmentRecord>> SqlStore::FindEnvironment(int64_t project_id,
                                                                     std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(), kSelectEnvironment + " WHERE project_id = ? AND name = ?",
                     {project_id, std::string(name)}, EnvironmentFromRow);
}

StatusOr<EnvironmentRecord> SqlStore::CreateEnvironment(const EnvironmentRecord& e) {
  // DO NOTHING: no row back means the name is taken, without a constraint
  // error that would abort a PostgreSQL transaction.
  StatusOr<std::optional<EnvironmentRecord>> created = InsertEnvironment(e, "NOTHING");
  if (!created.ok()) return created.status();
  if (!*created) return Status::Error("environment name has already been taken");
  return **created;
}

StatusOr<std::optional<EnvironmentRecord>> SqlStore::InsertEnvironment(const EnvironmentRecord& e,
                                                                       const char* on_conflict) {
  if (e.name.empty()) return Status::Error("environment name must not be empty");
  if (!OneOf(e.tier, kEnvironmentTiers)) {
    return Status::Error("environment tier '" + e.tier + "' is not one of GitLab's");
  }
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  return QueryRecord(db_.get(),
                     "INSERT INTO environments (project_id, name, external_url, tier, state, "
                     "created_at, updated_at) VALUES (?, ?, ?, ?, 'available', ?, ?) ON CONFLICT "
                     "(project_id, name) DO " +
                         std::string(on_conflict) + " RETURNING " + kEnvironmentColumns,
                     {e.project_id, e.name, e.external_url, e.tier, now, now}, EnvironmentFromRow);
}

StatusOr<EnvironmentRecord> SqlStore::UpdateEnvironment(const EnvironmentRecord& e) {
  if (!OneOf(e.tier, kEnvironmentTiers)) {
    return Status::Error("environment tier '" + e.tier + "' is not one of GitLab's");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto found = QueryRecord(db_.get(),
                           "UPDATE environments SET external_url = ?, tier = ?, updated_at = ? "
                           "WHERE id = ? RETURNING " +
                               std::string(kEnvironmentColumns),
                           {e.external_url, e.tier, Now(), e.id}, EnvironmentFromRow);
  if (!found.ok()) return found.status();
  if (!*found) return Status::Error("environment " + std::to_string(e.id) + " not found");
  return **found;
}

Status SqlStore::DeleteEnvironment(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->Query("DELETE FROM environments WHERE id = ?", {id}).status();
}

StatusOr<EnvironmentRecord> SqlStore::SetEnvironmentAutoStop(int64_t id,
                                                             std::optional<int64_t> in_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  std::optional<int64_t> at;
  if (in_seconds) at = now + *in_seconds * 1000;
  auto found = QueryRecord(db_.get(),
                           "UPDATE environments SET auto_stop_at = ?, updated_at = ? WHERE id = ? "
                           "RETURNING " +
                               std::string(kEnvironmentColumns),
                           {OptionalValue(at), now, id}, EnvironmentFromRow);
  if (!found.ok()) return found.status();
  if (!*found) return Status::Error("environment " + std::to_string(id) + " not found");
  return **found;
}

StatusOr<std::vector<EnvironmentRecord>> SqlStore::EnvironmentsToAutoStop(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(db_.get(),
                      kSelectEnvironment +
                          " WHERE state = 'available' AND auto_stop_at IS NOT NULL AND "
                          "auto_stop_at <= ? ORDER BY auto_stop_at, id",
                      {now_ms}, EnvironmentFromRow);
}

StatusOr<DeploymentRecord> SqlStore::CreateDeployment(const DeploymentRecord& d) {
  if (!OneOf(d.status, kDeploymentStatuses)) {
    return Status::Error("deployment status '" + d.status + "' is not one of GitLab's");
  }
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  StatusOr<int64_t> iid = NextIidLocked("last_deployment_iid", d.project_id);
  if (!iid.ok()) return iid.status();
  int64_t now = Now();
  std::optional<int64_t> finished;
  if (Finished(d.status)) finished = now;
  auto rows = db_->Query(
      "INSERT INTO deployments (project_id, iid, environment_id, pipeline_id, job_id, ref, sha, "
      "status, created_at, updated_at, finished_at, on_stop, checks, rollback_of) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " +
          std::string(kDeploymentColumns),
      {d.project_id, *iid, d.environment_id, OptionalValue(d.pipeline_id), OptionalValue(d.job_id),
       d.ref, d.sha, d.status, now, now, OptionalValue(finished), d.on_stop, d.checks,
       OptionalValue(d.rollback_of)});
  if (!rows.ok()) return rows.status();
  if (Status s = txn.Commit(); !s.ok()) return s;
  return DeploymentFromRow(rows->at(0));
}

StatusOr<DeploymentRecord> SqlStore::SetDeploymentStatus(int64_t id, std::string_view status) {
  if (!OneOf(status, kDeploymentStatuses)) {
    return Status::Error("deployment status '" + std::string(status) + "' is not one of GitLab's");
  }
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  std::optional<int64_t> finished;
  if (Finished(status)) finished = now;
  auto rows = db_->Query(
      "UPDATE deployments SET status = ?, updated_at = ?, finished_at = ? "
      "WHERE id = ? RETURNING " +
          std::string(kDeploymentColumns),
      {std::string(status), now, OptionalValue(finished), id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Error("deployment " + std::to_string(id) + " not found");
  return DeploymentFromRow(rows->at(0));
}

StatusOr<DeploymentRecord> SqlStore::SetDeploymentChecks(int64_t id, std::string_view checks) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows =
      db_->Query("UPDATE deployments SET checks = ?, updated_at = ? WHERE id = ? RETURNING " +
                     std::string(kDeploymentColumns),
                 {std::string(checks), Now(), id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Error("deployment " + std::to_string(id) + " not found");
  return DeploymentFromRow(rows->at(0));
}

StatusOr<std::optional<DeploymentRecord>> SqlStore::GetDeployment(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(), kSelectDeployment + " WHERE id = ?", {id}, DeploymentFromRow);
}

StatusOr<std::optional<DeploymentRecord>> SqlStore::DeploymentOfJob(int64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(), kSelectDeployment + " WHERE job_id = ? ORDER BY id DESC LIMIT 1",
                     {job_id}, DeploymentFromRow);
}

StatusOr<std::optional<DeploymentRecord>> SqlStore::LastSuccessfulDeployment(
    int64_t environment_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(
      db_.get(),
      kSelectDeployment +
          " WHERE environment_id = ? AND status = 'success' ORDER BY id DESC LIMIT 1",
      {environment_id}, DeploymentFromRow);
}

StatusOr<Page<DeploymentRecord>> SqlStore::ListDeployments(const DeploymentFilter& f) {
  static constexpr const char* kOrderColumns[] = {"id", "iid", "created_at", "updated_at",
                                                  "finished_at"};
  if (!OneOf(f.order_by, kOrderColumns)) {
    return Status::Error("order_by does not have a valid value: '" + f.order_by + "'");
  }
  if (f.sort != "asc" && f.sort != "desc") {
    return Status::Error("sort does not have a valid value: '" + f.sort + "' (asc, desc)");
  }
  if (!f.status.empty() && !OneOf(f.status, kDeploymentStatuses)) {
    return Status::Error("status does not have a valid value: '" + f.status + "'");
  }
  std::string where = " WHERE project_id = ?";
  std::vector<SqlValue> params = {f.project_id};
  if (f.environment_id) {
    where += " AND environment_id = ?";
    params.push_back(*f.environment_id);
  }
  if (!f.status.empty()) {
    where += " AND status = ?";
    params.push_back(f.status);
  }
  if (f.updated_after) {
    where += " AND updated_at > ?";
    params.push_back(*f.updated_after);
  }
  if (f.updated_before) {
    where += " AND updated_at < ?";
    params.push_back(*f.updated_before);
  }
  std::lock_guard<std::mutex> lock(mu_);
  // order_by and sort were checked against fixed lists above.
  return QueryPage(db_.get(), "deployments", kDeploymentColumns, where, std::move(params),
                   f.order_by, f.sort, f.page, f.per_page, DeploymentFromRow);
}

}  // namespace slipway
