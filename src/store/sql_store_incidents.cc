// SqlStore: incidents and the projects' Alertmanager tokens (docs/dora.md).
#include <algorithm>
#include <array>

#include "store/record_codec.h"
#include "store/sql_store.h"
#include "store/token_hash.h"

namespace slipway {
namespace {

constexpr char kIncidentColumns[] =
    "id, project_id, iid, title, description, status, source, deployment_id, external_key, "
    "created_at, updated_at, resolved_at";
const std::string kSelectIncident = std::string("SELECT ") + kIncidentColumns + " FROM incidents";

IncidentRecord IncidentFromRow(const SqlRow& row) {
  IncidentRecord i;
  i.id = row.Int(0);
  i.project_id = row.Int(1);
  i.iid = row.Int(2);
  i.title = row.Text(3);
  i.description = row.Text(4);
  i.status = row.Text(5);
  i.source = row.Text(6);
  i.deployment_id = row.OptInt(7);
  i.external_key = row.Text(8);
  i.created_at = row.Int(9);
  i.updated_at = row.Int(10);
  i.resolved_at = row.OptInt(11);
  return i;
}

bool OneOf(std::string_view value, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

StatusOr<IncidentRecord> SqlStore::CreateIncident(const IncidentRecord& in) {
  if (in.title.empty()) return Status::Error("incident title must not be empty");
  if (in.status != "open") return Status::Error("a new incident must be open");
  if (!OneOf(in.source, {"api", "alertmanager", "rollback"})) {
    return Status::Error("incident source '" + in.source +
                         "' is not one of api, alertmanager, rollback");
  }
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  // The counter row serialises the project's creators, so the check for an
  // open incident of the same key and the insert are one step.
  StatusOr<int64_t> iid = NextIidLocked("last_incident_iid", in.project_id);
  if (!iid.ok()) return iid.status();
  if (!in.external_key.empty()) {
    auto open = QueryRecord(
        db_.get(),
        kSelectIncident + " WHERE project_id = ? AND external_key = ? AND status = 'open'",
        {in.project_id, in.external_key}, IncidentFromRow);
    if (!open.ok()) return open.status();
    if (*open) return **open;  // The transaction rolls back: the iid is not used.
  }
  int64_t now = Now();
  int64_t created = in.created_at != 0 ? in.created_at : now;
  auto rows = db_->Query(
      "INSERT INTO incidents (project_id, iid, title, description, status, source, "
      "deployment_id, external_key, created_at, updated_at) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, "
      "?, ?) RETURNING " +
          std::string(kIncidentColumns),
      {in.project_id, *iid, in.title, in.description, in.source, OptionalValue(in.deployment_id),
       in.external_key, created, now});
  if (!rows.ok()) return rows.status();
  if (Status s = txn.Commit(); !s.ok()) return s;
  return IncidentFromRow(rows->at(0));
}

StatusOr<std::optional<IncidentRecord>> SqlStore::GetIncident(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(), kSelectIncident + " WHERE id = ?", {id}, IncidentFromRow);
}

StatusOr<std::optional<IncidentRecord>> SqlStore::GetIncidentByIid(int64_t project_id,
                                                                   int64_t iid) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(), kSelectIncident + " WHERE project_id = ? AND iid = ?",
                     {project_id, iid}, IncidentFromRow);
}

StatusOr<Page<IncidentRecord>> SqlStore::ListIncidents(const IncidentFilter& f) {
  if (!OneOf(f.order_by, {"created_at", "updated_at", "iid"})) {
    return Status::Error("order_by does not have a valid value: '" + f.order_by + "'");
  }
  if (f.sort != "asc" && f.sort != "desc") {
    return Status::Error("sort does not have a valid value: '" + f.sort + "' (asc, desc)");
  }
  if (!f.status.empty() && !OneOf(f.status, {"open", "resolved"})) {
    return Status::Error("status does not have a valid value: '" + f.status + "'");
  }
  std::string where = " WHERE project_id = ?";
  std::vector<SqlValue> params = {f.project_id};
  if (!f.status.empty()) {
    where += " AND status = ?";
    params.push_back(f.status);
  }
  std::lock_guard<std::mutex> lock(mu_);
  // order_by and sort were checked against fixed lists above.
  return QueryPage(db_.get(), "incidents", kIncidentColumns, where, std::move(params), f.order_by,
                   f.sort, f.page, f.per_page, IncidentFromRow);
}

