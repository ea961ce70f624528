#include "server/run_recorder.h"

#include <algorithm>
#include <chrono>

#include "exec/coverage.h"
#include "util/duration.h"
#include "util/logger.h"

namespace slipway {

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
    r.bridge = job.trigger.has_value();
    r.resource_group = job.resource_group;  // Its variables are the caller's to expand.
    if (job.needs) {
      for (const Need& need : *job.needs) r.needs.push_back(need.job);
    }
    records.push_back(std::move(r));
  }
  return records;
}

StatusOr<std::vector<JobRecord>> LatestJobRecords(Store* store, int64_t pipeline_id) {
  JobFilter filter;
  filter.pipeline_id = pipeline_id;
  filter.per_page = 100;
  std::vector<JobRecord> jobs;
  for (filter.page = 1;; ++filter.page) {
    auto page = store->ListJobs(filter);
    if (!page.ok()) return page.status();
    jobs.insert(jobs.end(), page->items.begin(), page->items.end());
    if (page->items.empty() || static_cast<int64_t>(jobs.size()) >= page->total) break;
  }
  return jobs;
}

StatusOr<std::unique_ptr<RunRecorder>> RunRecorder::Start(Store* store, const PipelineRecord& draft,
                                                          const Pipeline& pipeline, LogSink* next) {
  auto stored = store->CreatePipeline(draft, JobRecordsFor(pipeline));
  if (!stored.ok()) return stored.status();
  StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store, stored->id);
  if (!jobs.ok()) return jobs.status();
  return std::make_unique<RunRecorder>(store, *stored, *jobs, next);
}

RunRecorder::RunRecorder(Store* store, PipelineRecord pipeline, const std::vector<JobRecord>& jobs,
                         LogSink* next)
    : store_(store),
      next_(next),
      pipeline_id_(pipeline.id),
      project_id_(pipeline.project_id),
      pipeline_status_(pipeline.status),
      ref_(pipeline.ref),
      sha_(pipeline.sha) {
  for (const JobRecord& job : jobs) jobs_[job.name] = job;
}

void RunRecorder::KeepError(const Status& s) {
  if (!s.ok() && first_error_.ok()) first_error_ = s;
}

Status RunRecorder::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

