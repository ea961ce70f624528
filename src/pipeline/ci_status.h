// GitLab's statuses of jobs and pipelines: one model for the whole engine.
// It holds their names (the report, the store and the API spell them
// verbatim), the job status changes GitLab's state machine (CommitStatus,
// Ci::Processable, Ci::Build) allows, which jobs a user may retry, cancel or
// play, and the composite status of a group of jobs
// (Gitlab::Ci::Status::Composite): what a pipeline shows, and what a job
// waiting for earlier stages or for its needs sees.
//
// It lives in pipeline/ because it is GitLab semantics that depend on
// nothing else: the run plan (pipeline/run_plan.h), the scheduler, console
// and report (exec/), the store and the server all use it, and none of them
// has to translate one status type into another.
#ifndef SLIPWAY_PIPELINE_CI_STATUS_H_
#define SLIPWAY_PIPELINE_CI_STATUS_H_

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <vector>

namespace slipway {

// A job's or a pipeline's status. A local run reaches created, pending,
// scheduled (a delayed job waiting for its start_in), running, success,
// failed, canceled, skipped and manual (a manual job nobody played);
// waiting_for_resource and preparing are GitLab's and may be stored.
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
// Writes CiStatusName (for test failures and logs).
std::ostream& operator<<(std::ostream& out, CiStatus s);

// success, failed, canceled: the job or pipeline has finished. (GitLab counts
// skipped as completed for pipelines; for a job row it is not final because a
// skipped job can still be processed again, see JobTransitionAllowed.)
bool IsFinished(CiStatus s);
// GitLab's COMPLETED_STATUSES: success, failed, canceled, skipped. What the
// jobs after a completed job wait for.
bool IsCompleted(CiStatus s);
// created .. running: waiting for or doing work that a restart must resume.
bool IsActive(CiStatus s);

// Whether a job row may move from `from` to `to`. Finished jobs never change:
// retrying creates a new job row, as in GitLab. Setting the same status again
// is not a transition and is refused.
bool JobTransitionAllowed(CiStatus from, CiStatus to);

// A user's actions on the latest attempt of a job (callers check that it is
// the latest: a retried attempt allows none).
// Retry (Ci::Processable#retryable?): success, failed or canceled.
bool JobRetryable(CiStatus s);
// Cancel (HasStatus::CANCELABLE_STATUSES): created, waiting_for_resource,
// preparing, pending, running or scheduled; what canceling a pipeline
// cancels too. Manual and completed jobs stay.
bool JobCancelable(CiStatus s);
// Play: a manual job nobody played yet.
bool JobPlayable(CiStatus s);

// The set of statuses a group of jobs is in, as GitLab's composite status
// sees them: a failed or canceled job with allow_failure counts as "success
// with warnings", a manual one with allow_failure as "ignored". Cheap to add
// to and to merge, so that a run can keep one per stage and per job.
class StatusSet {
 public:
  void Add(CiStatus s, bool allow_failure);
  void Merge(const StatusSet& other) { bits_ |= other.bits_; }
  bool empty() const { return bits_ == 0; }

  // GitLab's Composite#status; nullopt for an empty set (GitLab's nil).
  // With dag (the needs of a job): skipped as soon as one job is skipped or
  // ignored, pending while one has not completed.
  std::optional<CiStatus> Composite(bool dag = false) const;

 private:
  uint32_t bits_ = 0;
};

// A pipeline's status from its latest jobs: StatusSet's composite (an empty
// set, or one of ignored jobs only, is skipped; warnings alone make
// success). E.g. only success/skipped -> success, any running/pending ->
// running, any blocking manual -> manual, else failed.
struct StatusEntry {
  CiStatus status;
  bool allow_failure = false;
};
CiStatus CompositeStatus(const std::vector<StatusEntry>& jobs);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_CI_STATUS_H_
