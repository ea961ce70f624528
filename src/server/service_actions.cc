// PipelineService: GitLab's actions on pipelines and jobs, crash recovery
// and the schedule timer.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "pipeline/job_graph.h"
#include "server/cron.h"
#include "server/orphan_jobs.h"
#include "server/service_impl.h"
#include "util/containment.h"
#include "util/logger.h"
#include "util/ref_name.h"

namespace slipway {
namespace internal {
namespace {

bool Retryable(const JobRecord& job) { return !job.retried && JobRetryable(job.status); }

Status NotFound(const char* what, int64_t id) {
  return Status::Error(std::string(what) + " " + std::to_string(id) + " not found");
}

// Whether retry:when lets an interrupted job (runner_system_failure) run again.
bool RetriesSystemFailure(const Job& job, int retry_count) {
  if (retry_count >= job.retry.max) return false;
  if (job.retry.when.empty()) return true;
  for (const std::string& w : job.retry.when) {
    if (w == "always" || w == "runner_system_failure") return true;
  }
  return false;
}

}  // namespace

// A trigger job waiting for its downstream pipeline when the server stopped
// does not wait again: the pipeline goes on as any other resumed one.
std::string Service::InterruptedTriggerNote(const JobRecord& job) {
  if (!job.bridge) return "";
  StatusOr<std::vector<PipelineRecord>> downstream =
      store_->ListDownstreamPipelines(job.pipeline_id);
  if (!downstream.ok()) return "";
  for (const PipelineRecord& p : *downstream) {
    if (p.upstream_job_id != job.id) continue;
    return "Its downstream pipeline " + std::to_string(p.id) +
           " goes on on its own; this job no longer follows it (retry the job to start a new "
           "one)\n";
  }
  return "";
}

Status Service::UpdateComposite(int64_t pipeline_id) {
  StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store_, pipeline_id);
  if (!jobs.ok()) return jobs.status();
  std::vector<StatusEntry> entries;
  for (const JobRecord& job : *jobs) entries.push_back({job.status, job.allow_failure});
  return store_->UpdatePipelineStatus(pipeline_id, CompositeStatus(entries)).status();
}

// The run plan's rule (JobGraph::WaitingFor) on the stored jobs, so that a
// retry or play between runs resets what a live one would.
Status Service::ResetSkippedWaitingFor(const JobRecord& job) {
  StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store_, job.pipeline_id);
  if (!jobs.ok()) return jobs.status();
  std::vector<GraphJob> graph_jobs;
  for (const JobRecord& other : *jobs) {
    graph_jobs.push_back(GraphJob{other.name, other.stage_idx, other.needs});
  }
  JobGraph graph(std::move(graph_jobs));
  int self = graph.Find(job.name);
  if (self < 0) return Status::Ok();
  std::vector<bool> waiting = graph.WaitingFor({self});
  for (size_t i = 0; i < jobs->size(); ++i) {
    const JobRecord& other = (*jobs)[i];
    if (!waiting[i] || other.status != CiStatus::kSkipped) continue;
    JobUpdate update;
    update.status = CiStatus::kCreated;
    StatusOr<JobRecord> reset = store_->UpdateJob(other.id, update);
    if (!reset.ok()) return reset.status();
  }
  return Status::Ok();
}

StatusOr<JobRecord> Service::JobAction(
    int64_t job_id, const char* action,
    const std::function<Status(Scheduler*, const JobRecord&)>& live,
    const std::function<Status(const JobRecord&)>& stored, bool* forwarded) {
  auto found = store_->GetJob(job_id);
  if (!found.ok()) return found.status();
  if (!*found) return NotFound("job", job_id);
  const JobRecord job = **found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto active = active_.find(job.pipeline_id);
    if (active != active_.end() && active->second->scheduler != nullptr && !job.retried) {
      if (live(active->second->scheduler, job).ok()) {
        std::optional<JobRecord> now = active->second->recorder->Job(job.name);
        if (now) return *now;
      }
    }
  }
  // With servers sharing the database, only the pipeline's owner changes it.
  bool claimed = false;
  if (Status owned = ClaimForAction(job.pipeline_id, &claimed); !owned.ok()) {
    if (!CanForward()) return owned;
    // Another replica runs it: that one acts, as if asked directly.
    StatusOr<int64_t> done = Forward(job.pipeline_id, job.id, action);
    if (!done.ok()) return done.status();
    if (forwarded != nullptr) *forwarded = true;
    auto now = store_->GetJob(*done);
    if (!now.ok()) return now.status();
    if (!*now) return NotFound("job", *done);
    return **now;
  }
  Status s = stored(job);
  ReleaseUnlessQueued(job.pipeline_id, claimed);
  if (!s.ok()) return s;
  auto now = store_->GetJob(job_id);
  if (!now.ok()) return now.status();
  return **now;
}

