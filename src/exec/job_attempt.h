// One attempt of a job as a scheduler worker carries it out, outside the
// scheduler's lock: the job dir and its log file (every attempt of a job
// appends to one log), the executor's run — or, for a trigger: job, which has
// nothing to run yet, its failure — and the artifacts the attempt left.
#ifndef SLIPWAY_EXEC_JOB_ATTEMPT_H_
#define SLIPWAY_EXEC_JOB_ATTEMPT_H_

#include <vector>

#include "exec/artifact_index.h"
#include "exec/downstream.h"
#include "exec/executor.h"
#include "exec/job_gate.h"
#include "pipeline/job.h"
#include "util/secret_mask.h"

namespace slipway {

// GitLab's failure reason of a job whose dependencies' artifacts are missing.
inline constexpr char kMissingDependencyReason[] = "missing_dependency_failure";

struct AttemptOutcome {
  JobResult result;
  // What host.job_dir holds as artifacts once the attempt ended, paths
  // relative to host.run_dir; empty for a canceled attempt (it keeps
  // none) and without a job dir.
  std::vector<JobArtifact> artifacts;
};

// Runs one attempt of job with executor. With host.job_dir, creates it and
// writes the attempt's output to <job_dir>/log as well as to log (may be
// null); a job dir or log that cannot be made fails the attempt with
// runner_system_failure. A trigger: job is not given to the executor but to
// downstream; without one it fails with kTriggerFailureReason, its log
// saying kTriggerNotSupported. With masked (may be null), the values it
// stands for are hidden in everything the attempt prints, on disk and in
// log, and in its failure_message.
AttemptOutcome RunJobAttempt(const Job& job, const JobSpec& spec, const JobHost& host,
                             Executor* executor, DownstreamRunner* downstream,
                             const MaskPatterns* masked, LogSink* log, const CancelToken& cancel);

// An attempt of job refused before it runs — by the gate (JobGate::Check),
// or because the artifacts it needs cannot be had (kMissingDependencyReason):
// it fails with the refusal's reason without running, its log (host.job_dir/log when set, and
// log) saying why.
AttemptOutcome RefuseJobAttempt(const Job& job, const JobHost& host, LogSink* log,
                                const JobRefusal& refusal);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_JOB_ATTEMPT_H_
