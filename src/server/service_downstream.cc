// Trigger jobs in the server: child and multi-project pipelines as stored
// pipelines linked to their trigger job (docs/child-pipelines.md, "In
// `slipway serve`").
#include "server/service_downstream.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "exec/cancel_watch.h"
#include "exec/downstream_create.h"
#include "exec/run_dir.h"
#include "server/run_recorder.h"

namespace slipway {
namespace internal {
namespace {

// Bounds walks up the upstream links; creation keeps them below
// kMaxDownstreamDepth, and each points to an older pipeline.
constexpr int kMaxUpstreamLinks = kMaxDownstreamDepth + 1;

// include:artifact paths as ReadTriggerArtifact reads them.
std::string ArtifactPath(std::string path) {
  while (path.rfind("./", 0) == 0) path.erase(0, 2);
  return path;
}

// trigger:include's `artifact` entries: (job, artifact path).
std::vector<std::pair<std::string, std::string>> TriggerArtifacts(const Trigger& trigger) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Node& entry : trigger.include.items) {
    const Node* artifact = entry.Find("artifact");
    const Node* job = entry.Find("job");
    if (artifact == nullptr || job == nullptr || !artifact->IsScalar() || !job->IsScalar())
      continue;
    out.emplace_back(job->scalar, ArtifactPath(artifact->scalar));
  }
  return out;
}

std::vector<StoredVariable> ToStored(const VariableList& variables) {
  std::vector<StoredVariable> out;
  for (const Variable& v : variables.items()) out.push_back({v.name, v.value, "env_var"});
  return out;
}

// The pipeline's ancestors, nearest first (its parent, then the parent's).
std::vector<PipelineRecord> Upstream(Store* store, const PipelineRecord& pipeline) {
  std::vector<PipelineRecord> out;
  PipelineRecord p = pipeline;
  while (p.upstream_pipeline_id && out.size() < static_cast<size_t>(kMaxUpstreamLinks)) {
    auto up = store->GetPipeline(*p.upstream_pipeline_id);
    if (!up.ok() || !*up || (*up)->id >= p.id) break;
    p = **up;
    out.push_back(p);
  }
  return out;
}

}  // namespace

std::vector<std::string> TriggerArtifactJobs(const Trigger& trigger) {
  std::vector<std::string> jobs;
  for (const auto& [job, path] : TriggerArtifacts(trigger)) {
    if (std::find(jobs.begin(), jobs.end(), job) == jobs.end()) jobs.push_back(job);
  }
  return jobs;
}

void ServerDownstream::Depths(int* child_depth, int* depth) const {
  *child_depth = 0;
  *depth = 0;
  const PipelineRecord* below = &record_;
  std::vector<PipelineRecord> upstream = Upstream(service_->store_, record_);
  for (const PipelineRecord& p : upstream) {
    ++*depth;
    if (below->source == "parent_pipeline") ++*child_depth;
    below = &p;
  }
}

StatusOr<ProjectRecord> ServerDownstream::TriggeredProject(const std::string& path,
                                                           std::string* reason) const {
  *reason = kTriggerFailureReason;
  StatusOr<std::optional<ProjectRecord>> found = service_->store_->GetProjectByPath(path);
  if (!found.ok()) return found.status();
  if (!*found) {
    *reason = kProjectNotFoundReason;
    return Status::Error("downstream project could not be found: no project `" + path +
                         "` is registered on this server");
  }
  const ProjectRecord& target = **found;
  if (target.id == project_.id) {
    *reason = kInvalidTriggerReason;
    return Status::Error(
        "downstream pipeline trigger definition is invalid: a project cannot trigger a pipeline "
        "of itself with trigger:project (use trigger:include for a child pipeline)");
  }
  if (TopGroup(target.path_with_namespace) != TopGroup(project_.path_with_namespace)) {
    *reason = kNoPermissionsReason;
    return Status::Error("no permissions to trigger downstream pipeline: project `" + path +
                         "` is not in the top-level group `" +
                         TopGroup(project_.path_with_namespace) + "` of project `" +
                         project_.path_with_namespace + "`");
  }
  return target;
}

