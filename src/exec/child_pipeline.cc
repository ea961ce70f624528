#include "exec/child_pipeline.h"

#include "exec/run_dir.h"

#include <filesystem>
#include <mutex>
#include <thread>

#include "exec/cancel_watch.h"
#include "exec/dotenv.h"
#include "exec/downstream_create.h"
#include "exec/nested_output.h"
#include "pipeline/trigger.h"
#include "util/thread_annotations.h"

namespace slipway {
namespace {

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
      std::string id = ExpandVariables(need.pipeline, NeedPipelineVariables(job, context));
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
  JobResult failed;
  std::optional<TriggerAttempt> attempt = BeginTrigger(job, spec, host, log, &failed);
  if (!attempt) return failed;
  const TriggerContext& context = attempt->context;
  const Trigger* trigger = &attempt->trigger;
  Diagnostics diags;
  const bool child = trigger->kind == Trigger::Kind::kChild;
  std::string depth_reason;
  if (std::string problem =
          DownstreamDepthProblem(child, options_.child_depth, options_.depth, &depth_reason);
      !problem.empty()) {
    return FailTrigger(job, log, depth_reason, problem);
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
    return FailTrigger(job, log, kTriggerFailureReason,
                       std::string(child ? "the child" : "the downstream") +
                           " pipeline cannot be created: " + first);
  }
  if (!created->pipeline->created) {
    return FailTrigger(
        job, log, kTriggerFailureReason,
        "the downstream pipeline was not created: " + created->pipeline->not_created_reason);
  }
  started->upstream = options_.upstream;
  if (child) started->upstream.push_back(ParentJobs(context, own_id != nullptr ? *own_id : ""));
  if (std::string problem =
          CheckUpstreamNeeds(*created->pipeline, created->context, started->upstream);
      !problem.empty()) {
    return FailTrigger(job, log, kTriggerFailureReason,
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
  JobResult mirrored = DownstreamOutcome(status, trigger->strategy);
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
  scheduler_options.masked_values = options_.masked_values;
  scheduler_options.default_timeout = options_.default_timeout;
  scheduler_options.downstream = &downstream;
  scheduler_options.upstream_artifacts = [&started](const Job& j) {
    std::vector<UpstreamArtifacts> sources;
    if (!j.needs) return sources;
    for (const Need& need : *j.needs) {
      if (need.pipeline.empty() || !need.project.empty() || !need.artifacts) continue;
      std::string id =
          ExpandVariables(need.pipeline, NeedPipelineVariables(j, started.created.context));
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
    CancelWatch watch(cancel, [&scheduler] { scheduler.Cancel(); });
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
