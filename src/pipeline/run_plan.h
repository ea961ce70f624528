// GitLab's rules for what a pipeline runs next, as a state machine with no
// threads, no clock and no disk: the scheduler (exec/scheduler.h) feeds it
// events (an attempt ended, time passed, a user acted) and asks which job
// may start; tests drive it directly (run_plan_test.cc).
//  - A stage job (no `needs`) is processed once every job of the earlier
//    stages has completed; a DAG job (`needs`, including `needs: []`) once
//    the jobs it needs have, whatever their stage.
//  - "Completed" and the status a job sees are GitLab's: success, failed,
//    canceled, skipped, or a manual job with allow_failure (ignored). A
//    failed/canceled job with allow_failure counts as success with warnings.
//    A blocking manual job never completes, so what waits for it stays
//    created, as in GitLab's blocked pipelines.
//  - Stage jobs see the composite status of all earlier stages; DAG jobs
//    that of their needs, which is skipped when any need was skipped or is
//    an unplayed optional manual job (StatusSet::Composite, dag).
//  - on_success / manual / delayed run when that status is success (stage
//    jobs: or skipped); on_failure when failed; always unless canceled;
//    anything else is skipped. A delayed job is scheduled, ready at the time
//    it was processed plus its start_in.
//  - resource_group: at most one job of a group between pending and the end
//    of its attempt, FIFO. With GateResourceGroups (the server, whose groups
//    hold across pipelines) such a job waits as waiting_for_resource instead
//    of pending until the caller's gate grants the group (Hold, Grant).
//  - retry: max, when (failure reasons, "always"), exit_codes; all given
//    conditions must hold. allow_failure:exit_codes decide a failed job's
//    effective allow_failure.
//  - Retry and Play of one job reset the skipped jobs waiting for it
//    (JobGraph::WaitingFor), as GitLab's ResetSkippedJobsService does.
//  - Cancel: created, pending and scheduled jobs become canceled; running
//    ones are the caller's to stop; manual and skipped jobs stay.
// Work is linear in jobs + needs edges: indegree counts per DAG job and one
// counter per stage, no scans of all jobs per event.
#ifndef SLIPWAY_PIPELINE_RUN_PLAN_H_
#define SLIPWAY_PIPELINE_RUN_PLAN_H_

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/ci_status.h"
#include "pipeline/instantiate.h"
#include "pipeline/job_graph.h"
#include "util/status.h"

namespace slipway {

// Not thread-safe: one caller at a time (the scheduler holds its lock).
class RunPlan {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Told of every status change the plan makes, as it makes it.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void OnStatusChange(int job) = 0;
  };

  // The plan of `pipeline`'s jobs: all of them when `selected` is empty,
  // else the named ones plus, transitively, what they depend on (the jobs a
  // DAG job needs, every job of the earlier stages for a stage job); named
  // manual jobs, and manual jobs a selected job needs, are played. Jobs are
  // numbered 0.. in the pipeline's order. Errors: an unknown selected job, a
  // job in a stage the pipeline does not declare. `pipeline` must outlive
  // the plan.
  static StatusOr<RunPlan> Create(const Pipeline& pipeline,
                                  const std::vector<std::string>& selected);

  // Not owned; null for none. Called for every status change after this.
  void set_listener(Listener* listener) { listener_ = listener; }

  int size() const { return static_cast<int>(jobs_.size()); }
  const JobGraph& graph() const { return graph_; }
  const Job& job(int i) const { return *jobs_[i].job; }
  int pipeline_index(int i) const { return jobs_[i].pipeline_index; }
  CiStatus status(int i) const { return jobs_[i].status; }
  // Effective: allow_failure: true, or failed with one of its exit_codes.
  bool allow_failure(int i) const { return jobs_[i].allow_failure; }
  int retries(int i) const { return jobs_[i].retries; }
  bool canceled() const { return canceled_; }

  // Before Start: what an earlier run left of job i. Retries and `played`
  // always carry over; a completed status (success, failed, canceled,
  // skipped) and its allow_failure are kept and the job is not run again,
  // any other status starts from created. Returns whether the outcome was
  // kept.
  bool Resume(int i, CiStatus status, bool allow_failure, int retries, bool played);

  // Processes every job whose predecessors have completed. Call once.
  void Start(TimePoint now);

  // Before Start: jobs with a resource_group are enqueued as
  // waiting_for_resource (created -> waiting_for_resource -> pending, as in
  // GitLab): NextReady gives them like pending ones, and the caller either
  // Grants them (pending, then Running) or Holds them until it can.
  void GateResourceGroups() { gated_ = true; }