StatusOr<JobRecord> Service::RetryJob(int64_t job_id) {
  int64_t new_id = 0;
  bool forwarded = false;
  StatusOr<JobRecord> result = JobAction(
      job_id, "retry_job", [](Scheduler* s, const JobRecord& job) { return s->Retry(job.name); },
      [&](const JobRecord& job) -> Status {
        if (!Retryable(job)) {
          return Status::Error("job " + std::to_string(job.id) + " cannot be retried: it is " +
                               (job.retried ? "not the latest attempt" : CiStatusName(job.status)));
        }
        StatusOr<JobRecord> retried = store_->RetryJob(job.id);
        if (!retried.ok()) return retried.status();
        new_id = retried->id;
        Status reset = ResetSkippedWaitingFor(job);
        if (!reset.ok()) return reset;
        StatusOr<PipelineRecord> p =
            store_->UpdatePipelineStatus(job.pipeline_id, CiStatus::kPending);
        if (!p.ok()) return p.status();
        Enqueue(job.pipeline_id);
        return Status::Ok();
      },
      &forwarded);
  // The replica that did it reopened them.
  if (!result.ok() || forwarded) return result;
  ReopenDependentBridges(result->pipeline_id);
  if (new_id == 0) return result;
  auto fresh = store_->GetJob(new_id);
  if (!fresh.ok()) return fresh.status();
  return **fresh;
}

StatusOr<JobRecord> Service::CancelJob(int64_t job_id) {
  return JobAction(
      job_id, "cancel_job",
      [](Scheduler* s, const JobRecord& job) { return s->CancelJob(job.name); },
      [&](const JobRecord& job) -> Status {
        if (job.retried || !JobCancelable(job.status) || job.status == CiStatus::kRunning) {
          return Status::Error("job " + std::to_string(job.id) + " cannot be canceled: it is " +
                               CiStatusName(job.status));
        }
        JobUpdate update;
        update.status = CiStatus::kCanceled;
        StatusOr<JobRecord> canceled = store_->UpdateJob(job.id, update);
        if (!canceled.ok()) return canceled.status();
        hub_->Finish(job.id);
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (active_.count(job.pipeline_id) > 0) return Status::Ok();
        }
        return UpdateComposite(job.pipeline_id);
      });
}

StatusOr<JobRecord> Service::PlayJob(int64_t job_id) {
  return JobAction(
      job_id, "play_job", [](Scheduler* s, const JobRecord& job) { return s->Play(job.name); },
      [&](const JobRecord& job) -> Status {
        if (job.retried || !JobPlayable(job.status)) {
          return Status::Error("job " + std::to_string(job.id) + " cannot be played: it is " +
                               CiStatusName(job.status));
        }
        JobUpdate update;
        update.status = CiStatus::kPending;
        StatusOr<JobRecord> played = store_->UpdateJob(job.id, update);
        if (!played.ok()) return played.status();
        // GitLab's EnqueueJobService resets what waits for a played job too.
        Status reset = ResetSkippedWaitingFor(job);
        if (!reset.ok()) return reset;
        StatusOr<PipelineRecord> p =
            store_->UpdatePipelineStatus(job.pipeline_id, CiStatus::kPending);
        if (!p.ok()) return p.status();
        Enqueue(job.pipeline_id);
        return Status::Ok();
      });
}

