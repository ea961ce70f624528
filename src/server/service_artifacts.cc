// Service: artifacts removed on request (DELETE .../artifacts) and when
// their artifacts:expire_in passes (docs/artifacts.md, "Expiry").
#include <cstdio>
#include <limits>

#include "server/service_impl.h"
#include "server/stored_artifacts.h"
#include "util/logger.h"

namespace slipway {
namespace internal {

StatusOr<bool> Service::DeleteArtifacts(int64_t job_id) {
  StatusOr<std::optional<JobRecord>> job = store_->GetJob(job_id);
  if (!job.ok()) return job.status();
  if (!*job) return Status::Error("job " + std::to_string(job_id) + " not found");
  return RemoveJobArtifacts(store_, RunDir((*job)->pipeline_id), **job);
}

void Service::RemoveExpiredArtifacts() {
  // GitLab's cleaner runs every few minutes; expiry is not to the second.
  int64_t now = NowMs();
  if (artifacts_checked_ms_ != 0 && now - artifacts_checked_ms_ < 60 * 1000) return;
  artifacts_checked_ms_ = now;
  auto report = [](int64_t job_id, const Status& s) {
    LogLine(LogLevel::kError, "artifact_expiry_error")
        .Int("job_id", job_id)
        .Str("error", s.message());
  };
  // Newest first: of one ref's pipelines, the kept one is decided first.
  int64_t before = std::numeric_limits<int64_t>::max();
  while (true) {
    StatusOr<std::vector<int64_t>> due = store_->JobsWithExpiredArtifacts(now, before, 100);
    if (!due.ok()) return report(0, due.status());
    if (due->empty()) return;
    before = due->back();
    for (int64_t job_id : *due) {
      StatusOr<std::optional<JobRecord>> job = store_->GetJob(job_id);
      if (!job.ok() || !*job) continue;
      StatusOr<std::optional<PipelineRecord>> pipeline = store_->GetPipeline((*job)->pipeline_id);
      if (!pipeline.ok() || !*pipeline) continue;
      // A running pipeline's later jobs may still take these artifacts.
      if (IsActive((*pipeline)->status)) continue;
      StatusOr<bool> locked = ArtifactsLocked(store_, **pipeline);
      if (!locked.ok()) {
        report(job_id, locked.status());
        continue;
      }
      if (*locked) continue;  // Kept until a newer pipeline of its ref unlocks it.
      StatusOr<bool> removed = RemoveJobArtifacts(store_, RunDir((*job)->pipeline_id), **job);
      if (!removed.ok()) report(job_id, removed.status());
    }
  }
}

}  // namespace internal
}  // namespace slipway
