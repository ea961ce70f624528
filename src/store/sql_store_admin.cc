// SqlStore: API tokens and pipeline schedules.
#include "store/record_codec.h"
#include "store/sql_store.h"
#include "store/token_hash.h"
#include "util/ref_name.h"

namespace slipway {
namespace {

// last_used_at is refreshed at most this often, as GitLab does, so that
// authenticating a request is a read, not a write, nearly every time.
constexpr int64_t kLastUsedResolutionMs = 10 * 60 * 1000;

const std::string kSelectSchedule = std::string("SELECT ") + kScheduleColumns + " FROM schedules";

Status CheckSchedule(const ScheduleRecord& s) {
  if (s.cron.empty()) return Status::Error("schedule cron must not be empty");
  if (s.ref.empty()) return Status::Error("schedule ref must not be empty");
  ShortRef ref = SplitRef(s.ref);
  if (Status valid = CheckBranchOrTagName(ref.name, ref.tag); !valid.ok()) {
    return Status::Error("schedule ref: " + valid.message());
  }
  if (s.cron_timezone.empty()) return Status::Error("schedule cron_timezone must not be empty");
  return Status::Ok();
}

}  // namespace

// ---- tokens

StatusOr<CreatedToken> SqlStore::CreateToken(std::string_view name, TokenRole role) {
  if (name.empty()) return Status::Error("token name must not be empty");
  StatusOr<std::string> raw = GenerateRawToken();
  if (!raw.ok()) return raw.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      std::string("INSERT INTO tokens (name, token_sha256, role, created_at) VALUES (?, ?, ?, ?) "
                  "RETURNING ") +
          kTokenColumns,
      {std::string(name), Sha256Hex(*raw), std::string(TokenRoleName(role)), Now()});
  if (!rows.ok()) return rows.status();
  return CreatedToken{TokenFromRow(rows->at(0)), std::move(*raw)};
}

StatusOr<std::optional<TokenRecord>> SqlStore::LookupToken(std::string_view raw) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(std::string("SELECT ") + kTokenColumns +
                             " FROM tokens WHERE token_sha256 = ? AND revoked = 0",
                         {Sha256Hex(raw)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<TokenRecord>();
  TokenRecord token = TokenFromRow(rows->at(0));
  int64_t now = Now();
  if (!token.last_used_at || now - *token.last_used_at >= kLastUsedResolutionMs) {
    auto touched = db_->Query("UPDATE tokens SET last_used_at = ? WHERE id = ?", {now, token.id});
    if (!touched.ok()) return touched.status();
    token.last_used_at = now;
  }
  return std::optional<TokenRecord>(std::move(token));
}

Status SqlStore::RevokeToken(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query("UPDATE tokens SET revoked = 1 WHERE id = ? RETURNING id", {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Error("token " + std::to_string(id) + " not found");
  return Status::Ok();
}

StatusOr<std::vector<TokenRecord>> SqlStore::ListTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(db_.get(),
                      std::string("SELECT ") + kTokenColumns + " FROM tokens ORDER BY id", {},
                      TokenFromRow);
}

// ---- schedules

StatusOr<ScheduleRecord> SqlStore::CreateSchedule(const ScheduleRecord& s) {
  if (Status st = CheckSchedule(s); !st.ok()) return st;
  StatusOr<std::string> variables = SealVariables(s.variables, kScheduleVariablesColumn);
  if (!variables.ok()) return variables.status();
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  auto rows = db_->Query(
      "INSERT INTO schedules (project_id, description, cron, cron_timezone, ref, variables, "
      "active, next_run_at, last_pipeline_id, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " +
          std::string(kScheduleColumns),
      {s.project_id, s.description, s.cron, s.cron_timezone, s.ref, *variables, BoolValue(s.active),
       OptionalValue(s.next_run_at), OptionalValue(s.last_pipeline_id), now, now});
  if (!rows.ok()) return rows.status();
  ScheduleRecord created = ScheduleFromRow(rows->at(0));
  created.variables = s.variables;
  return created;
}

StatusOr<std::optional<ScheduleRecord>> SqlStore::GetSchedule(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return OpenFirstRow(db_->Query(kSelectSchedule + " WHERE id = ?", {id}), &SqlStore::ScheduleFrom);
}

StatusOr<std::vector<ScheduleRecord>> SqlStore::ListSchedules(int64_t project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return OpenRows(db_->Query(kSelectSchedule + " WHERE project_id = ? ORDER BY id", {project_id}),
                  &SqlStore::ScheduleFrom);
}

StatusOr<ScheduleRecord> SqlStore::UpdateSchedule(const ScheduleRecord& s) {
  if (Status st = CheckSchedule(s); !st.ok()) return st;
  StatusOr<std::string> variables = SealVariables(s.variables, kScheduleVariablesColumn);
  if (!variables.ok()) return variables.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "UPDATE schedules SET description = ?, cron = ?, cron_timezone = ?, ref = ?, variables = ?, "
      "active = ?, next_run_at = ?, last_pipeline_id = ?, updated_at = ? WHERE id = ? "
      "RETURNING " +
          std::string(kScheduleColumns),
      {s.description, s.cron, s.cron_timezone, s.ref, *variables, BoolValue(s.active),
       OptionalValue(s.next_run_at), OptionalValue(s.last_pipeline_id), Now(), s.id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Error("schedule " + std::to_string(s.id) + " not found");
  ScheduleRecord updated = ScheduleFromRow(rows->at(0));
  updated.variables = s.variables;
  return updated;
}

Status SqlStore::DeleteSchedule(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query("DELETE FROM schedules WHERE id = ? RETURNING id", {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Error("schedule " + std::to_string(id) + " not found");
  return Status::Ok();
}

StatusOr<std::vector<ScheduleRecord>> SqlStore::DueSchedules(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return OpenRows(db_->Query(kSelectSchedule + " WHERE active = 1 AND next_run_at IS NOT NULL AND "
                                               "next_run_at <= ? ORDER BY next_run_at, id",
                             {now_ms}),
                  &SqlStore::ScheduleFrom);
}

}  // namespace slipway
