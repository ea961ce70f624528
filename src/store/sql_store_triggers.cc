// SqlStore: pipeline trigger tokens. A token is kept as its SHA-256, as API
// tokens are (sql_store_admin.cc): a copy of the database cannot trigger.
#include "store/record_codec.h"
#include "store/sql_store.h"
#include "store/token_hash.h"

namespace slipway {
namespace {

constexpr char kColumns[] =
    "id, project_id, description, token_prefix, created_at, updated_at, last_used";
constexpr char kRawPrefix[] = "glptt-";  // GitLab's prefix for trigger tokens.

TriggerRecord TriggerFromRow(const SqlRow& row) {
  TriggerRecord t;
  t.id = row.Int(0);
  t.project_id = row.Int(1);
  t.description = row.Text(2);
  t.token_prefix = row.Text(3);
  t.created_at = row.Int(4);
  t.updated_at = row.Int(5);
  t.last_used = row.OptInt(6);
  return t;
}

}  // namespace

StatusOr<CreatedTrigger> SqlStore::CreateTrigger(int64_t project_id, std::string_view description) {
  StatusOr<std::string> random = GenerateRawToken();  // "slw_" + 40 hex digits.
  if (!random.ok()) return random.status();
  std::string raw = kRawPrefix + random->substr(random->find('_') + 1);
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  auto rows = db_->Query(
      "INSERT INTO pipeline_triggers (project_id, description, token_sha256, token_prefix, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING " +
          std::string(kColumns),
      {project_id, std::string(description), Sha256Hex(raw), raw.substr(sizeof(kRawPrefix) - 1, 4),
       now, now});
  if (!rows.ok()) return rows.status();
  return CreatedTrigger{TriggerFromRow(rows->at(0)), std::move(raw)};
}

StatusOr<std::vector<TriggerRecord>> SqlStore::ListTriggers(int64_t project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(std::string("SELECT ") + kColumns +
                             " FROM pipeline_triggers WHERE project_id = ? ORDER BY id",
                         {project_id});
  if (!rows.ok()) return rows.status();
  std::vector<TriggerRecord> out;
  for (const SqlRow& row : *rows) out.push_back(TriggerFromRow(row));
  return out;
}

StatusOr<std::optional<TriggerRecord>> SqlStore::GetTrigger(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows =
      db_->Query(std::string("SELECT ") + kColumns + " FROM pipeline_triggers WHERE id = ?", {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<TriggerRecord>();
  return std::optional<TriggerRecord>(TriggerFromRow(rows->front()));
}

StatusOr<bool> SqlStore::UpdateTrigger(int64_t id, std::string_view description) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "UPDATE pipeline_triggers SET description = ?, updated_at = ? WHERE id = ? RETURNING id",
      {std::string(description), Now(), id});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

StatusOr<bool> SqlStore::DeleteTrigger(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query("DELETE FROM pipeline_triggers WHERE id = ? RETURNING id", {id});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

StatusOr<std::optional<TriggerRecord>> SqlStore::UseTrigger(int64_t project_id,
                                                            std::string_view raw) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "UPDATE pipeline_triggers SET last_used = ? WHERE project_id = ? AND "
      "token_sha256 = ? RETURNING " +
          std::string(kColumns),
      {Now(), project_id, Sha256Hex(raw)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<TriggerRecord>();
  return std::optional<TriggerRecord>(TriggerFromRow(rows->front()));
}

}  // namespace slipway
