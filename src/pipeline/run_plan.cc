#include "pipeline/run_plan.h"

#include <algorithm>

#include "util/duration.h"

namespace slipway {
namespace {

bool WhenAccepts(When when, CiStatus previous, bool dag) {
  switch (when) {
    case When::kOnSuccess:
    case When::kManual:
    case When::kDelayed:
      return previous == CiStatus::kSuccess || (!dag && previous == CiStatus::kSkipped);
    case When::kOnFailure:
      return previous == CiStatus::kFailed;
    case When::kAlways:
      return previous != CiStatus::kCanceled;
    case When::kNever:
      return false;
  }
  return false;
}

// `start_in` of a delayed job. The builder has validated it; anything
// unreadable counts as no delay.
std::chrono::seconds StartInDelay(std::string_view text) {
  StatusOr<int64_t> seconds = ParseDuration(text);
  return std::chrono::seconds(seconds.ok() ? *seconds : 0);
}

bool Contains(const std::vector<int>& codes, int code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

StatusOr<RunPlan> RunPlan::Create(const Pipeline& pipeline,
                                  const std::vector<std::string>& selected) {
  const std::vector<Job>& jobs = pipeline.jobs;
  JobGraph all = JobGraph::FromJobs(jobs, pipeline.stages);
  for (int i = 0; i < all.size(); ++i) {
    if (all.stage(i) < 0) {
      return Status::Error("job '" + jobs[i].name + "': stage '" + jobs[i].stage +
                           "' is not one of the pipeline's stages");
    }
  }
  // Which jobs run, and which manual jobs are played.
  std::vector<bool> chosen(jobs.size(), selected.empty());
  std::vector<bool> play(jobs.size(), false);
  std::vector<int> stack;
  for (const std::string& name : selected) {
    int i = all.Find(name);
    if (i < 0) return Status::Error("job '" + name + "' is not in the pipeline");
    play[i] = true;
    if (!chosen[i]) stack.push_back(i);
    chosen[i] = true;
  }
  // Stage jobs pull in every earlier stage; remember the deepest stage so
  // that each earlier job is added once.
  int stages_pulled = 0;
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    if (all.dag(i)) {
      for (int need : all.needs(i)) {
        play[need] = true;
        if (!chosen[need]) {
          chosen[need] = true;
          stack.push_back(need);
        }
      }
    } else if (all.stage(i) > stages_pulled) {
      stages_pulled = all.stage(i);
      for (int k = 0; k < all.size(); ++k) {
        if (all.stage(k) < stages_pulled && !chosen[k]) {
          chosen[k] = true;
          stack.push_back(k);
        }
      }
    }
  }
  if (selected.empty()) {
    std::vector<PlanJob> plan_jobs(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      plan_jobs[i].job = &jobs[i];
      plan_jobs[i].pipeline_index = static_cast<int>(i);
    }
    return RunPlan(pipeline, std::move(all), std::move(plan_jobs));
  }
  std::vector<PlanJob> plan_jobs;
  std::vector<Job> chosen_jobs;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!chosen[i]) continue;
    PlanJob job;
    job.job = &jobs[i];
    job.pipeline_index = static_cast<int>(i);
    job.play = play[i];
    plan_jobs.push_back(job);
  }
  // The graph of the chosen jobs: needs of jobs left out are not waited for.
  std::vector<GraphJob> graph_jobs;
  for (const PlanJob& job : plan_jobs) {
    int i = job.pipeline_index;
    GraphJob g{all.name(i), all.stage(i), std::nullopt};
    if (all.dag(i)) {
      g.needs.emplace();
      for (int need : all.needs(i)) g.needs->push_back(all.name(need));
    }
    graph_jobs.push_back(std::move(g));
  }
  return RunPlan(pipeline, JobGraph(std::move(graph_jobs)), std::move(plan_jobs));
}