JobResult ServerDownstream::Run(const Job& job, const JobSpec& spec, const JobHost& host,
                                LogSink* log, const CancelToken& cancel) {
  JobResult failed;
  std::optional<TriggerAttempt> attempt = BeginTrigger(job, spec, host, log, &failed);
  if (!attempt) return failed;
  const TriggerContext& context = attempt->context;
  const Trigger* trigger = &attempt->trigger;
  const bool child = trigger->kind == Trigger::Kind::kChild;
  int child_depth = 0;
  int depth = 0;
  Depths(&child_depth, &depth);
  std::string reason;
  if (std::string problem = DownstreamDepthProblem(child, child_depth, depth, &reason);
      !problem.empty()) {
    return FailTrigger(job, log, reason, problem);
  }
  const std::string* job_id = spec.variables.Get("CI_JOB_ID");
  CreatePipelineRequest request;
  request.upstream_pipeline_id = record_.id;
  request.upstream_job_id = job_id != nullptr ? std::strtoll(job_id->c_str(), nullptr, 10) : 0;
  request.variables = ToStored(TriggerVariables(job, *trigger, context, context_.cli_variables));
  const char* what = child ? "child" : "downstream";
  std::string project_path;
  if (child) {
    request.project_id = record_.project_id;
    request.ref = record_.ref;
    request.tag = record_.tag;
    request.sha = record_.sha;
    request.source = "parent_pipeline";
    for (const auto& [from_job, path] : TriggerArtifacts(*trigger)) {
      std::string shown;
      StatusOr<std::string> text = ReadTriggerArtifact(context, from_job, path, &shown);
      if (!text.ok()) {
        return FailTrigger(job, log, kTriggerFailureReason,
                           "the child pipeline cannot be created: " + text.status().message());
      }
      request.trigger_artifacts.push_back({from_job, path, std::move(*text)});
    }
  } else {
    project_path = ExpandVariables(trigger->project, context.variables);
    StatusOr<ProjectRecord> target = TriggeredProject(project_path, &reason);
    if (!target.ok()) return FailTrigger(job, log, reason, target.status().message());
    request.project_id = target->id;
    request.ref = ExpandVariables(trigger->branch, context.variables);
    request.source = "pipeline";
  }
  StatusOr<PipelineRecord> created = service_->CreatePipeline(request);
  if (!created.ok()) {
    std::string message = created.status().message();
    if (log != nullptr) log->Write(job.name, message + "\n");
    return FailTrigger(job, log, kTriggerFailureReason,
                       std::string("the ") + what +
                           " pipeline cannot be created: " + message.substr(0, message.find('\n')));
  }
  const int64_t id = created->id;
  if (log != nullptr) {
    StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(service_->store_, id);
    log->Write(
        job.name,
        std::string("Created ") + what + " pipeline " + std::to_string(id) +
            (child ? "" : " of project " + project_path) + " with " +
            std::to_string(jobs.ok() ? jobs->size() : 0) + " jobs" +
            (trigger->depend ? "; waiting for it (strategy: " + trigger->strategy + ")" : "") +
            "\n");
  }
  JobResult out;
  if (!trigger->depend) {
    // GitLab: the trigger job succeeds once the pipeline is created; the
    // pipeline is queued and runs on its own.
    out.outcome = JobOutcome::kSuccess;
    return out;
  }
  StatusOr<CiStatus> status = Status::Error("not run");
  {
    // The trigger job carries the pipeline it waits for: canceling it (or
    // its pipeline) cancels that pipeline, unless the server is stopping
    // (then both stay as they are, to be resumed).
    Service* service = service_;
    CancelWatch watch(cancel, [service, id] {
      {
        std::lock_guard<std::mutex> lock(service->mu_);
        if (service->stopping_) return;
      }
      (void)service->CancelPipeline(id);
    });
    status = service_->AwaitPipeline(id, cancel);
  }
  if (cancel.canceled()) {
    out.outcome = JobOutcome::kCanceled;
    return out;
  }
  if (!status.ok()) {
    return FailTrigger(job, log, "unknown_failure",
                       std::string("the ") + what + " pipeline " + std::to_string(id) +
                           " was lost: " + status.status().message());
  }
  if (log != nullptr) {
    log->Write(job.name, std::string(child ? "Child" : "Downstream") + " pipeline " +
                             std::to_string(id) + " " + CiStatusName(*status) + "\n");
  }
  JobResult outcome = DownstreamOutcome(*status, trigger->strategy);
  if (outcome.outcome == JobOutcome::kFailed && log != nullptr) {
    log->Write(job.name, "ERROR: Job failed: " + outcome.failure_message + "\n");
  }
  return outcome;
}

