// SqlStore: which server sends each event (delivery_claims.h,
// docs/database.md "deliveries").
#include "store/sql_store.h"

namespace slipway {

StatusOr<bool> SqlStore::ClaimDelivery(const DeliveryClaim& claim, std::string_view owner,
                                       int64_t expires_at) {
  std::lock_guard<std::mutex> lock(mu_);
  // One statement: of servers claiming the same change at once, the row
  // (PostgreSQL: its lock; SQLite: the single writer) lets one through.
  auto rows = db_->Query(
      "INSERT INTO deliveries (publisher, subject, state, version, project_id, payload, owner, "
      "lease_expires_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) "
      "ON CONFLICT (publisher, subject) DO UPDATE SET state = excluded.state, "
      "version = excluded.version, project_id = excluded.project_id, payload = excluded.payload, "
      "owner = excluded.owner, lease_expires_at = excluded.lease_expires_at, done_at = NULL "
      "WHERE deliveries.state <> excluded.state AND deliveries.version <= excluded.version "
      "RETURNING subject",
      {claim.publisher, claim.subject, claim.state, claim.version, claim.project_id, claim.payload,
       std::string(owner), expires_at});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

Status SqlStore::FinishDelivery(std::string_view publisher, std::string_view subject,
                                std::string_view state, std::string_view owner, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query(
          "UPDATE deliveries SET done_at = ? WHERE publisher = ? AND subject = ? AND state = ? "
          "AND owner = ? AND done_at IS NULL",
          {now_ms, std::string(publisher), std::string(subject), std::string(state),
           std::string(owner)})
      .status();
}

Status SqlStore::RenewDeliveries(std::string_view publisher, std::string_view owner,
                                 int64_t expires_at) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query(
          "UPDATE deliveries SET lease_expires_at = ? WHERE publisher = ? AND owner = ? AND "
          "done_at IS NULL",
          {expires_at, std::string(publisher), std::string(owner)})
      .status();
}

StatusOr<std::vector<DeliveryClaim>> SqlStore::TakeOverDeliveries(std::string_view publisher,
                                                                  std::string_view owner,
                                                                  int64_t now_ms,
                                                                  int64_t expires_at, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  // The outer condition is checked again on the row as it is when updated:
  // of two servers taking the same claim over, the second finds it renewed.
  const char* skip = db_->dialect() == SqlDialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
  auto rows = db_->Query(
      "UPDATE deliveries SET owner = ?, lease_expires_at = ? WHERE publisher = ? AND "
      "done_at IS NULL AND lease_expires_at < ? AND subject IN (SELECT subject FROM deliveries "
      "WHERE publisher = ? AND done_at IS NULL AND lease_expires_at < ? ORDER BY "
      "lease_expires_at LIMIT ?" +
          std::string(skip) + ") RETURNING subject, state, version, project_id, payload",
      {std::string(owner), expires_at, std::string(publisher), now_ms, std::string(publisher),
       now_ms, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<DeliveryClaim> out;
  for (const SqlRow& row : *rows) {
    DeliveryClaim claim;
    claim.publisher = std::string(publisher);
    claim.subject = row.Text(0);
    claim.state = row.Text(1);
    claim.version = row.Int(2);
    claim.project_id = row.Int(3);
    claim.payload = row.Text(4);
    out.push_back(std::move(claim));
  }
  return out;
}

Status SqlStore::PruneDeliveries(int64_t before_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->Query("DELETE FROM deliveries WHERE done_at IS NOT NULL AND done_at < ?", {before_ms})
      .status();
}

}  // namespace slipway