Status Service::CancelPipeline(int64_t pipeline_id) {
  auto pipeline = store_->GetPipeline(pipeline_id);
  if (!pipeline.ok()) return pipeline.status();
  if (!*pipeline) return NotFound("pipeline", pipeline_id);
  // GitLab cascades a cancel to the child pipelines, waited for or not.
  if (Status children = CancelChildren(pipeline_id); !children.ok()) return children;
  bool claimed = false;  // This server holds the pipeline and frees it below.
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto active = active_.find(pipeline_id);
    if (active != active_.end()) {
      active->second->cancel = true;
      active->second->again = false;
      if (active->second->scheduler != nullptr) active->second->scheduler->Cancel();
      return Status::Ok();
    }
    size_t queued = queue_.size();
    queue_.erase(std::remove(queue_.begin(), queue_.end(), pipeline_id), queue_.end());
    claimed = queue_.size() != queued;
  }
  if (!claimed) {
    if (Status owned = ClaimForAction(pipeline_id, &claimed); !owned.ok()) {
      if (!CanForward()) return owned;
      return Forward(pipeline_id, std::nullopt, "cancel_pipeline").status();
    }
  }
  ReleaseAfter release{this, pipeline_id, claimed};
  StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store_, pipeline_id);
  if (!jobs.ok()) return jobs.status();
  bool any = false;
  for (const JobRecord& job : *jobs) {
    if (!JobCancelable(job.status)) continue;
    JobUpdate update;
    update.status = CiStatus::kCanceled;
    StatusOr<JobRecord> canceled = store_->UpdateJob(job.id, update);
    if (!canceled.ok()) return canceled.status();
    hub_->Finish(job.id);
    any = true;
  }
  if (!any && !IsActive((*pipeline)->status)) return Status::Ok();
  return store_->UpdatePipelineStatus(pipeline_id, CiStatus::kCanceled).status();
}

StatusOr<PipelineRecord> Service::RetryPipeline(int64_t pipeline_id) {
  auto pipeline = store_->GetPipeline(pipeline_id);
  if (!pipeline.ok()) return pipeline.status();
  if (!*pipeline) return NotFound("pipeline", pipeline_id);
  // Another replica runs it: that one retries it, as if asked directly.
  bool claimed = false;
  if (Status owned = ClaimForAction(pipeline_id, &claimed); !owned.ok()) {
    if (!CanForward()) return owned;
    StatusOr<int64_t> done = Forward(pipeline_id, std::nullopt, "retry_pipeline");
    if (!done.ok()) return done.status();
    auto now = store_->GetPipeline(pipeline_id);
    if (!now.ok()) return now.status();
    if (!*now) return NotFound("pipeline", pipeline_id);
    return **now;
  }
  ReleaseAfter release{this, pipeline_id, claimed};
  StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store_, pipeline_id);
  if (!jobs.ok()) return jobs.status();
  bool any = false;
  for (const JobRecord& job : *jobs) {
    if (job.status != CiStatus::kFailed && job.status != CiStatus::kCanceled) continue;
    StatusOr<JobRecord> retried = RetryJob(job.id);
    if (!retried.ok()) return retried.status();
    any = true;
  }
  if (!any) {
    return Status::Error("pipeline " + std::to_string(pipeline_id) +
                         " has no failed or canceled jobs to retry");
  }
  auto now = store_->GetPipeline(pipeline_id);
  if (!now.ok()) return now.status();
  return **now;
}

Status Service::Recover() {
  // Jobs of a server killed with SIGKILL ran on: those in job cgroups it
  // made, and (without cgroups) those found by their environment, whose
  // workspaces are in the builds directory (under the data directory only
  // when a server of an older layout was killed).
  int orphans = KillLeftoverJobProcesses() + KillOrphanedJobs(options_.builds_dir) +
                KillOrphanedJobs(options_.data_dir);
  if (orphans > 0) {
    LogLine(LogLevel::kWarn, "orphans_killed")
        .Int("processes", orphans)
        .Str("message", "killed job processes left by a previous server");
  }
  // The pipelines no living server holds (docs/replicas.md): with a single
  // server, all of them.
  Status recovered = RecoverLeases(true, NowMs());
  if (!recovered.ok()) return recovered;
  std::lock_guard<std::mutex> lock(mu_);
  ClaimFreeLocked();
  return Status::Ok();
}

Status Service::FinishInterrupted(const std::vector<JobRecord>& jobs) {
  for (const JobRecord& job : jobs) {
    StatusOr<int64_t> size = store_->AppendLog(
        job.id, "\nERROR: Job failed (system failure): the server stopped while the job ran\n" +
                    InterruptedTriggerNote(job));
    if (!size.ok()) return size.status();
    hub_->Finish(job.id);
  }
  return RetryInterrupted(jobs);
}

