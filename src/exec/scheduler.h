// Runs a Pipeline's jobs with GitLab's processing semantics. What runs next
// (stages and needs, when:, allow_failure, resource groups, retries, delayed
// jobs, cancel, and what a retry or play resets) is the RunPlan's
// (pipeline/run_plan.h); the scheduler owns the threads that run job
// attempts through the Executor, the timers of delayed jobs, cancel tokens,
// workspaces' paths, variables and artifacts passed between jobs.
#ifndef SLIPWAY_EXEC_SCHEDULER_H_
#define SLIPWAY_EXEC_SCHEDULER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/downstream.h"
#include "exec/executor.h"
#include "exec/job_gate.h"
#include "exec/run_result.h"
#include "pipeline/instantiate.h"
#include "util/clock.h"
#include "util/status.h"

namespace slipway {

// Sees every job status change as it happens. Called on the thread running
// Scheduler::Run, with the scheduler's lock held: implementations must be
// quick and must not call back into the scheduler.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnJobUpdate(const JobRun& run) = 0;
};

// What an earlier run of the same pipeline left of a job (the server resumes
// a pipeline after a restart, a retry or a play). A job whose status is
// success, failed, canceled or skipped is not run again: it keeps its
// outcome, and its artifacts and dotenv report are taken from its job dir
// (run_dir/jobs/<dir>) for the jobs after it. A manual job stays manual
// unless `play`. created / pending / running jobs are run (again).
struct PriorJob {
  CiStatus status = CiStatus::kCreated;
  bool allow_failure = false;  // Effective, as in JobRun.
  int retries = 0;             // Attempts so far beyond the first.
  std::optional<int> exit_code;
  std::string failure_reason;
  bool play = false;  // A manual job somebody played.
};

struct SchedulerOptions {
  int max_parallel = 1;  // --jobs N; at least 1.
  // Job names given on the command line. Empty: the whole pipeline. Else the
  // named jobs plus, transitively, what they depend on: the jobs a DAG job
  // needs, and every job of the earlier stages for a stage job. Named manual
  // jobs, and manual jobs a selected job needs, are played.
  std::vector<std::string> selected;
  std::string project_dir;
  std::string ref;
  std::string run_dir;  // Empty: jobs get no job_dir and no log file.
  std::string cache_dir;
  // Lowest-precedence variables: predefined CI_* of the pipeline.
  VariableList predefined;
  // On top of these each job gets its own CI_JOB_* (JobPredefinedVariables),
  // CI_JOB_ID being the job's 1-based position in the pipeline.
  // --variable KEY=VALUE, highest precedence.
  VariableList cli_variables;
  // Values hidden wherever a job's output goes ("[MASKED]", in the forms
  // util/secret_mask.h lists): the masked variables' values. Each must be
  // ValidateMaskedValue-clean; shorter ones are not masked.
  std::vector<std::string> masked_values;
  // For jobs without `timeout:`; GitLab's default project timeout is 1 h.
  std::chrono::milliseconds default_timeout = std::chrono::hours(1);
  // By job name; jobs not named start from scratch.
  std::map<std::string, PriorJob> prior;
  // CI_JOB_ID of a job's attempt, asked when it is dispatched (with the
  // scheduler's lock held). Empty: the job's 1-based position.
  std::function<int64_t(const Job& job)> job_id;
  // Where jobs get the artifacts of earlier jobs, by job id (the server's
  // store). Null: from the job dirs of this run. Must outlive the run.
  ArtifactFetcher* artifacts = nullptr;
  // Runs trigger: jobs (not owned; must outlive Run). Null: they fail,
  // saying slipway cannot run them (kTriggerNotSupported).
  DownstreamRunner* downstream = nullptr;
  // Artifacts a job takes from jobs of upstream pipelines (needs:pipeline in
  // a child pipeline), asked when the job is dispatched (lock held); they
  // are restored before its own sources and their dotenv variables rank
  // below those. Empty: none.
  std::function<std::vector<UpstreamArtifacts>(const Job& job)> upstream_artifacts;
  // Artifacts a job takes from other projects' (or refs') pipelines
  // (needs:project with artifacts), asked when such a job is dispatched
  // (lock held); restored and ranked as upstream_artifacts'. An error — and,
  // when this is empty (`slipway run`), any such need — fails the job
  // without running it (missing_dependency_failure), the error in its log.
  std::function<StatusOr<std::vector<UpstreamArtifacts>>(const Job& job)> project_artifacts;
  // Asked before each job starts (not owned; must outlive Run). With one,
  // jobs with a resource_group wait as waiting_for_resource until the gate
  // grants their group (RunPlan::GateResourceGroups). Null: none.
  JobGate* gate = nullptr;
};

class Scheduler {
 public:
  // pipeline, executor and clock must outlive the scheduler; log and
  // observer may be null.
  Scheduler(const Pipeline& pipeline, Executor* executor, Clock* clock, LogSink* log,
            RunObserver* observer, SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs the pipeline to its end and returns every selected job's outcome.
  // Errors (an unknown selected job, a job in an undeclared stage) are
  // reported before anything runs. Call once.
  StatusOr<RunResult> Run();

  // Cancels the run. Thread-safe; may be called before or during Run.
  void Cancel();

  // Actions on one job while Run is running (thread-safe). They fail when
  // the job is not in a state that allows them, or when the run has not
  // started or has ended (the caller then records the action in the store
  // and runs the pipeline again from its prior outcomes).
  //  - Play: a manual job is enqueued; what waits for it follows.
  //  - Retry: a finished job gets a new attempt (retries + 1).
  //  Both process the skipped jobs waiting for the job again (RunPlan::Play,
  //  RunPlan::Retry).
  //  - CancelJob: a created, pending or scheduled job becomes canceled, a
  //    running one is told to stop and ends canceled.
  // Observer updates for these happen before they return.
  Status Play(const std::string& job_name);
  Status Retry(const std::string& job_name);
  Status CancelJob(const std::string& job_name);

  // The gate may grant a waiting job its group now: ask it again.
  // Thread-safe; harmless before or after Run.
  void Wake();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SCHEDULER_H_