StatusOr<ServerPipeline> Service::LoadChild(const ProjectRecord& project,
                                            const PipelineRecord& pipeline,
                                            const std::string& checkout,
                                            const std::string& variables_dir) {
  const std::string parent_text = std::to_string(*pipeline.upstream_pipeline_id);
  auto parent = store_->GetPipeline(*pipeline.upstream_pipeline_id);
  if (!parent.ok()) return parent.status();
  if (!*parent || (pipeline.id > 0 && (*parent)->id >= pipeline.id)) {
    return Status::Error("the parent pipeline " + parent_text + " no longer exists");
  }
  auto trigger_job = store_->GetJob(*pipeline.upstream_job_id);
  if (!trigger_job.ok()) return trigger_job.status();
  if (!*trigger_job)
    return Status::Error("the trigger job of this child pipeline no longer exists");
  std::string pipeline_dir = pipeline.id > 0 ? RunDir(pipeline.id) : checkout + "/..";
  std::string own_variables = !variables_dir.empty() ? variables_dir : pipeline_dir + "/variables";
  // The same commit as the parent's: the child's checkout serves for both.
  StatusOr<ServerPipeline> upstream =
      Load(project, **parent, checkout, own_variables + "/upstream");
  if (!upstream.ok()) return upstream.status();
  ServerPipeline out;
  out.context = upstream->context;
  out.project_variables = upstream->project_variables;
  out.masked_values = upstream->masked_values;
  const std::string& name = (*trigger_job)->name;
  const Job* job = upstream->pipeline ? upstream->pipeline->FindJob(name) : nullptr;
  if (job == nullptr || !job->trigger) {
    out.errors = "job `" + name + "` of the parent pipeline " + parent_text +
                 " is not a trigger job of its configuration";
    return out;
  }
  Diagnostics diags;
  std::optional<Trigger> trigger = ParseTrigger(*job->trigger, name, &diags);
  if (trigger) {
    TriggerContext context;
    context.project_dir = checkout;
    for (const std::string& from : TriggerArtifactJobs(*trigger)) {
      context.sources.push_back(
          {from, pipeline_dir + "/trigger-artifacts/" + JobDirName(from), {}});
    }
    // The project's variables reach a child as any pipeline of the project;
    // the trigger job's variables rank above them.
    VariableList variables = upstream->project_variables;
    for (const StoredVariable& v : pipeline.variables) variables.Set(v.key, v.value);
    DownstreamSource source;
    source.parent = upstream->context;
    source.variables = std::move(variables);
    source.pipeline_id = std::to_string(pipeline.id);
    std::unique_ptr<NetworkFetcher> fetcher =
        MakeIncludeFetcher(project, pipeline_dir + "/includes");
    source.fetcher = fetcher.get();
    std::optional<CreatedPipeline> created =
        CreateDownstreamPipeline(*trigger, context, source, &diags);
    if (created) {
      out.context = std::move(created->context);
      out.context.predefined.Set("CI_PIPELINE_IID", std::to_string(pipeline.iid));
      out.pipeline = std::move(*created->pipeline);
    }
  }
  if (!out.pipeline) {
    out.errors = diags.FormatAll();
    while (!out.errors.empty() && out.errors.back() == '\n') out.errors.pop_back();
    if (out.errors.empty()) out.errors = "the child pipeline's configuration is invalid";
  }
  return out;
}

StatusOr<CiStatus> Service::AwaitPipeline(int64_t id, const CancelToken& cancel) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_ || cancel.canceled()) return CiStatus::kCanceled;
    auto queued = std::find(queue_.begin(), queue_.end(), id);
    if (queued != queue_.end() && active_.count(id) == 0) {
      // Run it here, as a worker would.
      queue_.erase(queued);
      RunActive(id, lock);
      continue;
    }
    if (active_.count(id) == 0) {
      lock.unlock();
      auto pipeline = store_->GetPipeline(id);
      lock.lock();
      if (!pipeline.ok()) return pipeline.status();
      if (!*pipeline) return Status::Error("it no longer exists");
      // Blocked by a manual job, it ends when somebody plays it (queued
      // again) or cancels it.
      if (IsFinished((*pipeline)->status)) return (*pipeline)->status;
    }
    // The token is polled, as executors poll it.
    await_cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

Status Service::CancelChildren(int64_t pipeline_id) {
  StatusOr<std::vector<PipelineRecord>> downstream = store_->ListDownstreamPipelines(pipeline_id);
  if (!downstream.ok()) return downstream.status();
  for (const PipelineRecord& p : *downstream) {
    if (p.source != "parent_pipeline") continue;
    Status canceled = CancelPipeline(p.id);
    if (!canceled.ok()) return canceled;
  }
  return Status::Ok();
}

std::vector<UpstreamArtifacts> Service::UpstreamArtifactsFor(const Job& job,
                                                             const PipelineContext& context,
                                                             const PipelineRecord& pipeline) {
  std::vector<UpstreamArtifacts> out;
  if (!job.needs) return out;
  std::vector<PipelineRecord> upstream;
  for (const Need& need : *job.needs) {
    if (need.pipeline.empty() || !need.project.empty() || !need.artifacts) continue;
    if (upstream.empty()) upstream = Upstream(store_, pipeline);
    std::string id = ExpandVariables(need.pipeline, NeedPipelineVariables(job, context));
    for (const PipelineRecord& p : upstream) {
      if (std::to_string(p.id) != id) continue;
      StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store_, p.id);
      if (!jobs.ok()) break;
      for (const JobRecord& j : *jobs) {
        if (j.name == need.job) out.push_back({j.name, ArtifactsDir(j.id), DotenvOf(j.id)});
      }
      break;
    }
  }
  return out;
}

}  // namespace internal
}  // namespace slipway
