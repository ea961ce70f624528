// Downstream pipelines: what a trigger: job (GitLab's bridge) starts. The
// scheduler runs a trigger job's attempt like any other job's, but hands it
// to a DownstreamRunner instead of the executor; whoever runs pipelines
// decides what a downstream pipeline is. `slipway run` runs it in the same
// invocation (exec/child_pipeline.h); the server would create a pipeline of
// its own linked to the parent (source parent_pipeline or pipeline) and, for
// strategy: depend, finish the trigger job when that pipeline finishes.
#ifndef SLIPWAY_EXEC_DOWNSTREAM_H_
#define SLIPWAY_EXEC_DOWNSTREAM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "config/variables.h"
#include "exec/executor.h"
#include "exec/run_result.h"
#include "pipeline/instantiate.h"
#include "util/cancel_token.h"

namespace slipway {

// A downstream pipeline a trigger job created, as the run's result keeps it
// (JobRun::downstream): shown nested under the trigger job by the console,
// the summary and the report (docs/report.md).
struct DownstreamRun {
  bool multi_project = false;  // trigger:project; else a child pipeline.
  std::string project;         // trigger:project's path; empty for a child.
  int64_t pipeline_id = 0;     // Its CI_PIPELINE_ID.
  // Where its jobs' directories are: <trigger job dir>/child (absolute).
  std::string run_dir;
  // Owns the jobs result.jobs point into.
  std::shared_ptr<const Pipeline> pipeline;
  RunResult result;
};

// A finished job of an upstream pipeline whose artifacts a job of a child
// pipeline takes (needs:pipeline with job:).
struct UpstreamArtifacts {
  std::string job_name;
  std::string artifacts_dir;  // Its artifacts as a tree (ArtifactFetcher::Fetch); "": none.
  VariableList dotenv;        // Its artifacts:reports:dotenv variables.
};

// What a trigger job's attempt gives the pipeline it starts: the job's
// variables and directory, and the jobs whose artifacts it receives, by
// name, with their artifacts and dotenv variables (through host.artifacts).
struct TriggerContext {
  std::string project_dir;  // JobSpec::repository.
  std::string job_dir;      // JobHost::job_dir.
  VariableList variables;   // JobSpec::variables.
  std::vector<UpstreamArtifacts> sources;
};
StatusOr<TriggerContext> MakeTriggerContext(const JobSpec& spec, const JobHost& host);

class DownstreamRunner {
 public:
  virtual ~DownstreamRunner() = default;
  // Carries out one attempt of the trigger job `job` (context as for an
  // executor; log is the trigger job's log). Blocking; called from scheduler
  // worker threads, several at once. Without strategy: depend the result is
  // a success once the downstream pipeline is created; with it, the
  // downstream pipeline's status (success; failed or skipped -> failed;
  // canceled -> canceled). A pipeline that cannot be created fails the job
  // with GitLab's failure_reason and JobResult::failure_message saying why.
  // Must return promptly with kCanceled once cancel is set, after canceling
  // what it started. JobResult::downstream holds the pipeline when one ran.
  virtual JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                        const CancelToken& cancel) = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_DOWNSTREAM_H_
