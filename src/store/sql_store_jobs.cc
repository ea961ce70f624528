// SqlStore: jobs, their status changes, crash recovery, logs and artifacts.
#include <algorithm>

#include "store/record_codec.h"
#include "store/sql_store.h"

namespace slipway {
namespace {

const std::string kSelectJob = std::string("SELECT ") + kJobColumns + " FROM jobs";

std::string JobLabel(const JobRecord& job) {
  return "job " + std::to_string(job.id) + " ('" + job.name + "')";
}

}  // namespace

StatusOr<JobRecord> SqlStore::InsertJobLocked(const JobRecord& job, int64_t pipeline_id,
                                              int64_t now) {
  if (job.name.empty()) return Status::Error("job name must not be empty");
  auto rows = db_->Query(
      "INSERT INTO jobs (pipeline_id, name, stage, stage_idx, status, run_when, allow_failure, "
      "retry_count, created_at, needs, bridge, resource_group, user_token_id) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "RETURNING " +
          std::string(kJobColumns),
      {pipeline_id, job.name, job.stage, static_cast<int64_t>(job.stage_idx),
       StatusValue(job.status), job.when, BoolValue(job.allow_failure),
       static_cast<int64_t>(job.retry_count), now, StringsToJson(job.needs), BoolValue(job.bridge),
       job.resource_group, OptionalValue(job.user_token_id)});
  if (!rows.ok()) return rows.status();
  return JobFromRow(rows->at(0));
}

StatusOr<std::optional<JobRecord>> SqlStore::GetJobLocked(int64_t id) {
  return QueryRecord(db_.get(), kSelectJob + " WHERE id = ?", {id}, JobFromRow);
}

StatusOr<std::optional<JobRecord>> SqlStore::GetJob(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetJobLocked(id);
}

StatusOr<Page<JobRecord>> SqlStore::ListJobs(const JobFilter& f) {
  if (f.pipeline_id.has_value() == f.project_id.has_value()) {
    return Status::Error("listing jobs needs exactly one of a pipeline id and a project id");
  }
  std::vector<SqlValue> params;
  std::string where;
  std::string order;
  if (f.pipeline_id) {
    // GitLab lists a pipeline's jobs in creation order, a project's newest first.
    where = " WHERE pipeline_id = ?";
    params.push_back(*f.pipeline_id);
    order = " ORDER BY id ASC";
  } else {
    where = " WHERE pipeline_id IN (SELECT id FROM pipelines WHERE project_id = ?)";
    params.push_back(*f.project_id);
    order = " ORDER BY id DESC";
  }
  if (!f.include_retried) where += " AND retried = 0";
  if (f.bridge) where += *f.bridge ? " AND bridge <> 0" : " AND bridge = 0";
  if (!f.scope.empty()) {
    where += " AND status IN (";
    for (size_t i = 0; i < f.scope.size(); ++i) {
      where += i ? ", ?" : "?";
      params.push_back(StatusValue(f.scope[i]));
    }
    where += ")";
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto count = db_->Query("SELECT COUNT(*) FROM jobs" + where, params);
  if (!count.ok()) return count.status();
  int64_t per_page = std::clamp(f.per_page, 1, 100);
  int64_t page = std::max(f.page, 1);
  params.push_back(per_page);
  params.push_back((page - 1) * per_page);
  auto rows = db_->Query(kSelectJob + where + order + " LIMIT ? OFFSET ?", params);
  if (!rows.ok()) return rows.status();
  Page<JobRecord> out;
  out.total = count->at(0).Int(0);
  for (const SqlRow& row : *rows) out.items.push_back(JobFromRow(row));
  return out;
}

StatusOr<JobRecord> SqlStore::SetJobStatusLocked(const JobRecord& job, const JobUpdate& update,
                                                 int64_t now) {
  bool following = update.follow_downstream && job.bridge;
  if (!following && !JobTransitionAllowed(job.status, update.status)) {
    return Status::Error(JobLabel(job) + ": cannot change status from " + CiStatusName(job.status) +
                         " to " + CiStatusName(update.status));
  }
  JobRecord j = job;
  j.status = update.status;
  if (update.status == CiStatus::kPending) j.queued_at = now;
  if (update.status == CiStatus::kRunning) j.started_at = now;
  if (following && !IsFinished(update.status)) {
    j.finished_at.reset();
    j.duration_ms.reset();
  }
  if (IsFinished(update.status)) {
    j.finished_at = now;
    if (j.started_at) j.duration_ms = now - *j.started_at;
  }
  if (update.exit_code) j.exit_code = update.exit_code;
  if (update.failure_reason) j.failure_reason = *update.failure_reason;
  if (update.runner) j.runner = *update.runner;
  if (update.image) j.image = *update.image;
  if (update.image_digest) j.image_digest = *update.image_digest;
  if (update.allow_failure) j.allow_failure = *update.allow_failure;
  auto rows = db_->Query(
      "UPDATE jobs SET status = ?, queued_at = ?, started_at = ?, finished_at = ?, "
      "duration_ms = ?, exit_code = ?, failure_reason = ?, runner = ?, runner_id = ?, "
      "runner_tags = ?, allow_failure = ?, image = ?, image_digest = ? WHERE id = ?",
      {StatusValue(j.status), OptionalValue(j.queued_at), OptionalValue(j.started_at),
       OptionalValue(j.finished_at), OptionalValue(j.duration_ms),
       j.exit_code ? SqlValue(static_cast<int64_t>(*j.exit_code)) : SqlValue(), j.failure_reason,
       j.runner.description, j.runner.id != 0 ? SqlValue(j.runner.id) : SqlValue(),
       StringsToJson(j.runner.tags), BoolValue(j.allow_failure), j.image, j.image_digest, j.id});
  if (!rows.ok()) return rows.status();
  return j;
}

StatusOr<JobRecord> SqlStore::FindJobLocked(int64_t id) {
  auto job = GetJobLocked(id);
  if (!job.ok()) return job.status();
  if (!job->has_value()) return Status::Error("job " + std::to_string(id) + " not found");
  return **job;
}

StatusOr<JobRecord> SqlStore::UpdateJob(int64_t id, const JobUpdate& update) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  auto job = FindJobLocked(id);
  if (!job.ok()) return job;
  auto updated = SetJobStatusLocked(*job, update, Now());
  if (!updated.ok()) return updated;
  if (Status s = txn.Commit(); !s.ok()) return s;
  return updated;
}

StatusOr<JobRecord> SqlStore::RetryJob(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  auto job = FindJobLocked(id);
  if (!job.ok()) return job;
  const JobRecord& old = *job;
  if (old.retried) return Status::Error(JobLabel(old) + " has already been retried");
  if (!IsFinished(old.status)) {
    return Status::Error(JobLabel(old) + " cannot be retried while " + CiStatusName(old.status));
  }
  auto marked = db_->Query("UPDATE jobs SET retried = 1 WHERE id = ?", {id});
  if (!marked.ok()) return marked.status();
  JobRecord next = old;
  next.status = CiStatus::kCreated;
  next.retry_count = old.retry_count + 1;
  auto inserted = InsertJobLocked(next, old.pipeline_id, Now());
  if (!inserted.ok()) return inserted;
  if (Status s = txn.Commit(); !s.ok()) return s;
  return inserted;
}

// ---- logs

StatusOr<int64_t> SqlStore::AppendLog(int64_t job_id, std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(db_.get());
  if (Status s = txn.Begin(); !s.ok()) return s;
  int64_t size = static_cast<int64_t>(bytes.size());
  // Growing log_size first takes the job's row lock, so concurrent appenders
  // (even from other processes) get consecutive, non-overlapping offsets.
  auto grown = db_->Query("UPDATE jobs SET log_size = log_size + ? WHERE id = ? RETURNING log_size",
                          {size, job_id});
  if (!grown.ok()) return grown.status();
  if (grown->empty()) return Status::Error("job " + std::to_string(job_id) + " not found");
  int64_t new_size = grown->at(0).Int(0);
  if (size == 0) return new_size;  // Nothing written: the rollback is harmless.
  auto inserted =
      db_->Query("INSERT INTO job_log_chunks (job_id, byte_offset, size, data) VALUES (?, ?, ?, ?)",
                 {job_id, new_size - size, size, SqlValue::Blob(std::string(bytes))});
  if (!inserted.ok()) return inserted.status();
  if (Status s = txn.Commit(); !s.ok()) return s;
  NoticeLogLocked(job_id);
  return new_size;
}

StatusOr<LogSlice> SqlStore::ReadLog(int64_t job_id, int64_t offset, int64_t max_bytes) {
  if (offset < 0) return Status::Error("log offset must not be negative");
  if (max_bytes <= 0) return Status::Error("log read size must be positive");
  std::lock_guard<std::mutex> lock(mu_);
  auto size_row = db_->Query("SELECT log_size FROM jobs WHERE id = ?", {job_id});
  if (!size_row.ok()) return size_row.status();
  if (size_row->empty()) return Status::Error("job " + std::to_string(job_id) + " not found");
  LogSlice slice;
  slice.total_size = size_row->at(0).Int(0);
  slice.offset = std::min(offset, slice.total_size);
  int64_t end = slice.offset + std::min(max_bytes, slice.total_size - slice.offset);
  if (end == slice.offset) return slice;
  // Two index seeks: the chunk holding `offset`, then the chunks up to `end`.
  auto first = db_->Query(
      "SELECT MAX(byte_offset) FROM job_log_chunks WHERE job_id = ? AND byte_offset <= ?",
      {job_id, slice.offset});
  if (!first.ok()) return first.status();
  int64_t start = first->at(0).Int(0);
  auto chunks = db_->Query(
      "SELECT byte_offset, data FROM job_log_chunks WHERE job_id = ? AND byte_offset >= ? "
      "AND byte_offset < ? ORDER BY byte_offset",
      {job_id, start, end});
  if (!chunks.ok()) return chunks.status();
  slice.bytes.reserve(end - slice.offset);
  for (const SqlRow& row : *chunks) {
    int64_t at = row.Int(0);
    std::string data = row.Text(1);
    int64_t from = std::max(slice.offset, at);
    int64_t to = std::min(end, at + static_cast<int64_t>(data.size()));
    if (from < to) slice.bytes.append(data, from - at, to - from);
  }
  return slice;
}

// ---- artifacts

Status SqlStore::AddArtifact(const ArtifactRecord& a) {
  if (a.path.empty()) return Status::Error("artifact path must not be empty");
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query(
          "INSERT INTO artifacts (job_id, path, file_type, size, sha256, filename, file_format, "
          "expire_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (job_id, path) DO UPDATE SET file_type = excluded.file_type, "
          "size = excluded.size, sha256 = excluded.sha256, filename = excluded.filename, "
          "file_format = excluded.file_format, expire_at = excluded.expire_at",
          {a.job_id, a.path, a.file_type, a.size, a.sha256, a.filename, a.file_format,
           OptionalValue(a.expire_at)})
      .status();
}

StatusOr<std::vector<ArtifactRecord>> SqlStore::ListArtifacts(int64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(
      db_.get(),
      std::string("SELECT ") + kArtifactColumns + " FROM artifacts WHERE job_id = ? ORDER BY path",
      {job_id}, ArtifactFromRow);
}

Status SqlStore::DeleteArtifacts(int64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->Query("DELETE FROM artifacts WHERE job_id = ?", {job_id}).status();
}

Status SqlStore::SetArtifactsExpireAt(int64_t job_id, std::optional<int64_t> expire_at) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query("UPDATE artifacts SET expire_at = ? WHERE job_id = ?",
              {OptionalValue(expire_at), job_id})
      .status();
}

