// Service: stopping environments, on request and when auto_stop_in expires
// (docs/deployments.md).
#include <cstdio>

#include "server/service_impl.h"
#include "util/logger.h"

namespace slipway {
namespace internal {

namespace {

// The newest attempt of the job called name in the pipeline; none if it
// has no such job.
StatusOr<std::optional<JobRecord>> NewestAttempt(Store* store, int64_t pipeline_id,
                                                 const std::string& name) {
  JobFilter filter;
  filter.pipeline_id = pipeline_id;
  filter.per_page = 100;
  std::optional<JobRecord> newest;
  for (int page = 1;; ++page) {
    filter.page = page;
    StatusOr<Page<JobRecord>> jobs = store->ListJobs(filter);
    if (!jobs.ok()) return jobs.status();
    for (const JobRecord& job : jobs->items) {
      if (job.name == name && (!newest || job.id > newest->id)) newest = job;
    }
    if (jobs->items.size() < static_cast<size_t>(filter.per_page)) break;
  }
  return newest;
}

}  // namespace

StatusOr<EnvironmentRecord> Service::StopEnvironment(int64_t environment_id, bool force) {
  StatusOr<std::optional<EnvironmentRecord>> found = store_->GetEnvironment(environment_id);
  if (!found.ok()) return found.status();
  if (!*found) return Status::Error("environment " + std::to_string(environment_id) + " not found");
  EnvironmentRecord environment = **found;
  StatusOr<EnvironmentRecord> cleared =
      store_->SetEnvironmentAutoStop(environment.id, std::nullopt);
  if (!cleared.ok()) return cleared.status();
  environment = *cleared;
  if (environment.state == "stopped") return environment;

  if (!force) {
    StatusOr<std::optional<DeploymentRecord>> last =
        store_->LastSuccessfulDeployment(environment.id);
    if (!last.ok()) return last.status();
    if (*last && !(*last)->on_stop.empty() && (*last)->pipeline_id) {
      StatusOr<std::optional<JobRecord>> stop_job =
          NewestAttempt(store_, *(*last)->pipeline_id, (*last)->on_stop);
      if (!stop_job.ok()) return stop_job.status();
      // A stop job that is skipped cannot run: the environment stops at once.
      if (*stop_job && (*stop_job)->status != CiStatus::kSkipped) {
        const JobRecord& job = **stop_job;
        // Stopping before the job starts: the recorder moves the
        // environment on when the job ends, which may be at once.
        StatusOr<std::optional<EnvironmentRecord>> stopping =
            store_->SetEnvironmentState(environment.project_id, environment.name, "stopping");
        if (!stopping.ok()) return stopping.status();
        StatusOr<JobRecord> started = job;  // One already on its way is left to finish.
        if (JobPlayable(job.status)) {
          started = PlayJob(job.id);
        } else if (IsFinished(job.status)) {
          started = RetryJob(job.id);
        }
        if (!started.ok()) {
          (void)store_->SetEnvironmentState(environment.project_id, environment.name,
                                            environment.state);
          return started.status();
        }
        StatusOr<std::optional<EnvironmentRecord>> now = store_->GetEnvironment(environment.id);
        if (!now.ok()) return now.status();
        return *now ? **now : environment;
      }
    }
  }
  StatusOr<std::optional<EnvironmentRecord>> stopped =
      store_->SetEnvironmentState(environment.project_id, environment.name, "stopped");
  if (!stopped.ok()) return stopped.status();
  return *stopped ? **stopped : environment;
}

void Service::StopExpiredEnvironments() {
  StatusOr<std::vector<EnvironmentRecord>> due = store_->EnvironmentsToAutoStop(NowMs());
  if (!due.ok()) {
    LogLine(LogLevel::kError, "auto_stop_error").Str("error", due.status().message());
    return;
  }
  for (const EnvironmentRecord& environment : *due) {
    // StopEnvironment clears auto_stop_at first: an environment whose stop
    // fails is reported once, not every second.
    StatusOr<EnvironmentRecord> stopped = StopEnvironment(environment.id, false);
    if (!stopped.ok()) {
      LogLine(LogLevel::kError, "auto_stop_error")
          .Str("environment", environment.name)
          .Str("error", stopped.status().message());
    }
  }
}

}  // namespace internal
}  // namespace slipway
