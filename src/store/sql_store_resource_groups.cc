// SqlStore: resource groups and the project settings of deployment safety
// (docs/deployments.md, docs/database.md).
#include <algorithm>
#include <iterator>

#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

const char kResourceGroupColumns[] =
    "id, project_id, resource_key, process_mode, created_at, updated_at";
const std::string kSelectResourceGroup =
    std::string("SELECT ") + kResourceGroupColumns + " FROM resource_groups";

ResourceGroupRecord ResourceGroupFromRow(const SqlRow& row) {
  ResourceGroupRecord g;
  g.id = row.Int(0);
  g.project_id = row.Int(1);
  g.key = row.Text(2);
  g.process_mode = row.Text(3);
  g.created_at = row.Int(4);
  g.updated_at = row.Int(5);
  return g;
}

constexpr const char* kProcessModes[] = {"unordered", "oldest_first", "newest_first",
                                         "newest_ready_first"};

}  // namespace

StatusOr<ProjectRecord> SqlStore::SetProjectDeploymentSafety(int64_t id, bool forward_enabled,
                                                             bool rollback_allowed) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto rows = db_->Query(
        "UPDATE projects SET ci_forward_deployment_enabled = ?, "
        "ci_forward_deployment_rollback_allowed = ? WHERE id = ? RETURNING id",
        {BoolValue(forward_enabled), BoolValue(rollback_allowed), id});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::Error("project " + std::to_string(id) + " not found");
  }
  StatusOr<std::optional<ProjectRecord>> project = GetProject(id);
  if (!project.ok()) return project.status();
  if (!*project) return Status::Error("project " + std::to_string(id) + " not found");
  return **project;
}

Status SqlStore::EnsureResourceGroups(int64_t project_id, const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  for (const std::string& key : keys) {
    auto rows = db_->Query(
        "INSERT INTO resource_groups (project_id, resource_key, created_at, updated_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (project_id, resource_key) DO NOTHING",
        {project_id, key, now, now});
    if (!rows.ok()) return rows.status();
  }
  return Status::Ok();
}

StatusOr<std::optional<ResourceGroupRecord>> SqlStore::FindResourceGroup(int64_t project_id,
                                                                         std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(), kSelectResourceGroup + " WHERE project_id = ? AND resource_key = ?",
                     {project_id, std::string(key)}, ResourceGroupFromRow);
}

StatusOr<std::vector<ResourceGroupRecord>> SqlStore::ListResourceGroups(int64_t project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(db_.get(), kSelectResourceGroup + " WHERE project_id = ? ORDER BY id",
                      {project_id}, ResourceGroupFromRow);
}

StatusOr<std::optional<ResourceGroupRecord>> SqlStore::SetResourceGroupMode(int64_t project_id,
                                                                            std::string_view key,
                                                                            std::string_view mode) {
  if (std::find(std::begin(kProcessModes), std::end(kProcessModes), mode) ==
      std::end(kProcessModes)) {
    return Status::Error("process_mode does not have a valid value");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(),
                     "UPDATE resource_groups SET process_mode = ?, updated_at = ? WHERE "
                     "project_id = ? AND resource_key = ? RETURNING " +
                         std::string(kResourceGroupColumns),
                     {std::string(mode), Now(), project_id, std::string(key)},
                     ResourceGroupFromRow);
}

StatusOr<std::vector<JobRecord>> SqlStore::UpcomingResourceJobs(int64_t project_id,
                                                                std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(db_.get(),
                      std::string("SELECT ") + kJobColumns +
                          " FROM jobs WHERE resource_group = ? AND retried = 0 AND status IN "
                          "('created', 'scheduled', 'waiting_for_resource', 'pending') AND "
                          "pipeline_id IN (SELECT id FROM pipelines WHERE project_id = ?) "
                          "ORDER BY pipeline_id, id",
                      {std::string(key), project_id}, JobFromRow);
}

}  // namespace slipway
