// SqlStore: project CI/CD variables. Values are sealed with the store's
// secrets key (sql_store_secrets.cc) before they reach the database.
#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

constexpr char kColumns[] =
    "project_id, key, value, variable_type, protected, masked, raw, environment_scope, "
    "description, hidden";

ProjectVariableRecord VariableFromRow(const SqlRow& row) {
  ProjectVariableRecord v;
  v.project_id = row.Int(0);
  v.key = row.Text(1);
  v.value = row.Text(2);
  v.variable_type = row.Text(3);
  v.is_protected = row.Int(4) != 0;
  v.masked = row.Int(5) != 0;
  v.raw = row.Int(6) != 0;
  v.environment_scope = row.Text(7);
  v.description = row.Text(8);
  v.hidden = row.Int(9) != 0;
  return v;
}

}  // namespace

StatusOr<std::vector<ProjectVariableRecord>> SqlStore::ListProjectVariables(int64_t project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(std::string("SELECT ") + kColumns +
                             " FROM project_variables WHERE project_id = ? "
                             "ORDER BY key, environment_scope",
                         {project_id});
  if (!rows.ok()) return rows.status();
  std::vector<ProjectVariableRecord> variables;
  for (const SqlRow& row : *rows) {
    ProjectVariableRecord v = VariableFromRow(row);
    StatusOr<std::string> value =
        OpenSecret(v.value, kProjectVariableValueColumn,
                   "project " + std::to_string(project_id) + " variable " + v.key);
    if (!value.ok()) return value.status();
    v.value = std::move(*value);
    variables.push_back(std::move(v));
  }
  return variables;
}

StatusOr<bool> SqlStore::CreateProjectVariable(const ProjectVariableRecord& v) {
  StatusOr<std::string> sealed = SealSecret(v.value, kProjectVariableValueColumn);
  if (!sealed.ok()) return sealed.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(std::string("INSERT INTO project_variables (") + kColumns +
                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                             "ON CONFLICT (project_id, key, environment_scope) DO NOTHING "
                             "RETURNING id",
                         {v.project_id, v.key, *sealed, v.variable_type, BoolValue(v.is_protected),
                          BoolValue(v.masked), BoolValue(v.raw), v.environment_scope, v.description,
                          BoolValue(v.hidden)});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

StatusOr<bool> SqlStore::UpdateProjectVariable(const ProjectVariableRecord& v) {
  StatusOr<std::string> sealed = SealSecret(v.value, kProjectVariableValueColumn);
  if (!sealed.ok()) return sealed.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "UPDATE project_variables SET value = ?, variable_type = ?, protected = ?, masked = ?, "
      "raw = ?, description = ?, hidden = ? WHERE project_id = ? AND key = ? AND environment_scope "
      "= ? "
      "RETURNING id",
      {*sealed, v.variable_type, BoolValue(v.is_protected), BoolValue(v.masked), BoolValue(v.raw),
       v.description, BoolValue(v.hidden), v.project_id, v.key, v.environment_scope});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

StatusOr<bool> SqlStore::DeleteProjectVariable(int64_t project_id, std::string_view key,
                                               std::string_view environment_scope) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "DELETE FROM project_variables WHERE project_id = ? AND key = ? AND "
      "environment_scope = ? RETURNING id",
      {project_id, std::string(key), std::string(environment_scope)});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

}  // namespace slipway
