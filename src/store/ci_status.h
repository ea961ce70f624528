// GitLab's status values for pipelines and jobs, and which job status changes
// GitLab's state machine (CommitStatus / Ci::Build) allows. The store keeps
// these names verbatim so that the API can return them unchanged.
#ifndef SLIPWAY_STORE_CI_STATUS_H_
#define SLIPWAY_STORE_CI_STATUS_H_

#include <optional>
#include <string_view>
#include <vector>

namespace slipway {

enum class CiStatus {
  kCreated,
  kWaitingForResource,
  kPreparing,
  kPending,
  kRunning,
  kSuccess,
  kFailed,
  kCanceled,
  kSkipped,
  kManual,
  kScheduled,
};

// "created", "waiting_for_resource", "preparing", "pending", "running",
// "success", "failed", "canceled", "skipped", "manual", "scheduled".
const char* CiStatusName(CiStatus s);
std::optional<CiStatus> ParseCiStatus(std::string_view name);

// success, failed, canceled: the job or pipeline has finished. (GitLab counts
// skipped as completed for pipelines; for a job row it is not final because a
// skipped job can still be processed again, see JobTransitionAllowed.)
bool IsFinished(CiStatus s);
// created .. running: waiting for or doing work that a restart must resume.
bool IsActive(CiStatus s);

// Whether a job row may move from `from` to `to`. Finished jobs never change:
// retrying creates a new job row, as in GitLab. Setting the same status again
// is not a transition and is refused.
bool JobTransitionAllowed(CiStatus from, CiStatus to);

// GitLab's composite status (Gitlab::Ci::Status::Composite) of a pipeline
// from its latest jobs: a failed or canceled job with allow_failure counts as
// a warning and, like an allowed-to-fail manual job, is left out; then e.g.
// only success/skipped -> success, any running/pending -> running, any
// blocking manual -> manual, else failed. No jobs (or only ignored ones):
// success with warnings, else skipped.
struct StatusEntry {
  CiStatus status;
  bool allow_failure = false;
};
CiStatus CompositeStatus(const std::vector<StatusEntry>& jobs);

}  // namespace slipway

#endif  // SLIPWAY_STORE_CI_STATUS_H_