RunPlan::RunPlan(const Pipeline& pipeline, JobGraph graph, std::vector<PlanJob> jobs)
    : graph_(std::move(graph)), jobs_(std::move(jobs)) {
  size_t stages = pipeline.stages.size();
  stage_jobs_.assign(stages, {});
  stage_incomplete_.assign(stages, 0);
  stage_seen_.assign(stages, {});
  for (int i = 0; i < size(); ++i) {
    if (!graph_.dag(i)) stage_jobs_[graph_.stage(i)].push_back(i);
  }
}

bool RunPlan::Resume(int i, CiStatus status, bool allow_failure, int retries, bool played) {
  PlanJob& job = jobs_[i];
  job.retries = retries;
  job.play |= played;
  if (!slipway::IsCompleted(status)) return false;
  job.status = status;
  job.allow_failure = allow_failure;
  return true;
}

bool RunPlan::IsCompleted(int i) const {
  CiStatus s = jobs_[i].status;
  return slipway::IsCompleted(s) || (s == CiStatus::kManual && jobs_[i].allow_failure);
}

void RunPlan::Start(TimePoint now) {
  now_ = now;
  started_ = true;
  Rebuild();
}

// Derives the processing state (stage counters, needs counters) from the
// jobs' statuses, then processes whatever is ready. Linear in jobs + needs;
// used at the start and after an action changes a job.
void RunPlan::Rebuild() {
  std::fill(stage_incomplete_.begin(), stage_incomplete_.end(), 0);
  std::fill(stage_seen_.begin(), stage_seen_.end(), StatusSet{});
  prefix_seen_ = StatusSet{};
  frontier_ = 0;
  evaluated_ = 0;
  completed_.clear();
  for (int i = 0; i < size(); ++i) {
    PlanJob& job = jobs_[i];
    ++stage_incomplete_[graph_.stage(i)];
    job.needs_seen = StatusSet{};
    job.remaining = static_cast<int>(graph_.needs(i).size());
  }
  for (int i = 0; i < size(); ++i) {
    if (IsCompleted(i)) Complete(i);
  }
  for (int i = 0; i < size(); ++i) {
    if (graph_.dag(i) && jobs_[i].remaining == 0) Process(i);
  }
  AdvanceStages();
  Propagate();
}

void RunPlan::SetStatus(int i, CiStatus status) {
  jobs_[i].status = status;
  if (listener_ != nullptr) listener_->OnStatusChange(i);
}

// Called once the job's predecessors have completed.
void RunPlan::Process(int i) {
  PlanJob& plan_job = jobs_[i];
  if (canceled_ || plan_job.status != CiStatus::kCreated) return;
  const Job& job = *plan_job.job;
  bool dag = graph_.dag(i);
  CiStatus previous =
      (dag ? plan_job.needs_seen : prefix_seen_).Composite(dag).value_or(CiStatus::kSuccess);
  if (!WhenAccepts(job.when, previous, dag)) {
    SetStatus(i, CiStatus::kSkipped);
    Complete(i);
    return;
  }
  plan_job.allow_failure = job.allow_failure.value;
  if (job.when == When::kManual && !plan_job.play) {
    SetStatus(i, CiStatus::kManual);
    // An optional manual job does not hold the pipeline up; a blocking one
    // leaves what follows it waiting.
    if (job.allow_failure.value) Complete(i);
    return;
  }
  if (job.when == When::kDelayed) {
    plan_job.ready_at = now_ + StartInDelay(job.start_in);
    timers_.emplace(plan_job.ready_at, i);
    SetStatus(i, CiStatus::kScheduled);
    return;
  }
  Enqueue(i);
}

// Records that job i reached a completed state; successors learn of it in
// Propagate, so that long chains of skipped jobs do not recurse.
void RunPlan::Complete(int i) { completed_.push_back(i); }

void RunPlan::Propagate() {
  while (!completed_.empty()) {
    int i = completed_.front();
    completed_.pop_front();
    StatusSet seen;
    seen.Add(jobs_[i].status, jobs_[i].allow_failure);
    stage_seen_[graph_.stage(i)].Merge(seen);
    --stage_incomplete_[graph_.stage(i)];
    for (int d : graph_.dependents(i)) {
      jobs_[d].needs_seen.Merge(seen);
      if (--jobs_[d].remaining == 0) Process(d);
    }
    AdvanceStages();
  }
}

