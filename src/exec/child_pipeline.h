// Downstream pipelines in `slipway run`: a trigger: job's child pipeline
// (trigger:include: local, template, project files, or a file a job of this
// pipeline kept as an artifact) or another project's pipeline
// (trigger:project, where the user maps the project to a local repository)
// runs in the same invocation, with the same executor, --jobs and cancel, its
// jobs' directories under the trigger job's (<job dir>/child/jobs/<dir>) and
// its jobs shown under the trigger job (NestedOutput). docs/child-pipelines.md.
#ifndef SLIPWAY_EXEC_CHILD_PIPELINE_H_
#define SLIPWAY_EXEC_CHILD_PIPELINE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/include_fetcher.h"
#include "exec/downstream.h"
#include "exec/downstream_create.h"
#include "exec/executor.h"
#include "exec/scheduler.h"
#include "pipeline/instantiate.h"
#include "util/clock.h"
#include "util/thread_annotations.h"

namespace slipway {

// The jobs of one pipeline above a child whose artifacts the child's jobs
// may take with needs:pipeline (by the pipeline's CI_PIPELINE_ID).
struct UpstreamPipeline {
  std::string pipeline_id;
  std::map<std::string, UpstreamArtifacts> jobs;  // By job name.
};

struct ChildPipelineOptions {
  Executor* executor = nullptr;  // Not owned; runs the child's script jobs.
  Clock* clock = nullptr;        // Not owned.
  int max_parallel = 1;
  std::chrono::milliseconds default_timeout = std::chrono::hours(1);
  // The pipeline whose trigger jobs this runner carries out: its project,
  // commit, predefined variables (CI_PIPELINE_ID ...) and pipeline
  // variables (--variable values, or what its own trigger job passed).
  PipelineContext context;
  std::string cache_dir;
  // The run's directory: the report's paths are relative to it.
  std::string top_run_dir;
  // A fetcher for one load (template and project includes), made per child
  // because loads run at once on worker threads. Null: none.
  std::function<std::unique_ptr<IncludeFetcher>()> make_fetcher;
  // Where the pipeline's jobs show (not owned; may be null): the child's
  // jobs go there renamed by NestedOutput.
  LogSink* log = nullptr;
  RunObserver* observer = nullptr;
  // Called with the shown names of a child's jobs when it is created (the
  // console counts them).
  std::function<void(const std::vector<std::string>&)> on_jobs;
  // trigger:project paths (group/name) mapped to local repositories.
  std::map<std::string, std::string> project_dirs;
  // SchedulerOptions::masked_values of the whole run: a downstream
  // pipeline's jobs hide them too.
  std::vector<std::string> masked_values;
  // Levels of child pipelines above this pipeline (0: the one the user
  // started), and of downstream pipelines of either kind.
  int child_depth = 0;
  int depth = 0;
  // Pipelines above this one, nearest last.
  std::vector<UpstreamPipeline> upstream;
  // Hands out downstream pipeline ids, shared by every level of the run.
  std::shared_ptr<std::atomic<int64_t>> next_pipeline_id;
};

// Thread-safe. A trigger job with strategy: depend runs its pipeline in its
// own attempt (Run blocks until it ends; canceling the attempt cancels it).
// Without depend the job succeeds once the pipeline is created, as in
// GitLab, and the pipeline runs on a thread of its own: the run calls Wait
// before it reports, and CancelAll on Ctrl-C.
class ChildPipelineRunner : public DownstreamRunner {
 public:
  explicit ChildPipelineRunner(ChildPipelineOptions options);
  // Cancels and waits for pipelines still running in the background.
  ~ChildPipelineRunner() override;
  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel) override;
  // Cancels the pipelines running in the background, and those they start.
  void CancelAll();
  // Returns once every pipeline started in the background has ended.
  void Wait();

 private:
  struct Started;
  void RunDownstream(Started& started, const CancelToken& cancel);

  ChildPipelineOptions options_;
  CancelToken cancel_all_;
  std::mutex mu_;
  std::vector<std::thread> background_ GUARDED_BY(mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_CHILD_PIPELINE_H_