std::optional<JobRecord> RunRecorder::Job(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(name);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

StatusOr<CiStatus> RunRecorder::FinishComposite() {
  std::lock_guard<std::mutex> lock(mu_);
  if (detached_) return pipeline_status_;
  std::vector<StatusEntry> entries;
  for (const auto& [name, job] : jobs_) entries.push_back({job.status, job.allow_failure});
  CiStatus status = CompositeStatus(entries);
  auto updated = store_->UpdatePipelineStatus(pipeline_id_, status);
  KeepError(updated.status());
  if (updated.ok() && pipeline_status_ != status) LogPipelineStatus(status);
  if (updated.ok()) pipeline_status_ = status;
  if (!first_error_.ok()) return first_error_;
  return status;
}

int64_t RunRecorder::JobId(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(name);
  return it == jobs_.end() ? 0 : it->second.id;
}

namespace {

// GitLab's artifacts_expire_at: the upload's time (the job's end) plus
// artifacts:expire_in; none without one, with "never", or with one that
// does not parse (lint rejects those; a job left with one keeps its files).
std::optional<int64_t> ArtifactsExpireAt(const JobRun& run) {
  if (run.job == nullptr || !run.finished_at) return std::nullopt;
  StatusOr<std::optional<int64_t>> seconds = ParseExpireIn(run.job->artifacts.expire_in);
  if (run.job->artifacts.expire_in.empty() || !seconds.ok() || !*seconds) return std::nullopt;
  int64_t end_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(run.finished_at->time_since_epoch())
          .count();
  return end_ms + **seconds * 1000;
}

}  // namespace

void RunRecorder::MoveLocked(JobRecord* job, CiStatus to, const JobRun& run,
                             const JobRunner* runner) {
  if (job->status == to) return;
  if (!JobTransitionAllowed(job->status, to) &&
      JobTransitionAllowed(job->status, CiStatus::kPending) &&
      JobTransitionAllowed(CiStatus::kPending, to)) {
    MoveLocked(job, CiStatus::kPending, run);
  }
  if (IsFinished(to)) {
    // Before the final status, so that whoever sees the job finished sees
    // its artifacts too.
    std::optional<int64_t> expire_at = ArtifactsExpireAt(run);
    for (const JobArtifact& a : run.artifacts) {
      ArtifactRecord record;
      record.job_id = job->id;
      record.path = a.path;
      record.file_type = a.file_type;
      record.size = a.size;
      record.filename = a.filename;
      record.file_format = a.file_format;
      record.expire_at = expire_at;
      KeepError(store_->AddArtifact(record));
    }
  }
  if ((to == CiStatus::kSuccess || to == CiStatus::kFailed) && run.job != nullptr &&
      !run.job->coverage.empty()) {
    RecordCoverageLocked(*job, run.job->coverage);
  }
  JobUpdate update;
  update.status = to;
  if (IsFinished(to)) {
    update.exit_code = run.exit_code;
    update.image = run.image;
    update.image_digest = run.image_digest;
  }
  if (to == CiStatus::kFailed) update.failure_reason = run.failure_reason;
  if (runner != nullptr) update.runner = *runner;
  // The scheduler knows the effective allow_failure once it queued the job:
  // for a failed run it includes `allow_failure:exit_codes`, and a new
  // attempt (a retry copies the row) starts again from the job's own value.
  if (to == CiStatus::kPending || to == CiStatus::kRunning || to == CiStatus::kSuccess ||
      to == CiStatus::kFailed) {
    update.allow_failure = run.allow_failure;
  }
  auto updated = store_->UpdateJob(job->id, update);
  KeepError(updated.status());
  if (!updated.ok()) return;
  *job = std::move(*updated);
  {
    LogLine line(to == CiStatus::kFailed && !job->allow_failure ? LogLevel::kWarn : LogLevel::kInfo,
                 "job_status");
    line.Int("project_id", project_id_)
        .Int("pipeline_id", pipeline_id_)
        .Int("job_id", job->id)
        .Str("job_name", job->name)
        .Str("status", CiStatusName(to));
    if (update.failure_reason) line.Str("failure_reason", *update.failure_reason);
  }
  RecordDeploymentLocked(*job, to, run);
  if ((IsFinished(to) || to == CiStatus::kSkipped) && on_finished_) on_finished_(job->id);
}

void RunRecorder::RecordCoverageLocked(const JobRecord& job, const std::string& pattern) {
  // The job's coverage: as lint checked it, between slashes, without flags.
  std::string error;
  std::shared_ptr<const RubyRegexp> regexp = RubyRegexp::Parse("/" + pattern + "/", &error);
  if (regexp == nullptr) return;
  StatusOr<LogSlice> log = store_->ReadLog(job.id, 0, kMaxCoverageLogBytes);
  if (!log.ok()) return KeepError(log.status());
  if (std::optional<std::string> coverage = CoverageInLog(log->bytes, *regexp)) {
    KeepError(store_->SetJobCoverage(job.id, *coverage));
  }
}

void RunRecorder::RecordDeploymentLocked(const JobRecord& job, CiStatus to, const JobRun& run) {
  const JobRun::Environment& env = run.environment;
  if (env.name.empty()) return;
  if (env.action == "stop") {
    // GitLab's stop job: the environment is stopping while it runs, stopped
    // once it succeeded, available again if it did not.
    const char* state = to == CiStatus::kRunning   ? "stopping"
                        : to == CiStatus::kSuccess ? "stopped"
                        : IsFinished(to)           ? "available"
                                                   : nullptr;
    if (state != nullptr) {
      KeepError(store_->SetEnvironmentState(project_id_, env.name, state).status());
    }
    return;
  }
  if (env.action != "start" && !env.action.empty()) return;
  auto known = deployments_.find(job.id);
  if (known == deployments_.end()) {
    // A run resumed after a restart finds the deployment its job made.
    StatusOr<std::optional<DeploymentRecord>> stored = store_->DeploymentOfJob(job.id);
    KeepError(stored.status());
    if (stored.ok() && *stored) known = deployments_.emplace(job.id, (*stored)->id).first;
  }
  if (known == deployments_.end()) {
    if (to != CiStatus::kRunning) return;  // A deployment starts when its job does.
    EnvironmentRecord environment;
    environment.project_id = project_id_;
    environment.name = env.name;
    environment.external_url = env.url;
    environment.tier = env.tier.empty() ? "other" : env.tier;
    StatusOr<EnvironmentRecord> saved = store_->SaveEnvironment(environment);
    KeepError(saved.status());
    if (!saved.ok()) return;
    DeploymentRecord deployment;
    deployment.project_id = project_id_;
    deployment.environment_id = saved->id;
    deployment.pipeline_id = pipeline_id_;
    deployment.job_id = job.id;
    deployment.ref = ref_;
    deployment.sha = sha_;
    deployment.status = "running";
    deployment.on_stop = env.on_stop;
    StatusOr<DeploymentRecord> created = store_->CreateDeployment(deployment);
    KeepError(created.status());
    if (created.ok()) deployments_[job.id] = created->id;
    return;
  }
  // A deployment made before its job ran (a rollback, service_rollback.cc)
  // starts running with it.
  const char* status = to == CiStatus::kSuccess    ? "success"
                       : to == CiStatus::kFailed   ? "failed"
                       : to == CiStatus::kCanceled ? "canceled"
                       : to == CiStatus::kRunning  ? "running"
                                                   : nullptr;
  if (status == nullptr) return;
  if (!run.checks.empty() && to != CiStatus::kRunning) {
    KeepError(store_->SetDeploymentChecks(known->second, CheckResultsJson(run.checks)).status());
  }
  StatusOr<DeploymentRecord> moved = store_->SetDeploymentStatus(known->second, status);
  KeepError(moved.status());
  if (moved.ok() && to == CiStatus::kSuccess) {
    // GitLab's auto_stop_at follows the last successful deployment: its
    // auto_stop_in, or never when it has none ("never" too). The job's
    // auto_stop_in was checked by lint; one that still fails to parse
    // (a variable) leaves the environment without a stop time.
    std::optional<int64_t> in_seconds;
    if (!env.auto_stop_in.empty() && env.auto_stop_in != "never") {
      StatusOr<int64_t> parsed = ParseDuration(env.auto_stop_in);
      if (parsed.ok()) in_seconds = *parsed;
    }
    KeepError(store_->SetEnvironmentAutoStop(moved->environment_id, in_seconds).status());
  }
  if (moved.ok() && to != CiStatus::kRunning && on_deployment_) on_deployment_(*moved, run);
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
  if (updated.ok()) LogPipelineStatus(next);
  if (updated.ok()) pipeline_status_ = next;
}

void RunRecorder::LogPipelineStatus(CiStatus status) const {
  LogLine(status == CiStatus::kFailed ? LogLevel::kWarn : LogLevel::kInfo, "pipeline_status")
      .Int("project_id", project_id_)
      .Int("pipeline_id", pipeline_id_)
      .Str("ref", ref_)
      .Str("sha", sha_)
      .Str("status", CiStatusName(status));
}

void RunRecorder::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  detached_ = true;
}

