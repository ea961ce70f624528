// Records a scheduler run in the store, so that a pipeline run by the server
// leaves the same history `slipway run` prints: every job status change
// becomes a job row update (a retried attempt becomes a new row, as in
// GitLab), every log byte an AppendLog, the artifacts a finished attempt left
// (JobRun::artifacts) artifact records of its row, and the pipeline's status
// follows.
// Plug it into the Scheduler as both its RunObserver and its LogSink.
#ifndef SLIPWAY_SERVER_RUN_RECORDER_H_
#define SLIPWAY_SERVER_RUN_RECORDER_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exec/run_result.h"
#include "exec/scheduler.h"
#include "pipeline/instantiate.h"
#include "store/store.h"
#include "util/thread_annotations.h"

namespace slipway {

// The job rows for pipeline's jobs, in its order: name, stage and its index,
// when, allow_failure, needs; status created.
std::vector<JobRecord> JobRecordsFor(const Pipeline& pipeline);

// The latest attempt of every job of a stored pipeline, in id order (every
// page of ListJobs without retried rows).
StatusOr<std::vector<JobRecord>> LatestJobRecords(Store* store, int64_t pipeline_id);

class RunRecorder : public RunObserver, public LogSink {
 public:
  // Called after bytes were appended to a job's stored log at offset, on the
  // writing thread, in order for any one job (e.g. to publish live logs).
  using LogListener = std::function<void(int64_t job_id, int64_t offset, std::string_view bytes)>;
  // Called once a job row reached a final status (success, failed, canceled,
  // skipped): its log is complete.
  using FinishedListener = std::function<void(int64_t job_id)>;

  // Stores draft (project_id, ref, sha, source ...) with pipeline's jobs and
  // returns a recorder for it. store must outlive the recorder; next (may be
  // null) receives every log byte too, e.g. a console.
  static StatusOr<std::unique_ptr<RunRecorder>> Start(Store* store, const PipelineRecord& draft,
                                                      const Pipeline& pipeline,
                                                      LogSink* next = nullptr);
  // For a pipeline already stored (resuming after a restart): jobs are its
  // latest attempts (ListJobs without retried ones).
  RunRecorder(Store* store, PipelineRecord pipeline, const std::vector<JobRecord>& jobs,
              LogSink* next);

  // Called, with the recorder's lock held (it must be quick and must not
  // call back), once a job's deployment reached success, failed or
  // canceled, with the job's run (its checks' results).
  using DeploymentListener =
      std::function<void(const DeploymentRecord& deployment, const JobRun& run)>;

  // Set before the run starts (not thread-safe).
  void set_log_listener(LogListener listener) { on_log_ = std::move(listener); }
  void set_deployment_listener(DeploymentListener listener) {
    on_deployment_ = std::move(listener);
  }
  void set_finished_listener(FinishedListener listener) { on_finished_ = std::move(listener); }
  // Script jobs wait for a runner (remote executor, docs/runners.md): the
  // scheduler's running is stored as pending until Leased says a runner took
  // the job, as GitLab does. Trigger jobs are not affected.
  void set_start_on_lease(bool on) { start_on_lease_ = on; }
  // A runner took job_id (a row id of this pipeline): the job is running
  // from now on and runner is stored with it. Thread-safe; ignored for a
  // job not waiting for a runner.
  void Leased(int64_t job_id, const JobRunner& runner);

  // Thread-safe. Store errors cannot be returned from here: the first one is
  // kept (see status()) and later updates still go through.
  void OnJobUpdate(const JobRun& run) override;
  void Write(std::string_view job_name, std::string_view bytes) override;
  // The store's answer (AppendLog is one transaction: on an error nothing
  // was appended); an error once detached.
  Status WriteChecked(std::string_view job_name, std::string_view bytes) override;

  // From now on nothing more is written (status changes, log bytes): the
  // store keeps the run as it is, as if the process had died here. For a
  // server shutting down. Thread-safe.
  void Detach();

  // Sets the pipeline's final status from the run's.
  Status Finish(const RunResult& result);
  // Sets the pipeline's status to GitLab's composite of its jobs' latest
  // attempts (CompositeStatus), e.g. manual for a pipeline blocked by a
  // manual job; returns it, or the first error met while recording.
  StatusOr<CiStatus> FinishComposite();

  // OK, or the first error met while recording.
  Status status() const;
  int64_t pipeline_id() const { return pipeline_id_; }
  // The current (latest attempt's) row id of a job, or 0 if unknown.
  int64_t JobId(const std::string& name) const;
  // The current row of a job (as last written), if known.
  std::optional<JobRecord> Job(const std::string& name) const;

 private:
  // Moves the stored job to `to`, through pending if GitLab's state machine
  // needs that step (a job the scheduler runs without reporting pending).
  // runner (may be null) is stored with the job.
  void MoveLocked(JobRecord* job, CiStatus to, const JobRun& run,
                  const JobRunner* runner = nullptr);
  void UpdatePipelineLocked(CiStatus job_status);
  // A "pipeline_status" log line (docs/server.md, "Log").
  void LogPipelineStatus(CiStatus status) const;
  // The job's deployment follows it (docs/deployments.md): made when a job
  // with environment:action start runs, finished with it.
  void RecordDeploymentLocked(const JobRecord& job, CiStatus to, const JobRun& run);
  // GitLab's coverage of a finished job: its coverage: regexp (pattern,
  // without the slashes) over its stored log, up to kMaxCoverageLogBytes
  // (exec/coverage.h); nothing is stored when no line gives a number.
  void RecordCoverageLocked(const JobRecord& job, const std::string& pattern);
  static constexpr int64_t kMaxCoverageLogBytes = int64_t{64} << 20;
  void KeepError(const Status& s);

  Store* store_;
  LogSink* next_;
  const int64_t pipeline_id_;
  const int64_t project_id_;
  mutable std::mutex mu_;
  CiStatus pipeline_status_ GUARDED_BY(mu_);
  std::map<std::string, JobRecord> jobs_ GUARDED_BY(mu_);   // By name.
  std::map<int64_t, int64_t> deployments_ GUARDED_BY(mu_);  // Job row id -> deployment id.
  // With start_on_lease_: the jobs the scheduler runs that no runner took
  // yet, by name, as the scheduler last reported them.
  std::map<std::string, JobRun> awaiting_runner_ GUARDED_BY(mu_);
  bool start_on_lease_ = false;
  const std::string ref_, sha_;  // The pipeline's.
  Status first_error_ GUARDED_BY(mu_);
  bool detached_ GUARDED_BY(mu_) = false;
  LogListener on_log_;
  FinishedListener on_finished_;
  DeploymentListener on_deployment_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_RUN_RECORDER_H_