Status Service::RetryInterrupted(const std::vector<JobRecord>& jobs) {
  std::map<int64_t, std::vector<const JobRecord*>> by_pipeline;
  for (const JobRecord& job : jobs) by_pipeline[job.pipeline_id].push_back(&job);
  for (const auto& [pipeline_id, pipeline_jobs] : by_pipeline) {
    auto record = store_->GetPipeline(pipeline_id);
    if (!record.ok()) return record.status();
    if (!*record) continue;
    StatusOr<ProjectRecord> project = Project((*record)->project_id);
    // retry:when comes from the pipeline's file at its commit; a pipeline
    // that cannot be loaded any more keeps its jobs failed.
    if (!project.ok() || !EnsureCheckout(*project, **record).ok()) continue;
    StatusOr<ServerPipeline> loaded = Load(*project, **record, RunDir(pipeline_id) + "/src");
    if (!loaded.ok() || !loaded->pipeline) continue;
    for (const JobRecord* job : pipeline_jobs) {
      const Job* config = loaded->pipeline->FindJob(job->name);
      if (config == nullptr || !RetriesSystemFailure(*config, job->retry_count)) continue;
      StatusOr<JobRecord> retried = store_->RetryJob(job->id);
      if (!retried.ok()) return retried.status();
    }
  }
  return Status::Ok();
}

void Service::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // The next look is due a second after this one starts, not after it
    // ends: on a FakeClock, a test advancing the clock while this pass runs
    // would otherwise find the timer waiting for the advance after.
    Clock::TimePoint next = options_.clock->Now() + std::chrono::milliseconds(timer_period_ms_);
    lock.unlock();
    Heartbeat();
    RunDueSchedules();
    StopExpiredEnvironments();
    RemoveExpiredArtifacts();
    // A group waiting for an upcoming job of another pipeline that will
    // never ask (skipped, canceled) goes on; jobs held by a freeze that
    // ended or by approvals now given start.
    resource_groups_->Reevaluate();
    resource_groups_->WakeRuns();
    lock.lock();
    // Schedules are minutes apart: looking once a second is on time. On a
    // FakeClock this waits until the test advances it.
    if (!stopping_) options_.clock->SleepUntil(lock, timer_cv_, next);
  }
}

void Service::RunDueSchedules() {
  int64_t now = NowMs();
  StatusOr<std::vector<ScheduleRecord>> due = store_->DueSchedules(now);
  if (!due.ok()) {
    LogLine(LogLevel::kError, "schedule_error").Str("error", due.status().message());
    return;
  }
  for (ScheduleRecord schedule : *due) {
    StatusOr<int64_t> next = NextRun(schedule.cron, schedule.cron_timezone, now);
    // Fired once, by the server that moves next_run_at on, when servers
    // share the database (docs/replicas.md).
    if (schedule.next_run_at) {
      StatusOr<bool> mine =
          leases_->ClaimScheduleRun(schedule.id, *schedule.next_run_at,
                                    next.ok() ? std::optional<int64_t>(*next) : std::nullopt);
      if (!mine.ok() || !*mine) {
        if (!mine.ok()) {
          LogLine(LogLevel::kError, "schedule_error")
              .Int("schedule_id", schedule.id)
              .Str("error", mine.status().message());
        }
        continue;
      }
    }
    CreatePipelineRequest request;
    request.project_id = schedule.project_id;
    ShortRef ref = SplitRef(schedule.ref);
    request.ref = ref.name;
    request.tag = ref.tag;
    request.source = "schedule";
    request.variables = schedule.variables;
    StatusOr<PipelineRecord> created = CreatePipeline(request);
    if (created.ok()) {
      schedule.last_pipeline_id = created->id;
    } else {
      LogLine(LogLevel::kWarn, "schedule_error")
          .Int("schedule_id", schedule.id)
          .Str("error", created.status().message());
    }
    if (next.ok()) {
      schedule.next_run_at = *next;
    } else {
      schedule.next_run_at.reset();
      schedule.active = false;  // A schedule that can never run again.
    }
    StatusOr<ScheduleRecord> updated = store_->UpdateSchedule(schedule);
    if (!updated.ok()) {
      LogLine(LogLevel::kError, "schedule_error")
          .Int("schedule_id", schedule.id)
          .Str("error", updated.status().message());
    }
  }
}

}  // namespace internal
}  // namespace slipway