  // The next job that may run now (its resource group is held for it within
  // the pipeline), first come first served: pending, or
  // waiting_for_resource with GateResourceGroups; nullopt when none or
  // canceled. The caller starts it and reports Running, then Finished.
  std::optional<int> NextReady();
  // A job NextReady gave (waiting_for_resource or pending) that the caller's
  // gate does not let start yet: it keeps its status and the pipeline's own
  // group, and waits in held() (by the order it was held) to be asked again.
  void Hold(int i);
  // A waiting_for_resource job (held or just given) got its group: pending.
  // (Running takes a held job out of held() too.)
  void Grant(int i);
  const std::vector<int>& held() const { return held_; }
  void Running(int i);
  // An attempt of running job i ended with `outcome` (success, failed or
  // canceled). A failure the job's retry: allows is retried unless
  // `may_retry` is false: the job is pending again and Finished returns
  // true.
  bool Finished(int i, CiStatus outcome, int exit_code, std::string_view failure_reason,
                bool may_retry, TimePoint now);

  // When the earliest scheduled job becomes ready; nullopt when none waits.
  std::optional<TimePoint> NextWakeup() const;
  // Scheduled jobs whose time has come become pending.
  void AdvanceTime(TimePoint now);

  // No more work will come: nothing scheduled, and nothing ready (or the
  // plan is canceled). Running jobs are the caller's to count.
  bool Idle() const;

  // Cancels the pipeline (see the header comment). Further events change
  // nothing but running jobs' ends.
  void Cancel();

  // A user's actions on one job; errors name the job and say why not.
  //  - Play: a manual job is processed again, as played.
  //  - Retry: a finished job gets a new attempt (retries + 1); a manual job
  //    runs without being played again.
  //  - CancelJob: a created, pending or scheduled job becomes canceled;
  //    returns true for a running job, which the caller must stop (it ends
  //    canceled through Finished).
  Status Play(int i, TimePoint now);
  Status Retry(int i, TimePoint now);
  StatusOr<bool> CancelJob(int i, TimePoint now);

  // The pipeline's status at the end: canceled when the plan was canceled,
  // else failed if a job failed without allow_failure, else canceled if one
  // was canceled without it, else success.
  CiStatus Outcome() const;

 private:
  struct PlanJob {
    const Job* job = nullptr;
    int pipeline_index = 0;
    CiStatus status = CiStatus::kCreated;
    bool allow_failure = false;
    int retries = 0;
    bool play = false;  // A manual job that runs without waiting.
    // Processing state, derived again by Rebuild.
    int remaining = 0;  // Needs not completed yet.
    StatusSet needs_seen;
    TimePoint ready_at{};  // A scheduled job's; its key in timers_.
  };
  struct ResourceGroup {
    bool busy = false;
    std::deque<int> waiting;
  };

  RunPlan(const Pipeline& pipeline, JobGraph graph, std::vector<PlanJob> jobs);
  bool IsCompleted(int i) const;
  void Rebuild();
  void ResetSkippedWaitingFor(int i);
  void SetStatus(int i, CiStatus status);
  void Process(int i);
  void Complete(int i);
  void Propagate();
  void AdvanceStages();
  void Enqueue(int i);
  void ReleaseResourceGroup(int i);
  bool RetryAllowed(int i, int exit_code, std::string_view failure_reason) const;
  Status CheckAction() const;

  JobGraph graph_;
  std::vector<PlanJob> jobs_;
  Listener* listener_ = nullptr;
  TimePoint now_{};  // Of the event being handled.

  std::vector<std::vector<int>> stage_jobs_;  // Stage (non-DAG) jobs per stage.
  std::vector<int> stage_incomplete_;         // All jobs per stage not completed.
  std::vector<StatusSet> stage_seen_;
  StatusSet prefix_seen_;      // Stages before frontier_.
  size_t frontier_ = 0;        // First stage with incomplete jobs.
  size_t evaluated_ = 0;       // Stage jobs of stages < evaluated_ are processed.
  std::deque<int> completed_;  // Completed jobs whose successors await news.
  std::deque<int> ready_;
  // Scheduled jobs by ready time: a canceled one leaves nothing to wait for.
  std::set<std::pair<TimePoint, int>> timers_;
  std::map<std::string, ResourceGroup> groups_;
  std::vector<int> held_;  // Hold's jobs, waiting for the caller's gate.
  bool gated_ = false;
  bool started_ = false;
  bool canceled_ = false;
};

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_RUN_PLAN_H_
