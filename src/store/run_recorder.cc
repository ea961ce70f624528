#include "store/run_recorder.h"

#include <algorithm>

namespace slipway {
namespace {

CiStatus ToCiStatus(JobStatus s) {
  // JobStatus names are a subset of GitLab's, spelled the same.
  return ParseCiStatus(JobStatusName(s)).value_or(CiStatus::kCreated);
}

}  // namespace

std::vector<JobRecord> JobRecordsFor(const Pipeline& pipeline) {
  std::vector<JobRecord> records;
  records.reserve(pipeline.jobs.size());
  for (const Job& job : pipeline.jobs) {
    JobRecord r;
    r.name = job.name;
    r.stage = job.stage;
    auto stage = std::find(pipeline.stages.begin(), pipeline.stages.end(), job.stage);
    r.stage_idx = static_cast<int>(stage - pipeline.stages.begin());
    r.when = WhenName(job.when);
    r.allow_failure = job.allow_failure.value;
    if (job.needs) {
      for (const Need& need : *job.needs) r.needs.push_back(need.job);
    }
    records.push_back(std::move(r));
  }
  return records;
}

StatusOr<std::unique_ptr<RunRecorder>> RunRecorder::Start(Store* store,
                                                          const PipelineRecord& draft,
                                                          const Pipeline& pipeline,
                                                          LogSink* next) {
  auto stored = store->CreatePipeline(draft, JobRecordsFor(pipeline));
  if (!stored.ok()) return stored.status();
  JobFilter filter;
  filter.pipeline_id = stored->id;
  filter.per_page = 100;
  std::vector<JobRecord> jobs;
  for (filter.page = 1;; ++filter.page) {
    auto page = store->ListJobs(filter);
    if (!page.ok()) return page.status();
    jobs.insert(jobs.end(), page->items.begin(), page->items.end());
    if (page->items.empty() || static_cast<int64_t>(jobs.size()) >= page->total) break;
  }
  return std::make_unique<RunRecorder>(store, *stored, jobs, next);
}

RunRecorder::RunRecorder(Store* store, PipelineRecord pipeline, const std::vector<JobRecord>& jobs,
                         LogSink* next)
    : store_(store), next_(next), pipeline_id_(pipeline.id), pipeline_status_(pipeline.status) {
  for (const JobRecord& job : jobs) jobs_[job.name] = job;
}

void RunRecorder::KeepError(const Status& s) {
  if (!s.ok() && first_error_.ok()) first_error_ = s;
}

Status RunRecorder::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

int64_t RunRecorder::JobId(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(name);
  return it == jobs_.end() ? 0 : it->second.id;
}

void RunRecorder::MoveLocked(JobRecord* job, CiStatus to, const JobRun& run) {
  if (job->status == to) return;
  if (!JobTransitionAllowed(job->status, to) &&
      JobTransitionAllowed(job->status, CiStatus::kPending) &&
      JobTransitionAllowed(CiStatus::kPending, to)) {
    MoveLocked(job, CiStatus::kPending, run);
  }
  JobUpdate update;
  update.status = to;
  if (IsFinished(to)) update.exit_code = run.exit_code;
  if (to == CiStatus::kFailed) update.failure_reason = run.failure_reason;
  auto updated = store_->UpdateJob(job->id, update);
  KeepError(updated.status());
  if (updated.ok()) *job = std::move(*updated);
}

void RunRecorder::UpdatePipelineLocked(CiStatus job_status) {
  CiStatus next = pipeline_status_;
  if (job_status == CiStatus::kRunning) next = CiStatus::kRunning;
  if (job_status == CiStatus::kPending && pipeline_status_ == CiStatus::kCreated) {
    next = CiStatus::kPending;
  }
  if (next == pipeline_status_) return;
  auto updated = store_->UpdatePipelineStatus(pipeline_id_, next);
  KeepError(updated.status());
  if (updated.ok()) pipeline_status_ = next;
}

void RunRecorder::OnJobUpdate(const JobRun& run) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(run.job->name);
  if (it == jobs_.end()) {
    KeepError(Status::Error("job '" + run.job->name + "' is not in pipeline " +
                            std::to_string(pipeline_id_)));
    return;
  }
  JobRecord& job = it->second;
  if (run.retries > job.retry_count) {
    // The scheduler retries without reporting the failed attempt: close it
    // with that attempt's result, then continue on a new row.
    MoveLocked(&job, CiStatus::kFailed, run);
    auto retry = store_->RetryJob(job.id);
    KeepError(retry.status());
    if (retry.ok()) job = std::move(*retry);
  }
  CiStatus to = ToCiStatus(run.status);
  MoveLocked(&job, to, run);
  UpdatePipelineLocked(to);
}

void RunRecorder::Write(std::string_view job_name, std::string_view bytes) {
  if (next_ != nullptr) next_->Write(job_name, bytes);
  int64_t id = JobId(std::string(job_name));
  Status s = id == 0 ? Status::Error("log for unknown job '" + std::string(job_name) + "'")
                     : store_->AppendLog(id, bytes).status();
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    KeepError(s);
  }
}

Status RunRecorder::Finish(const RunResult& result) {
  CiStatus final_status = ParseCiStatus(PipelineStatusName(result.status)).value_or(CiStatus::kFailed);
  auto updated = store_->UpdatePipelineStatus(pipeline_id_, final_status);
  std::lock_guard<std::mutex> lock(mu_);
  KeepError(updated.status());
  if (updated.ok()) pipeline_status_ = final_status;
  return first_error_;
}

}  // namespace slipway
