// A trigger job with strategy: depend (or mirror) follows its downstream
// pipeline after it took its status: a retried job makes the pipeline run
// again, and the trigger job with it (GitLab's Pipeline#reset_source_bridge!
// and PipelineBridgeStatusService; docs/child-pipelines.md).
#include "exec/downstream_create.h"
#include "pipeline/trigger.h"
#include "server/service_impl.h"

namespace slipway {
namespace internal {
namespace {

// Bounds walks up the upstream links (creation keeps them below
// kMaxDownstreamDepth).
constexpr int kMaxLevels = kMaxDownstreamDepth + 1;

CiStatus StatusOf(const JobResult& result) {
  switch (result.outcome) {
    case JobOutcome::kSuccess:
      return CiStatus::kSuccess;
    case JobOutcome::kCanceled:
      return CiStatus::kCanceled;
    case JobOutcome::kFailed:
      break;
  }
  return CiStatus::kFailed;
}

}  // namespace

std::optional<Service::DependentBridge> Service::DependentBridgeOf(
    const PipelineRecord& downstream) {
  if (!downstream.upstream_job_id) return std::nullopt;
  StatusOr<std::optional<JobRecord>> job = store_->GetJob(*downstream.upstream_job_id);
  // A retried trigger job's new attempt started a pipeline of its own.
  if (!job.ok() || !*job || !(*job)->bridge || (*job)->retried) return std::nullopt;
  StatusOr<std::optional<PipelineRecord>> pipeline = store_->GetPipeline((*job)->pipeline_id);
  if (!pipeline.ok() || !*pipeline) return std::nullopt;
  {
    // A running trigger job that waits takes the status itself.
    std::lock_guard<std::mutex> lock(mu_);
    if (active_.count((*pipeline)->id) > 0) return std::nullopt;
  }
  // Whether it waits is in the file at the pipeline's commit.
  StatusOr<ProjectRecord> project = Project((*pipeline)->project_id);
  if (!project.ok() || !EnsureCheckout(*project, **pipeline).ok()) return std::nullopt;
  StatusOr<ServerPipeline> loaded = Load(*project, **pipeline, RunDir((*pipeline)->id) + "/src");
  if (!loaded.ok() || !loaded->pipeline) return std::nullopt;
  const Job* config = loaded->pipeline->FindJob((*job)->name);
  if (config == nullptr || !config->trigger) return std::nullopt;
  Diagnostics diags;
  std::optional<Trigger> trigger = ParseTrigger(*config->trigger, config->name, &diags);
  if (!trigger || !trigger->depend) return std::nullopt;
  return DependentBridge{**job, **pipeline, trigger->strategy};
}

void Service::ReopenDependentBridges(int64_t pipeline_id) {
  for (int level = 0; level < kMaxLevels; ++level) {
    StatusOr<std::optional<PipelineRecord>> downstream = store_->GetPipeline(pipeline_id);
    if (!downstream.ok() || !*downstream) return;
    std::optional<DependentBridge> bridge = DependentBridgeOf(**downstream);
    if (!bridge || !IsFinished(bridge->job.status)) return;
    JobUpdate update;
    update.status = CiStatus::kRunning;
    update.failure_reason = "";
    update.follow_downstream = true;
    if (!store_->UpdateJob(bridge->job.id, update).ok()) return;
    (void)store_->AppendLog(bridge->job.id, "Downstream pipeline " + std::to_string(pipeline_id) +
                                                " runs again (a job of it was retried); this "
                                                "job follows it\n");
    if (!UpdateComposite(bridge->pipeline.id).ok()) return;
    pipeline_id = bridge->pipeline.id;
  }
}

void Service::FollowDownstream(int64_t pipeline_id) {
  for (int level = 0; level < kMaxLevels; ++level) {
    StatusOr<std::optional<PipelineRecord>> downstream = store_->GetPipeline(pipeline_id);
    if (!downstream.ok() || !*downstream || !IsFinished((*downstream)->status)) return;
    std::optional<DependentBridge> bridge = DependentBridgeOf(**downstream);
    if (!bridge) return;
    JobResult outcome = DownstreamOutcome((*downstream)->status, bridge->strategy);
    CiStatus status = StatusOf(outcome);
    if (bridge->job.status == status) return;
    JobUpdate update;
    update.status = status;
    update.failure_reason = outcome.failure_reason;
    update.follow_downstream = true;
    if (!store_->UpdateJob(bridge->job.id, update).ok()) return;
    std::string log = "Downstream pipeline " + std::to_string(pipeline_id) + " " +
                      CiStatusName((*downstream)->status) + "\n";
    if (!outcome.failure_message.empty()) {
      log += "ERROR: Job failed: " + outcome.failure_message + "\n";
    }
    (void)store_->AppendLog(bridge->job.id, log);
    hub_->Finish(bridge->job.id);
    if (!UpdateComposite(bridge->pipeline.id).ok()) return;
    pipeline_id = bridge->pipeline.id;
  }
}

}  // namespace internal
}  // namespace slipway
