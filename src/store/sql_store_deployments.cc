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
  if (e.name.empty()) return Status::Error("environment name must not be empty");
  if (!OneOf(e.tier, kEnvironmentTiers)) {
    return Status::Error("environment tier '" + e.tier + "' is not one of GitLab's");
  }
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  // One statement, so that two pipelines deploying to a new environment at
  // once make one row.
  auto rows = db_->Query(
      "INSERT INTO environments (project_id, name, external_url, tier, state, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, 'available', ?, ?) ON CONFLICT (project_id, name) DO "
      "UPDATE SET external_url = excluded.external_url, tier = excluded.tier, "
      "state = 'available', updated_at = excluded.updated_at RETURNING " +
          std::string(kEnvironmentColumns),
      {e.project_id, e.name, e.external_url, e.tier, now, now});
  if (!rows.ok()) return rows.status();
  return EnvironmentFromRow(rows->at(0));
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
      "status, created_at, updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "RETURNING " +
          std::string(kDeploymentColumns),
      {d.project_id, *iid, d.environment_id, OptionalValue(d.pipeline_id), OptionalValue(d.job_id),
       d.ref, d.sha, d.status, now, now, OptionalValue(finished)});
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