void RunPlan::AdvanceStages() {
  size_t stages = stage_jobs_.size();
  while (frontier_ < stages && stage_incomplete_[frontier_] == 0) {
    prefix_seen_.Merge(stage_seen_[frontier_]);
    ++frontier_;
  }
  // Stage jobs of a stage are processed once all earlier stages completed;
  // they keep that stage incomplete, so frontier_ cannot pass them first.
  while (evaluated_ < stages && evaluated_ <= frontier_) {
    for (int j : stage_jobs_[evaluated_]) Process(j);
    ++evaluated_;
  }
}

void RunPlan::Enqueue(int i) {
  const std::string& group_name = jobs_[i].job->resource_group;
  SetStatus(i, gated_ && !group_name.empty() ? CiStatus::kWaitingForResource : CiStatus::kPending);
  if (!group_name.empty()) {
    ResourceGroup& group = groups_[group_name];
    if (group.busy) {
      group.waiting.push_back(i);
      return;
    }
    group.busy = true;
  }
  ready_.push_back(i);
}

void RunPlan::ReleaseResourceGroup(int i) {
  const std::string& group_name = jobs_[i].job->resource_group;
  if (group_name.empty()) return;
  ResourceGroup& group = groups_[group_name];
  if (group.waiting.empty()) {
    group.busy = false;
    return;
  }
  ready_.push_back(group.waiting.front());
  group.waiting.pop_front();
}

std::optional<int> RunPlan::NextReady() {
  if (canceled_ || ready_.empty()) return std::nullopt;
  int i = ready_.front();
  ready_.pop_front();
  return i;
}

void RunPlan::Hold(int i) {
  if (std::find(held_.begin(), held_.end(), i) == held_.end()) held_.push_back(i);
}

void RunPlan::Grant(int i) {
  held_.erase(std::remove(held_.begin(), held_.end(), i), held_.end());
  SetStatus(i, CiStatus::kPending);
}

void RunPlan::Running(int i) {
  held_.erase(std::remove(held_.begin(), held_.end(), i), held_.end());
  SetStatus(i, CiStatus::kRunning);
}

bool RunPlan::RetryAllowed(int i, int exit_code, std::string_view failure_reason) const {
  const slipway::Retry& retry = jobs_[i].job->retry;
  if (jobs_[i].retries >= retry.max) return false;
  bool reason_ok = retry.when.empty();
  for (const std::string& w : retry.when) reason_ok |= w == "always" || w == failure_reason;
  bool code_ok = retry.exit_codes.empty() || Contains(retry.exit_codes, exit_code);
  return reason_ok && code_ok;
}

bool RunPlan::Finished(int i, CiStatus outcome, int exit_code, std::string_view failure_reason,
                       bool may_retry, TimePoint now) {
  now_ = now;
  PlanJob& job = jobs_[i];
  ReleaseResourceGroup(i);
  if (outcome == CiStatus::kFailed) {
    if (may_retry && RetryAllowed(i, exit_code, failure_reason)) {
      ++job.retries;
      Enqueue(i);
      return true;
    }
    job.allow_failure =
        job.job->allow_failure.value || Contains(job.job->allow_failure.exit_codes, exit_code);
  }
  SetStatus(i, outcome);
  Complete(i);
  Propagate();
  return false;
}

std::optional<RunPlan::TimePoint> RunPlan::NextWakeup() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

void RunPlan::AdvanceTime(TimePoint now) {
  now_ = now;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    int i = timers_.begin()->second;
    timers_.erase(timers_.begin());
    Enqueue(i);
  }
}

bool RunPlan::Idle() const {
  return canceled_ || (timers_.empty() && ready_.empty() && held_.empty());
}

