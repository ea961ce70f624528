#include "exec/child_pipeline.h"

#include "exec/run_dir.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "exec/dotenv.h"
#include "exec/downstream_create.h"
#include "exec/nested_output.h"
#include "pipeline/trigger.h"
#include "util/thread_annotations.h"

namespace slipway {
namespace {

JobResult Fail(const Job& job, LogSink* log, const std::string& reason,
               const std::string& message) {
  if (log != nullptr) log->Write(job.name, "ERROR: Job failed: " + message + "\n");
  JobResult failed;
  failed.outcome = JobOutcome::kFailed;
  failed.failure_reason = reason;
  failed.failure_message = message;
  return failed;
}

// The status a trigger job with strategy: depend (or mirror) takes from its
// downstream pipeline once that ends (GitLab's
// Bridge#inherit_status_from_downstream!).
JobResult Mirror(CiStatus status, const std::string& strategy) {
  JobResult result;
  switch (status) {
    case CiStatus::kSuccess:
      result.outcome = JobOutcome::kSuccess;
      break;
    case CiStatus::kCanceled:
      result.outcome = JobOutcome::kCanceled;
      break;
    default:
      result.outcome = JobOutcome::kFailed;
      result.failure_reason = "unknown_failure";
      result.failure_message = std::string("the downstream pipeline ") + CiStatusName(status) +
                               " (strategy: " + strategy + ")";
      break;
  }
  return result;
}

// Cancels scheduler once cancel is set, until stopped: the attempt's token
// is polled, as executors poll it.
class CancelWatch {
 public:
  CancelWatch(const CancelToken& cancel, Scheduler* scheduler)
      : thread_([this, &cancel, scheduler] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!stop_) {
            if (cancel.canceled()) {
              scheduler->Cancel();
              return;
            }
            cv_.wait_for(lock, std::chrono::milliseconds(20));
          }
        }) {}
  ~CancelWatch() {
    {
      std::lock_guard<std::mutex> guard(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The jobs of the parent whose artifacts a child's needs:pipeline may name:
// those the trigger job's attempt receives (they have finished).
UpstreamPipeline ParentJobs(const TriggerContext& context, const std::string& pipeline_id) {
  UpstreamPipeline parent;
  parent.pipeline_id = pipeline_id;
  for (const UpstreamArtifacts& source : context.sources) {
    if (!source.job_name.empty()) parent.jobs[source.job_name] = source;
  }
  return parent;
}

// The variables a needs:pipeline value is expanded with: the child's
// pipeline-level ones and the job's own.
VariableList NeedVariables(const Job& job, const PipelineContext& context) {
  VariableList vars = context.predefined;
  vars.Merge(job.variables);
  vars.Merge(context.cli_variables);
  return vars;
}

const UpstreamArtifacts* FindUpstream(const std::vector<UpstreamPipeline>& upstream,
                                      const std::string& pipeline_id, const std::string& job) {
  for (const UpstreamPipeline& p : upstream) {
    if (p.pipeline_id != pipeline_id) continue;
    auto it = p.jobs.find(job);
    if (it != p.jobs.end()) return &it->second;
  }
  return nullptr;
}

// Checks that every needs:pipeline of the child names a job of a pipeline
// above it that this run has; "" or the problem.
std::string CheckUpstreamNeeds(const Pipeline& pipeline, const PipelineContext& context,
                               const std::vector<UpstreamPipeline>& upstream) {
  for (const Job& job : pipeline.jobs) {
    if (!job.needs) continue;
    for (const Need& need : *job.needs) {
      if (need.pipeline.empty() || !need.project.empty()) continue;
      std::string id = ExpandVariables(need.pipeline, NeedVariables(job, context));
      if (FindUpstream(upstream, id, need.job) != nullptr) continue;
      return "job '" + job.name + "' needs job '" + need.job + "' of pipeline '" + id +
             "', which is not a finished job the trigger job takes artifacts from in an "
             "upstream pipeline of this run";
    }
  }
  return "";
}

// Report paths of the child's artifacts, relative to the run's directory.
void RebaseArtifacts(RunResult* result, const std::string& child_run_dir,
                     const std::string& top_run_dir) {
  if (child_run_dir.empty() || top_run_dir.empty()) return;
  std::string prefix =
      std::filesystem::path(child_run_dir).lexically_relative(top_run_dir).string() + "/";
  for (JobRun& run : result->jobs) {
    for (JobArtifact& a : run.artifacts) a.path = prefix + a.path;
  }
}

}  // namespace

// What RunDownstream needs of a created downstream pipeline; it outlives
// the trigger job's attempt when the pipeline runs in the background.
struct ChildPipelineRunner::Started {
  std::string trigger_job;
  bool child = true;
  std::string project;
  CreatedPipeline created;
  std::vector<UpstreamPipeline> upstream;
  std::shared_ptr<DownstreamRun> run;  // Filled in by RunDownstream.
};

ChildPipelineRunner::ChildPipelineRunner(ChildPipelineOptions options)
    : options_(std::move(options)) {
  if (!options_.next_pipeline_id) {
    options_.next_pipeline_id = std::make_shared<std::atomic<int64_t>>(1);
  }
}

ChildPipelineRunner::~ChildPipelineRunner() {
  CancelAll();
  Wait();
}

void ChildPipelineRunner::CancelAll() { cancel_all_.Cancel(); }

void ChildPipelineRunner::Wait() {
  while (true) {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> guard(mu_);
      threads.swap(background_);
    }
    if (threads.empty()) return;
    for (std::thread& t : threads) t.join();
  }
}

JobResult ChildPipelineRunner::Run(const Job& job, const JobSpec& spec, const JobHost& host,
                                   LogSink* log, const CancelToken& cancel) {
  StatusOr<TriggerContext> made = MakeTriggerContext(spec, host);
  if (!made.ok()) return Fail(job, log, "runner_system_failure", made.status().message());
  const TriggerContext& context = *made;
  Diagnostics diags;
  std::optional<Trigger> trigger = ParseTrigger(*job.trigger, job.name, &diags);
  if (!trigger) {
    return Fail(job, log, kTriggerFailureReason, diags.items().front().Format());
  }
  const bool child = trigger->kind == Trigger::Kind::kChild;
  if (child && options_.child_depth >= kMaxChildPipelineDepth) {
    return Fail(job, log, kMaxDepthFailureReason,
                std::string(kMaxDepthMessage) + " (" + std::to_string(kMaxChildPipelineDepth) +
                    " levels of child pipelines below the pipeline started)");
  }
  if (options_.depth >= kMaxDownstreamDepth) {
    return Fail(job, log, "reached_max_pipeline_hierarchy_size",
                "The downstream pipeline tree is too large (" +
                    std::to_string(kMaxDownstreamDepth) + " levels of downstream pipelines)");
  }
  const std::string* own_id = options_.context.predefined.Get("CI_PIPELINE_ID");
  int64_t number = options_.next_pipeline_id->fetch_add(1);
  DownstreamSource source;
  source.parent = options_.context;
  source.variables = TriggerVariables(job, *trigger, context, options_.context.cli_variables);
  source.pipeline_id = std::to_string(number);
  std::unique_ptr<IncludeFetcher> fetcher;
  if (options_.make_fetcher) fetcher = options_.make_fetcher();
  source.fetcher = fetcher.get();
  auto started = std::make_unique<Started>();
  started->trigger_job = job.name;
  started->child = child;
  if (!child) {
    started->project = ExpandVariables(trigger->project, context.variables);
    auto mapped = options_.project_dirs.find(started->project);
    if (mapped != options_.project_dirs.end()) source.project_dir = mapped->second;
  }
  std::optional<CreatedPipeline> created =
      CreateDownstreamPipeline(*trigger, context, source, &diags);
  if (log != nullptr) {
    for (const Diagnostic& d : diags.items()) log->Write(job.name, d.Format() + "\n");
  }
  if (!created) {
    std::string first;
    for (const Diagnostic& d : diags.items()) {
      if (d.severity == Severity::kError && first.empty()) first = d.Format();
    }
    return Fail(job, log, kTriggerFailureReason,
                std::string(child ? "the child" : "the downstream") +
                    " pipeline cannot be created: " + first);
  }
  if (!created->pipeline->created) {
    return Fail(
        job, log, kTriggerFailureReason,
        "the downstream pipeline was not created: " + created->pipeline->not_created_reason);
  }
  started->upstream = options_.upstream;
  if (child) started->upstream.push_back(ParentJobs(context, own_id != nullptr ? *own_id : ""));
  if (std::string problem =
          CheckUpstreamNeeds(*created->pipeline, created->context, started->upstream);
      !problem.empty()) {
    return Fail(job, log, kTriggerFailureReason,
                "the child pipeline cannot be created: " + problem);
  }
  started->created = std::move(*created);
  started->run = std::make_shared<DownstreamRun>();
  DownstreamRun& run = *started->run;
  run.multi_project = !child;
  run.project = started->project;
  run.pipeline_id = number;
  run.run_dir = context.job_dir.empty() ? "" : context.job_dir + "/child";
  run.pipeline = started->created.pipeline;
  if (log != nullptr) {
    log->Write(
        job.name,
        std::string("Created ") + (child ? "child" : "downstream") + " pipeline " +
            source.pipeline_id + (child ? "" : " of project " + started->project) + " with " +
            std::to_string(run.pipeline->jobs.size()) + " jobs" +
            (trigger->depend ? "; waiting for it (strategy: " + trigger->strategy + ")" : "") +
            "\n");
  }
  JobResult out;
  out.downstream = started->run;
  if (!trigger->depend) {
    // GitLab: the trigger job succeeds once the pipeline is created, which
    // then runs on its own; the run waits for it before it ends (Wait).
    out.outcome = JobOutcome::kSuccess;
    std::lock_guard<std::mutex> guard(mu_);
    background_.emplace_back([this, s = std::shared_ptr<Started>(std::move(started))] {
      RunDownstream(*s, cancel_all_);
    });
    return out;
  }
  RunDownstream(*started, cancel);
  CiStatus status = run.result.status;
  if (log != nullptr) {
    log->Write(job.name, std::string(child ? "Child" : "Downstream") + " pipeline " +
                             source.pipeline_id + " " + CiStatusName(status) + "\n");
  }
  if (cancel.canceled()) {
    out.outcome = JobOutcome::kCanceled;
    return out;
  }
  JobResult mirrored = Mirror(status, trigger->strategy);
  mirrored.downstream = std::move(out.downstream);
  return mirrored;
}

void ChildPipelineRunner::RunDownstream(Started& started, const CancelToken& cancel) {
  DownstreamRun& run = *started.run;
  const Pipeline& pipeline = *started.created.pipeline;
  NestedOutput output(options_.log, options_.observer, started.trigger_job);
  if (options_.on_jobs) {
    std::vector<std::string> names;
    for (const Job& j : pipeline.jobs) names.push_back(output.Name(j.name));
    options_.on_jobs(names);
  }
  ChildPipelineOptions next = options_;
  next.context = started.created.context;
  next.log = &output;
  next.observer = &output;
  next.on_jobs = [this, &output](const std::vector<std::string>& names) {
    std::vector<std::string> shown;
    for (const std::string& name : names) shown.push_back(output.Name(name));
    if (options_.on_jobs) options_.on_jobs(shown);
  };
  next.child_depth = options_.child_depth + (started.child ? 1 : 0);
  next.depth = options_.depth + 1;
  next.upstream = started.child ? started.upstream : std::vector<UpstreamPipeline>{};
  ChildPipelineRunner downstream(std::move(next));

  SchedulerOptions scheduler_options;
  scheduler_options.max_parallel = options_.max_parallel;
  scheduler_options.project_dir = started.created.context.project_dir;
  scheduler_options.ref = started.created.context.commit;
  scheduler_options.run_dir = run.run_dir;
  scheduler_options.cache_dir =
      started.child ? options_.cache_dir
                    : options_.cache_dir + "/projects/" + JobDirName(started.project);
  scheduler_options.predefined = started.created.context.predefined;
  scheduler_options.cli_variables = started.created.context.cli_variables;
  scheduler_options.default_timeout = options_.default_timeout;
  scheduler_options.downstream = &downstream;
  scheduler_options.upstream_artifacts = [&started](const Job& j) {
    std::vector<UpstreamArtifacts> sources;
    if (!j.needs) return sources;
    for (const Need& need : *j.needs) {
      if (need.pipeline.empty() || !need.project.empty() || !need.artifacts) continue;
      std::string id = ExpandVariables(need.pipeline, NeedVariables(j, started.created.context));
      if (const UpstreamArtifacts* u = FindUpstream(started.upstream, id, need.job)) {
        sources.push_back(*u);
      }
    }
    return sources;
  };
  Scheduler scheduler(pipeline, options_.executor, options_.clock, &output, &output,
                      std::move(scheduler_options));
  StatusOr<RunResult> result = Status::Error("not run");
  {
    CancelWatch watch(cancel, &scheduler);
    result = scheduler.Run();
    // Downstream pipelines of its own that run in the background belong to
    // it: they end (or are canceled) with it.
    if (cancel.canceled()) downstream.CancelAll();
    downstream.Wait();
  }
  if (!result.ok()) {
    // Cannot happen once the pipeline was instantiated (selection is empty);
    // shown as a failed pipeline rather than lost.
    run.result.status = CiStatus::kFailed;
    return;
  }
  RebaseArtifacts(&*result, run.run_dir, options_.top_run_dir);
  run.result = std::move(*result);
}

}  // namespace slipway
