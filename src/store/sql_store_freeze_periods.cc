// SqlStore: a project's deploy freeze periods (docs/deployments.md,
// docs/database.md).
#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

const char kFreezePeriodColumns[] =
    "id, project_id, freeze_start, freeze_end, cron_timezone, created_at, updated_at";
const std::string kSelectFreezePeriod =
    std::string("SELECT ") + kFreezePeriodColumns + " FROM freeze_periods";

FreezePeriodRecord FreezePeriodFromRow(const SqlRow& row) {
  FreezePeriodRecord f;
  f.id = row.Int(0);
  f.project_id = row.Int(1);
  f.freeze_start = row.Text(2);
  f.freeze_end = row.Text(3);
  f.cron_timezone = row.Text(4);
  f.created_at = row.Int(5);
  f.updated_at = row.Int(6);
  return f;
}

}  // namespace

StatusOr<FreezePeriodRecord> SqlStore::CreateFreezePeriod(const FreezePeriodRecord& f) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  auto rows = db_->Query(
      "INSERT INTO freeze_periods (project_id, freeze_start, freeze_end, cron_timezone, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING " +
          std::string(kFreezePeriodColumns),
      {f.project_id, f.freeze_start, f.freeze_end, f.cron_timezone, now, now});
  if (!rows.ok()) return rows.status();
  return FreezePeriodFromRow(rows->at(0));
}

StatusOr<std::optional<FreezePeriodRecord>> SqlStore::GetFreezePeriod(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecord(db_.get(), kSelectFreezePeriod + " WHERE id = ?", {id}, FreezePeriodFromRow);
}

StatusOr<std::vector<FreezePeriodRecord>> SqlStore::ListFreezePeriods(int64_t project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(db_.get(),
                      kSelectFreezePeriod + " WHERE project_id = ? ORDER BY created_at, id",
                      {project_id}, FreezePeriodFromRow);
}

StatusOr<FreezePeriodRecord> SqlStore::UpdateFreezePeriod(const FreezePeriodRecord& f) {
  std::lock_guard<std::mutex> lock(mu_);
  auto updated = QueryRecord(db_.get(),
                             "UPDATE freeze_periods SET freeze_start = ?, freeze_end = ?, "
                             "cron_timezone = ?, updated_at = ? WHERE id = ? RETURNING " +
                                 std::string(kFreezePeriodColumns),
                             {f.freeze_start, f.freeze_end, f.cron_timezone, Now(), f.id},
                             FreezePeriodFromRow);
  if (!updated.ok()) return updated.status();
  if (!*updated) return Status::Error("freeze period " + std::to_string(f.id) + " not found");
  return **updated;
}

Status SqlStore::DeleteFreezePeriod(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->Query("DELETE FROM freeze_periods WHERE id = ?", {id}).status();
}

}  // namespace slipway