void RunRecorder::OnJobUpdate(const JobRun& run) {
  std::lock_guard<std::mutex> lock(mu_);
  if (detached_) return;
  auto it = jobs_.find(run.job->name);
  if (it == jobs_.end()) {
    KeepError(Status::Error("job '" + run.job->name + "' is not in pipeline " +
                            std::to_string(pipeline_id_)));
    return;
  }
  JobRecord& job = it->second;
  if (run.retries > job.retry_count) {
    // The scheduler retries without reporting the failed attempt: close it
    // with that attempt's result, then continue on a new row. (A retry
    // asked for by a user comes after the attempt finished.)
    if (!IsFinished(job.status)) MoveLocked(&job, CiStatus::kFailed, run);
    auto retry = store_->RetryJob(job.id);
    KeepError(retry.status());
    if (retry.ok()) job = std::move(*retry);
  }
  CiStatus to = run.status;
  if (to == CiStatus::kRunning && start_on_lease_ && !run.job->trigger) {
    awaiting_runner_.insert_or_assign(run.job->name, run);
    to = CiStatus::kPending;  // Until Leased.
  } else {
    awaiting_runner_.erase(run.job->name);
  }
  MoveLocked(&job, to, run);
  UpdatePipelineLocked(to);
}

void RunRecorder::Leased(int64_t job_id, const JobRunner& runner) {
  std::lock_guard<std::mutex> lock(mu_);
  if (detached_) return;
  for (auto it = awaiting_runner_.begin(); it != awaiting_runner_.end(); ++it) {
    JobRecord& job = jobs_[it->first];
    if (job.id != job_id) continue;
    MoveLocked(&job, CiStatus::kRunning, it->second, &runner);
    UpdatePipelineLocked(CiStatus::kRunning);
    awaiting_runner_.erase(it);
    return;
  }
}

void RunRecorder::Write(std::string_view job_name, std::string_view bytes) {
  Status s = WriteChecked(job_name, bytes);
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!detached_) KeepError(s);
  }
}

Status RunRecorder::WriteChecked(std::string_view job_name, std::string_view bytes) {
  if (next_ != nullptr) next_->Write(job_name, bytes);
  int64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (detached_) return Status::Error("the server is stopping: the log is not stored");
    auto it = jobs_.find(std::string(job_name));
    if (it != jobs_.end()) id = it->second.id;
  }
  if (id == 0) return Status::Error("log for unknown job '" + std::string(job_name) + "'");
  StatusOr<int64_t> size = store_->AppendLog(id, bytes);
  if (!size.ok()) return size.status();
  if (on_log_) on_log_(id, *size - static_cast<int64_t>(bytes.size()), bytes);
  return Status::Ok();
}

Status RunRecorder::Finish(const RunResult& result) {
  CiStatus final_status = result.status;
  auto updated = store_->UpdatePipelineStatus(pipeline_id_, final_status);
  std::lock_guard<std::mutex> lock(mu_);
  KeepError(updated.status());
  if (updated.ok() && pipeline_status_ != final_status) LogPipelineStatus(final_status);
  if (updated.ok()) pipeline_status_ = final_status;
  return first_error_;
}

}  // namespace slipway