StatusOr<IncidentRecord> SqlStore::UpdateIncident(const IncidentRecord& in) {
  if (in.title.empty()) return Status::Error("incident title must not be empty");
  std::lock_guard<std::mutex> lock(mu_);
  auto found = QueryRecord(
      db_.get(),
      "UPDATE incidents SET title = ?, description = ?, deployment_id = ?, "
      "updated_at = ? WHERE id = ? RETURNING " +
          std::string(kIncidentColumns),
      {in.title, in.description, OptionalValue(in.deployment_id), Now(), in.id}, IncidentFromRow);
  if (!found.ok()) return found.status();
  if (!*found) return Status::Error("incident " + std::to_string(in.id) + " not found");
  return **found;
}

StatusOr<IncidentRecord> SqlStore::ResolveIncident(int64_t id, std::optional<int64_t> at) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  auto resolved = QueryRecord(db_.get(),
                              "UPDATE incidents SET status = 'resolved', resolved_at = ?, "
                              "updated_at = ? WHERE id = ? AND status = 'open' RETURNING " +
                                  std::string(kIncidentColumns),
                              {at.value_or(now), now, id}, IncidentFromRow);
  if (!resolved.ok()) return resolved.status();
  if (*resolved) return **resolved;
  auto found = QueryRecord(db_.get(), kSelectIncident + " WHERE id = ?", {id}, IncidentFromRow);
  if (!found.ok()) return found.status();
  if (!*found) return Status::Error("incident " + std::to_string(id) + " not found");
  return **found;
}

StatusOr<IncidentRecord> SqlStore::ReopenIncident(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = QueryRecord(db_.get(),
                           "UPDATE incidents SET status = 'open', resolved_at = NULL, "
                           "updated_at = ? WHERE id = ? RETURNING " +
                               std::string(kIncidentColumns),
                           {Now(), id}, IncidentFromRow);
  if (!found.ok()) {
    return Status::Error("incident " + std::to_string(id) +
                         " cannot be reopened: another open incident has its alert key (" +
                         found.status().message() + ")");
  }
  if (!*found) return Status::Error("incident " + std::to_string(id) + " not found");
  return **found;
}

StatusOr<std::optional<IncidentRecord>> SqlStore::ResolveIncidentByKey(int64_t project_id,
                                                                       std::string_view key,
                                                                       std::optional<int64_t> at) {
  if (key.empty()) return Status::Error("an alert key must not be empty");
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  return QueryRecord(db_.get(),
                     "UPDATE incidents SET status = 'resolved', resolved_at = ?, updated_at = ? "
                     "WHERE project_id = ? AND external_key = ? AND status = 'open' RETURNING " +
                         std::string(kIncidentColumns),
                     {at.value_or(now), now, project_id, std::string(key)}, IncidentFromRow);
}

StatusOr<std::string> SqlStore::CreateAlertToken(int64_t project_id) {
  StatusOr<std::string> raw = GenerateRawToken();
  if (!raw.ok()) return raw.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "INSERT INTO alert_integrations (project_id, token_sha256, created_at) VALUES (?, ?, ?) "
      "ON CONFLICT (project_id) DO UPDATE SET token_sha256 = excluded.token_sha256, "
      "created_at = excluded.created_at",
      {project_id, Sha256Hex(*raw), Now()});
  if (!rows.ok()) return rows.status();
  return *raw;
}

StatusOr<bool> SqlStore::CheckAlertToken(int64_t project_id, std::string_view raw) {
  if (raw.empty()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  // Compared as hashes: the time taken says nothing about the token.
  auto rows =
      db_->Query("SELECT 1 FROM alert_integrations WHERE project_id = ? AND token_sha256 = ?",
                 {project_id, Sha256Hex(raw)});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

}  // namespace slipway