StatusOr<std::vector<int64_t>> SqlStore::JobsWithExpiredArtifacts(int64_t now_ms,
                                                                  int64_t before_job_id,
                                                                  int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(
      db_.get(),
      "SELECT DISTINCT job_id FROM artifacts WHERE expire_at IS NOT NULL AND "
      "expire_at <= ? AND job_id < ? ORDER BY job_id DESC LIMIT ?",
      {now_ms, before_job_id, static_cast<int64_t>(limit)},
      +[](const SqlRow& row) { return row.Int(0); });
}

// ---- coverage

Status SqlStore::SetJobCoverage(int64_t job_id, const std::string& coverage) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_
      ->Query(
          "INSERT INTO job_coverage (job_id, coverage) VALUES (?, ?) "
          "ON CONFLICT (job_id) DO UPDATE SET coverage = excluded.coverage",
          {job_id, coverage})
      .status();
}

StatusOr<std::vector<JobCoverage>> SqlStore::ListJobCoverage(int64_t pipeline_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(
      db_.get(),
      "SELECT c.job_id, c.coverage, j.retried FROM job_coverage c "
      "JOIN jobs j ON j.id = c.job_id WHERE j.pipeline_id = ? ORDER BY c.job_id",
      {pipeline_id}, +[](const SqlRow& row) {
        return JobCoverage{row.Int(0), row.Text(1), row.Int(2) != 0};
      });
}

StatusOr<std::vector<StageJobStatus>> SqlStore::ListStageJobStatuses(
    const std::vector<int64_t>& pipeline_ids) {
  if (pipeline_ids.empty()) return std::vector<StageJobStatus>();
  if (pipeline_ids.size() > 100) return Status::Error("at most 100 pipelines at once");
  std::string sql =
      "SELECT pipeline_id, stage, stage_idx, status, allow_failure FROM jobs "
      "WHERE retried = 0 AND pipeline_id IN (";
  std::vector<SqlValue> params;
  for (int64_t id : pipeline_ids) {
    sql += params.empty() ? "?" : ", ?";
    params.push_back(id);
  }
  sql += ") ORDER BY pipeline_id, stage_idx, id";
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(
      db_.get(), sql, params, +[](const SqlRow& row) {
        return StageJobStatus{row.Int(0), row.Text(1), static_cast<int>(row.Int(2)),
                              ParseCiStatus(row.Text(3)).value_or(CiStatus::kCreated),
                              row.Int(4) != 0};
      });
}

}  // namespace slipway
