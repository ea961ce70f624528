// Records a scheduler run in the store, so that a pipeline run by the server
// leaves the same history `slipway run` prints: every job status change
// becomes a job row update (a retried attempt becomes a new row, as in
// GitLab), every log byte an AppendLog, and the pipeline's status follows.
// Plug it into the Scheduler as both its RunObserver and its LogSink.
#ifndef SLIPWAY_STORE_RUN_RECORDER_H_
#define SLIPWAY_STORE_RUN_RECORDER_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exec/run_result.h"
#include "exec/scheduler.h"
#include "pipeline/instantiate.h"
#include "store/store.h"

namespace slipway {

// The job rows for pipeline's jobs, in its order: name, stage and its index,
// when, allow_failure, needs; status created.
std::vector<JobRecord> JobRecordsFor(const Pipeline& pipeline);

class RunRecorder : public RunObserver, public LogSink {
 public:
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

  // Thread-safe. Store errors cannot be returned from here: the first one is
  // kept (see status()) and later updates still go through.
  void OnJobUpdate(const JobRun& run) override;
  void Write(std::string_view job_name, std::string_view bytes) override;

  // Sets the pipeline's final status from the run's.
  Status Finish(const RunResult& result);

  // OK, or the first error met while recording.
  Status status() const;
  int64_t pipeline_id() const { return pipeline_id_; }
  // The current (latest attempt's) row id of a job, or 0 if unknown.
  int64_t JobId(const std::string& name) const;

 private:
  // Moves the stored job to `to`, through pending if GitLab's state machine
  // needs that step (a job the scheduler runs without reporting pending).
  void MoveLocked(JobRecord* job, CiStatus to, const JobRun& run);
  void UpdatePipelineLocked(CiStatus job_status);
  void KeepError(const Status& s);

  Store* store_;
  LogSink* next_;
  const int64_t pipeline_id_;
  mutable std::mutex mu_;
  CiStatus pipeline_status_;               // Guarded by mu_.
  std::map<std::string, JobRecord> jobs_;  // By name; guarded by mu_.
  Status first_error_;                     // Guarded by mu_.
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_RUN_RECORDER_H_