void RunPlan::Cancel() {
  if (canceled_) return;
  canceled_ = true;
  ready_.clear();
  groups_.clear();
  timers_.clear();
  held_.clear();
  for (int i = 0; i < size(); ++i) {
    CiStatus s = jobs_[i].status;
    if (s == CiStatus::kCreated || s == CiStatus::kPending || s == CiStatus::kScheduled ||
        s == CiStatus::kWaitingForResource) {
      SetStatus(i, CiStatus::kCanceled);
    }
  }
}

Status RunPlan::CheckAction() const {
  if (!started_) return Status::Error("the pipeline is not running");
  if (canceled_) return Status::Error("the pipeline is being canceled");
  return Status::Ok();
}

// GitLab's ResetSkippedJobsService: skipped jobs that wait for i are
// processed again.
void RunPlan::ResetSkippedWaitingFor(int i) {
  std::vector<bool> waiting = graph_.WaitingFor({i});
  for (int n = 0; n < size(); ++n) {
    if (waiting[n] && jobs_[n].status == CiStatus::kSkipped) SetStatus(n, CiStatus::kCreated);
  }
}

Status RunPlan::Play(int i, TimePoint now) {
  if (Status s = CheckAction(); !s.ok()) return s;
  if (!JobPlayable(jobs_[i].status)) {
    return Status::Error("job '" + jobs_[i].job->name +
                         "' is not a manual job waiting to be played");
  }
  now_ = now;
  jobs_[i].play = true;
  SetStatus(i, CiStatus::kCreated);
  ResetSkippedWaitingFor(i);
  Rebuild();
  return Status::Ok();
}

Status RunPlan::Retry(int i, TimePoint now) {
  if (Status s = CheckAction(); !s.ok()) return s;
  PlanJob& job = jobs_[i];
  if (!JobRetryable(job.status)) {
    return Status::Error("job '" + job.job->name + "' has not finished");
  }
  now_ = now;
  ++job.retries;
  job.allow_failure = job.job->allow_failure.value;
  job.play = true;  // A retried manual job runs without being played again.
  SetStatus(i, CiStatus::kCreated);
  ResetSkippedWaitingFor(i);
  Rebuild();
  return Status::Ok();
}

StatusOr<bool> RunPlan::CancelJob(int i, TimePoint now) {
  if (Status s = CheckAction(); !s.ok()) return s;
  CiStatus s = jobs_[i].status;
  if (s == CiStatus::kRunning) return true;
  if (!JobCancelable(s)) {
    return Status::Error("job '" + jobs_[i].job->name + "' cannot be canceled: it is " +
                         CiStatusName(s));
  }
  now_ = now;
  if (s == CiStatus::kPending || s == CiStatus::kWaitingForResource) {
    auto queued = std::find(ready_.begin(), ready_.end(), i);
    auto held = std::find(held_.begin(), held_.end(), i);
    if (held != held_.end()) {
      held_.erase(held);
      ReleaseResourceGroup(i);
    } else if (queued != ready_.end()) {
      ready_.erase(queued);
      ReleaseResourceGroup(i);
    } else if (!jobs_[i].job->resource_group.empty()) {
      std::deque<int>& waiting = groups_[jobs_[i].job->resource_group].waiting;
      waiting.erase(std::remove(waiting.begin(), waiting.end(), i), waiting.end());
    }
  }
  if (s == CiStatus::kScheduled) timers_.erase({jobs_[i].ready_at, i});
  SetStatus(i, CiStatus::kCanceled);
  Complete(i);
  Propagate();
  return false;
}

CiStatus RunPlan::Outcome() const {
  if (canceled_) return CiStatus::kCanceled;
  bool failed = false;
  bool canceled = false;
  for (const PlanJob& job : jobs_) {
    failed |= job.status == CiStatus::kFailed && !job.allow_failure;
    canceled |= job.status == CiStatus::kCanceled && !job.allow_failure;
  }
  if (failed) return CiStatus::kFailed;
  return canceled ? CiStatus::kCanceled : CiStatus::kSuccess;
}

}  // namespace slipway
