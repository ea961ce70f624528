// SqlStore: webhook deliveries already taken (replay protection), and the
// merge requests the webhooks described.
#include "store/sql_store.h"

namespace slipway {

StatusOr<bool> SqlStore::TakeWebhookDelivery(int64_t project_id,
                                             const std::vector<std::string>& keys, int64_t now_ms,
                                             int64_t window_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  auto pruned =
      db_->Query("DELETE FROM webhook_deliveries WHERE received_at < ?", {now_ms - window_ms});
  if (!pruned.ok()) return pruned.status();
  for (const std::string& key : keys) {
    // A key another transaction holds makes this one wait for it (PostgreSQL)
    // and then insert nothing: the delivery is a replay either way.
    auto inserted = db_->Query(
        "INSERT INTO webhook_deliveries (project_id, delivery_key, received_at) VALUES (?, ?, ?) "
        "ON CONFLICT (project_id, delivery_key) DO NOTHING RETURNING project_id",
        {project_id, key, now_ms});
    if (!inserted.ok()) return inserted.status();
    if (inserted->empty()) return false;  // Rolled back: nothing recorded.
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  return true;
}

Status SqlStore::ForgetWebhookDelivery(int64_t project_id, const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  for (const std::string& key : keys) {
    auto deleted =
        db_->Query("DELETE FROM webhook_deliveries WHERE project_id = ? AND delivery_key = ?",
                   {project_id, key});
    if (!deleted.ok()) return deleted.status();
  }
  return txn.Commit();
}

Status SqlStore::SaveMergeRequest(const MergeRequestRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  auto saved = db_->Query(
      "INSERT INTO merge_requests (project_id, iid, title, source_branch, target_branch, sha, "
      "state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, iid) DO UPDATE "
      "SET title = excluded.title, source_branch = excluded.source_branch, target_branch = "
      "excluded.target_branch, sha = excluded.sha, state = excluded.state, updated_at = "
      "excluded.updated_at",
      {record.project_id, record.iid, record.title, record.source_branch, record.target_branch,
       record.sha, record.state, Now()});
  return saved.ok() ? Status::Ok() : saved.status();
}

StatusOr<std::vector<int64_t>> SqlStore::OpenMergeRequestIids(int64_t project_id,
                                                              std::string_view source_branch) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "SELECT iid FROM merge_requests WHERE project_id = ? AND source_branch = ? AND state = "
      "'opened' ORDER BY iid",
      {project_id, std::string(source_branch)});
  if (!rows.ok()) return rows.status();
  std::vector<int64_t> iids;
  for (const SqlRow& row : *rows) iids.push_back(row.Int(0));
  return iids;
}

}  // namespace slipway
