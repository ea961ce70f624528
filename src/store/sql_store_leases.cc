// SqlStore: leases of pipelines among servers sharing one database
// (pipeline_leases.h, docs/replicas.md).
#include <algorithm>

#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

const char kActive[] =
    "status IN ('created', 'waiting_for_resource', 'preparing', 'pending', 'running')";

}  // namespace

bool SqlStore::SharedByServers() {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->dialect() == SqlDialect::kPostgres;
}

StatusOr<bool> SqlStore::ClaimPipeline(int64_t id, std::string_view owner, int64_t expires_at) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "UPDATE pipelines SET owner = ?, lease_expires_at = ? "
      "WHERE id = ? AND (owner IS NULL OR owner = ?) RETURNING id",
      {std::string(owner), expires_at, id, std::string(owner)});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

StatusOr<std::optional<std::string>> SqlStore::PipelineOwner(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query("SELECT owner FROM pipelines WHERE id = ?", {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty() || rows->at(0).IsNull(0)) return std::optional<std::string>();
  return std::optional<std::string>(rows->at(0).Text(0));
}

StatusOr<std::optional<int64_t>> SqlStore::ClaimNextPipeline(std::string_view owner,
                                                             int64_t expires_at) {
  std::lock_guard<std::mutex> lock(mu_);
  // PostgreSQL: a pipeline another server is claiming is skipped, not waited
  // for; SQLite's single writer needs no more than the statement itself.
  const char* skip = db_->dialect() == SqlDialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
  auto rows = db_->Query(
      "UPDATE pipelines SET owner = ?, lease_expires_at = ? WHERE owner IS NULL AND id = "
      "(SELECT id FROM pipelines WHERE owner IS NULL AND " +
          std::string(kActive) + " ORDER BY id LIMIT 1" + skip + ") RETURNING id",
      {std::string(owner), expires_at});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rows->at(0).Int(0));
}

StatusOr<std::vector<int64_t>> SqlStore::RenewLeases(std::string_view owner, int64_t expires_at) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query("UPDATE pipelines SET lease_expires_at = ? WHERE owner = ? RETURNING id",
                         {expires_at, std::string(owner)});
  if (!rows.ok()) return rows.status();
  std::vector<int64_t> ids;
  for (const SqlRow& row : *rows) ids.push_back(row.Int(0));
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status SqlStore::ReleasePipeline(int64_t id, std::string_view owner) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  auto rows = db_->Query(
      "UPDATE pipelines SET owner = NULL, lease_expires_at = NULL WHERE id = ? AND owner = ? "
      "RETURNING CASE WHEN " +
          std::string(kActive) + " THEN 1 ELSE 0 END",
      {id, std::string(owner)});
  if (!rows.ok()) return rows.status();
  // Still to run: an idle server may take it at once.
  if (!rows->empty() && rows->front().Int(0) == 1) {
    if (Status s = NotifyLocked({ReplicaNotice::Kind::kFree, id}); !s.ok()) return s;
  }
  return txn.Commit();
}

StatusOr<RecoveredPipelines> SqlStore::RecoverPipelines(const LeaseRecovery& what) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  RecoveredPipelines out;
  int64_t now = Now();
  JobUpdate update;
  update.status = CiStatus::kFailed;
  update.failure_reason = "runner_system_failure";
  auto fail_running = [&](const StatusOr<std::vector<SqlRow>>& rows) -> Status {
    if (!rows.ok()) return rows.status();
    for (const SqlRow& row : *rows) {
      auto failed = SetJobStatusLocked(JobFromRow(row), update, now);
      if (!failed.ok()) return failed.status();
      out.jobs.push_back(std::move(*failed));
    }
    return Status::Ok();
  };
  const std::string select_jobs = std::string("SELECT ") + kJobColumns + " FROM jobs";
  if (what.everything) {
    auto freed = db_->Query(
        "UPDATE pipelines SET owner = NULL, lease_expires_at = NULL WHERE owner IS NOT NULL "
        "RETURNING id");
    if (!freed.ok()) return freed.status();
    for (const SqlRow& row : *freed) out.pipeline_ids.push_back(row.Int(0));
    Status failed = fail_running(db_->Query(select_jobs + " WHERE status = 'running' ORDER BY id"));
    if (!failed.ok()) return failed;
  } else {
    const char* skip = db_->dialect() == SqlDialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
    auto left = db_->Query(
        "SELECT id FROM pipelines WHERE " + std::string(kActive) +
            " AND ((owner IS NOT NULL AND (lease_expires_at < ? OR owner = ?)) OR "
            "(owner IS NULL AND EXISTS (SELECT 1 FROM jobs WHERE jobs.pipeline_id = pipelines.id "
            "AND jobs.status = 'running'))) ORDER BY id" +
            skip,
        {what.now_ms, what.previous_owner});
    if (!left.ok()) return left.status();
    if (left->empty()) return out;  // Nothing written: the rollback is harmless.
    for (const SqlRow& row : *left) {
      int64_t id = row.Int(0);
      out.pipeline_ids.push_back(id);
      const bool held = !what.new_owner.empty();
      auto taken = db_->Query("UPDATE pipelines SET owner = ?, lease_expires_at = ? WHERE id = ?",
                              {held ? SqlValue(what.new_owner) : SqlValue(),
                               held ? SqlValue(what.lease_end) : SqlValue(), id});
      if (!taken.ok()) return taken.status();
      Status failed = fail_running(db_->Query(
          select_jobs + " WHERE status = 'running' AND pipeline_id = ? ORDER BY id", {id}));
      if (!failed.ok()) return failed;
      if (held) continue;
      if (Status s = NotifyLocked({ReplicaNotice::Kind::kFree, id}); !s.ok()) return s;
    }
  }
  std::sort(out.pipeline_ids.begin(), out.pipeline_ids.end());
  if (Status s = txn.Commit(); !s.ok()) return s;
  return out;
}

StatusOr<bool> SqlStore::ClaimScheduleRun(int64_t id, int64_t due_at,
                                          std::optional<int64_t> next_run_at) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "UPDATE schedules SET next_run_at = ?, active = ?, updated_at = ? "
      "WHERE id = ? AND active = 1 AND next_run_at = ? RETURNING id",
      {OptionalValue(next_run_at), BoolValue(next_run_at.has_value()), Now(), id, due_at});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

}  // namespace slipway
