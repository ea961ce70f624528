// SqlStore: protected environments, deployment approvals and who played a
// job (docs/deployments.md, docs/database.md).
#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

const char kProtectedColumns[] =
    "id, project_id, name, deploy_access_level, required_approval_count, created_at";
const std::string kSelectProtected =
    std::string("SELECT ") + kProtectedColumns + " FROM protected_environments";
const char kApprovalColumns[] =
    "id, deployment_id, token_id, token_name, token_role, status, comment, created_at";

ProtectedEnvironmentRecord ProtectedFromRow(const SqlRow& row) {
  ProtectedEnvironmentRecord p;
  p.id = row.Int(0);
  p.project_id = row.Int(1);
  p.name = row.Text(2);
  p.deploy_access_level = static_cast<int>(row.Int(3));
  p.required_approval_count = static_cast<int>(row.Int(4));
  p.created_at = row.Int(5);
  return p;
}

DeploymentApprovalRecord ApprovalFromRow(const SqlRow& row) {
  DeploymentApprovalRecord a;
  a.id = row.Int(0);
  a.deployment_id = row.Int(1);
  a.token_id = row.Int(2);
  a.token_name = row.Text(3);
  a.token_role = row.Text(4);
  a.status = row.Text(5);
  a.comment = row.Text(6);
  a.created_at = row.Int(7);
  return a;
}

}  // namespace

StatusOr<std::optional<ProtectedEnvironmentRecord>> SqlStore::ProtectEnvironment(
    const ProtectedEnvironmentRecord& p) {
  std::lock_guard<std::mutex> lock(mu_);
  // DO NOTHING: no row back means it is protected already.
  return QueryRecord(db_.get(),
                     "INSERT INTO protected_environments (project_id, name, deploy_access_level, "
                     "required_approval_count, created_at) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (project_id, name) DO NOTHING RETURNING " +
                         std::string(kProtectedColumns),
                     {p.project_id, p.name, static_cast<int64_t>(p.deploy_access_level),
                      static_cast<int64_t>(p.required_approval_count), Now()},
                     ProtectedFromRow);
}

StatusOr<std::vector<ProtectedEnvironmentRecord>> SqlStore::ListProtectedEnvironments(
    int64_t project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(db_.get(), kSelectProtected + " WHERE project_id = ? ORDER BY name",
                      {project_id}, ProtectedFromRow);
}

StatusOr<std::optional<ProtectedEnvironmentRecord>> SqlStore::FindProtectedEnvironment(
    int64_t project_id, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(), kSelectProtected + " WHERE project_id = ? AND name = ?",
                     {project_id, std::string(name)}, ProtectedFromRow);
}

StatusOr<bool> SqlStore::UnprotectEnvironment(int64_t project_id, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "DELETE FROM protected_environments WHERE project_id = ? AND name = ? RETURNING id",
      {project_id, std::string(name)});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

StatusOr<std::optional<DeploymentApprovalRecord>> SqlStore::AddDeploymentApproval(
    const DeploymentApprovalRecord& a) {
  if (a.status != "approved" && a.status != "rejected") {
    return Status::Error("approval status '" + a.status + "' is not approved or rejected");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(
      db_.get(),
      "INSERT INTO deployment_approvals (deployment_id, token_id, token_name, "
      "token_role, status, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (deployment_id, token_id) DO NOTHING RETURNING " +
          std::string(kApprovalColumns),
      {a.deployment_id, a.token_id, a.token_name, a.token_role, a.status, a.comment, Now()},
      ApprovalFromRow);
}

StatusOr<std::vector<DeploymentApprovalRecord>> SqlStore::ListDeploymentApprovals(
    int64_t deployment_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(db_.get(),
                      std::string("SELECT ") + kApprovalColumns +
                          " FROM deployment_approvals WHERE deployment_id = ? ORDER BY id",
                      {deployment_id}, ApprovalFromRow);
}

Status SqlStore::SetJobUser(int64_t job_id, int64_t token_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows =
      db_->Query("UPDATE jobs SET user_token_id = ? WHERE id = ? RETURNING id", {token_id, job_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Error("job " + std::to_string(job_id) + " not found");
  return Status::Ok();
}

}  // namespace slipway
