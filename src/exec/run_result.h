// What a pipeline run produced: each job's status, timing, exit code and log,
// and the pipeline's overall status. Written by the scheduler, read by the
// console summary and the JSON report (docs/report.md).
#ifndef SLIPWAY_EXEC_RUN_RESULT_H_
#define SLIPWAY_EXEC_RUN_RESULT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/variables.h"
#include "exec/artifact_index.h"
#include "exec/deploy_verifier.h"
#include "pipeline/ci_status.h"
#include "pipeline/job.h"
#include "util/clock.h"

namespace slipway {

struct DownstreamRun;  // exec/downstream.h

struct JobRun {
  const Job* job = nullptr;  // Points into the Pipeline the scheduler ran.
  CiStatus status = CiStatus::kCreated;
  // Effective allow_failure: true when `allow_failure: true`, or when the job
  // failed with one of `allow_failure:exit_codes`.
  bool allow_failure = false;
  std::optional<int> exit_code;  // Set once an attempt has ended with one.
  std::string failure_reason;    // GitLab's failure_reason; empty unless failed.
  // slipway's own words for why the job failed, where GitLab's reason alone
  // would mislead (an unsupported trigger: job); usually empty.
  std::string failure_message;
  int retries = 0;                             // Attempts beyond the first.
  std::optional<Clock::WallTime> started_at;   // First attempt's start.
  std::optional<Clock::WallTime> finished_at;  // Last attempt's end.
  double duration_s = 0;                       // Sum over attempts of running time.
  std::string job_dir;                         // run_dir/jobs/<dir>; empty if the job never ran.
  std::string log_path;                        // The job's full log; empty if it never ran.
  std::string summary;                         // From the executor (e.g. JUnit counts).
  VariableList dotenv;                         // artifacts:reports:dotenv of the last attempt.
  // What the job dir held as artifacts when the last attempt ended (not for
  // a canceled attempt, which keeps none), paths relative to the run dir
  // (`jobs/<dir>/artifacts`); empty without a run dir.
  std::vector<JobArtifact> artifacts;
  // The child or multi-project pipeline a trigger: job's last attempt
  // started; null for other jobs and when none was created.
  std::shared_ptr<const DownstreamRun> downstream;
  // The image the last attempt ran in (JobResult::image, ::image_digest).
  std::string image, image_digest;
  // The job's environment as its last attempt's variables had it
  // (CI_ENVIRONMENT_NAME, _URL, _TIER, _ACTION), with the job's
  // environment:on_stop and auto_stop_in; name empty: none.
  struct Environment {
    std::string name, url, tier, action, on_stop, auto_stop_in;
  } environment;
  // The deployment checks' results of the last attempt (JobResult::checks).
  std::vector<CheckResult> checks;
};

struct RunResult {
  CiStatus status = CiStatus::kSuccess;  // success, failed or canceled (RunPlan::Outcome).
  Clock::WallTime started_at;
  Clock::WallTime finished_at;
  double duration_s = 0;
  std::vector<JobRun> jobs;  // In the Pipeline's job order.
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_RUN_RESULT_H_
