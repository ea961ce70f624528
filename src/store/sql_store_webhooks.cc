// SqlStore: webhook deliveries already taken (replay protection).
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

}  // namespace slipway
