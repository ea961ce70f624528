// SqlStore: notices among servers and action requests
// (replica_notices.h, action_requests.h, docs/replicas.md).
#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

constexpr char kRequestColumns[] =
    "id, pipeline_id, job_id, action, state, requested_by, taken_by, result_id, error, "
    "created_at, updated_at";
constexpr int64_t kKeepAnsweredMs = 3600 * 1000;

ActionRequest RequestFromRow(const SqlRow& row) {
  ActionRequest r;
  r.id = row.Int(0);
  r.pipeline_id = row.Int(1);
  r.job_id = row.OptInt(2);
  r.action = row.Text(3);
  r.state = row.Text(4);
  r.requested_by = row.Text(5);
  r.taken_by = row.Text(6);
  r.result_id = row.OptInt(7);
  r.error = row.Text(8);
  r.created_at = row.Int(9);
  r.updated_at = row.Int(10);
  return r;
}

StatusOr<std::optional<ActionRequest>> FirstRequest(const StatusOr<std::vector<SqlRow>>& rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<ActionRequest>();
  return std::optional<ActionRequest>(RequestFromRow(rows->front()));
}

}  // namespace

Status SqlStore::NotifyLocked(const ReplicaNotice& notice) {
  if (db_->dialect() != SqlDialect::kPostgres) return Status::Ok();
  return db_
      ->Query(std::string("SELECT pg_notify(") + kNoticeChannelSql + ", ?)",
              {NoticePayload(notice)})
      .status();
}

void SqlStore::NoticeLogLocked(int64_t job_id) {
  if (db_->dialect() != SqlDialect::kPostgres) return;
  auto now = std::chrono::steady_clock::now();
  auto [it, added] = log_noticed_.try_emplace(job_id, now);
  if (!added && now - it->second < kLogNoticeGap) return;
  it->second = now;
  // A NOTIFY in the append's transaction would hold PostgreSQL's
  // notification lock (one per database) across the commit's WAL flush, so
  // every appending replica would wait on it: sent just after, on its own.
  // Its failure is not the append's (the bytes are stored): a missed notice
  // costs a watcher the fallback poll.
  (void)NotifyLocked({ReplicaNotice::Kind::kLog, job_id});
  if (log_noticed_.size() > 4096) {
    std::erase_if(log_noticed_,
                  [&](const auto& entry) { return now - entry.second >= kLogNoticeGap; });
  }
}

Status SqlStore::Notify(const ReplicaNotice& notice) {
  std::lock_guard<std::mutex> lock(mu_);
  return NotifyLocked(notice);
}

StatusOr<std::unique_ptr<NoticeListener>> SqlStore::Listen(
    std::function<void(const ReplicaNotice&)>) {
  return Status::Error("notices between servers need a PostgreSQL database");
}

StatusOr<ActionRequest> SqlStore::CreateActionRequest(const ActionRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  const int64_t now = Now();
  auto old =
      db_->Query("DELETE FROM action_requests WHERE state IN ('done', 'failed') AND updated_at < ?",
                 {now - kKeepAnsweredMs});
  if (!old.ok()) return old.status();
  auto rows = db_->Query(std::string("INSERT INTO action_requests (pipeline_id, job_id, action, "
                                     "state, requested_by, created_at, updated_at) VALUES "
                                     "(?, ?, ?, 'pending', ?, ?, ?) RETURNING ") +
                             kRequestColumns,
                         {request.pipeline_id, OptionalValue(request.job_id), request.action,
                          request.requested_by, now, now});
  if (!rows.ok()) return rows.status();
  ActionRequest stored = RequestFromRow(rows->front());
  if (Status s = NotifyLocked({ReplicaNotice::Kind::kRequest, stored.id}); !s.ok()) return s;
  if (Status s = txn.Commit(); !s.ok()) return s;
  return stored;
}

StatusOr<std::optional<ActionRequest>> SqlStore::GetActionRequest(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return FirstRequest(db_->Query(
      std::string("SELECT ") + kRequestColumns + " FROM action_requests WHERE id = ?", {id}));
}

StatusOr<std::optional<ActionRequest>> SqlStore::TakeActionRequest(int64_t id,
                                                                   std::string_view owner) {
  std::lock_guard<std::mutex> lock(mu_);
  return FirstRequest(db_->Query(
      std::string("UPDATE action_requests SET state = 'taken', taken_by = ?, updated_at = ? "
                  "WHERE id = ? AND state = 'pending' AND EXISTS (SELECT 1 FROM pipelines "
                  "WHERE pipelines.id = action_requests.pipeline_id AND pipelines.owner = ?) "
                  "RETURNING ") +
          kRequestColumns,
      {std::string(owner), Now(), id, std::string(owner)}));
}

StatusOr<std::vector<int64_t>> SqlStore::PendingActionRequests(std::string_view owner) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "SELECT action_requests.id FROM action_requests JOIN pipelines ON pipelines.id = "
      "action_requests.pipeline_id WHERE action_requests.state = 'pending' AND "
      "pipelines.owner = ? ORDER BY action_requests.id",
      {std::string(owner)});
  if (!rows.ok()) return rows.status();
  std::vector<int64_t> ids;
  for (const SqlRow& row : *rows) ids.push_back(row.Int(0));
  return ids;
}

StatusOr<bool> SqlStore::FinishActionRequest(int64_t id, std::string_view owner,
                                             std::optional<int64_t> result_id,
                                             std::string_view error) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  auto rows = db_->Query(
      "UPDATE action_requests SET state = ?, result_id = ?, error = ?, updated_at = ? "
      "WHERE id = ? AND state = 'taken' AND taken_by = ? RETURNING id",
      {error.empty() ? "done" : "failed", OptionalValue(result_id), std::string(error), Now(), id,
       std::string(owner)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return false;  // Nothing written: the rollback is harmless.
  if (Status s = NotifyLocked({ReplicaNotice::Kind::kRequestDone, id}); !s.ok()) return s;
  if (Status s = txn.Commit(); !s.ok()) return s;
  return true;
}

StatusOr<bool> SqlStore::AbandonActionRequest(int64_t id, std::string_view error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "UPDATE action_requests SET state = 'failed', error = ?, updated_at = ? "
      "WHERE id = ? AND state = 'pending' RETURNING id",
      {std::string(error), Now(), id});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

}  // namespace slipway
