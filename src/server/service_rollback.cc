// Service: automatic rollback of a deployment that failed, and rollback to
// a chosen deployment from the API (docs/deployments.md, "Rollback").
//
// A rollback is GitLab's: the older deployment's job is retried in its own
// pipeline, which runs again from its stored outcomes, so the job gets the
// artifacts of that pipeline's earlier jobs and the pipeline's variables —
// nothing is rebuilt. The new deployment is stored before the pipeline is
// queued, with its job id and rollback_of, so that the recorder of that run
// finds it (DeploymentOfJob) instead of making another.
#include <algorithm>

#include "server/deployment_safety.h"
#include "server/run_recorder.h"
#include "server/service_impl.h"

namespace slipway {
namespace internal {
namespace {

std::string DeploymentName(const DeploymentRecord& d) {
  return "deployment #" + std::to_string(d.iid) + " (" + d.sha.substr(0, 8) + ")";
}

}  // namespace

void Service::NoteFailedDeployment(const Pipeline& pipeline, const DeploymentRecord& deployment,
                                   const JobRun& run, std::vector<FailedDeployment>* out) {
  if (deployment.status != "failed") return;
  // An outdated deployment job deployed nothing: there is nothing to undo.
  if (run.failure_reason == kForwardDeploymentFailure) return;
  const EnvironmentSettings* settings = pipeline.slipway.ForEnvironment(run.environment.name);
  if (settings == nullptr || !settings->rollback.automatic) return;
  FailedDeployment failed;
  failed.deployment = deployment;
  failed.rollback = settings->rollback;
  // The job failed after its script succeeded: a check did not pass.
  failed.checks_failed = !run.checks.empty() && run.checks.back().outcome != CheckOutcome::kPass;
  if (!failed.checks_failed && !failed.rollback.on_any_failure) return;
  out->push_back(std::move(failed));
}

void Service::AutoRollback(const FailedDeployment& failed) {
  const DeploymentRecord& d = failed.deployment;
  auto say = [&](const std::string& line) {
    if (d.job_id) (void)store_->AppendLog(*d.job_id, line + "\n");
  };
  // Every automatic rollback, and a rollback that failed in turn, opens an
  // incident linked to the deployment that failed (docs/dora.md).
  auto open_incident = [&](const std::string& title) {
    StatusOr<IncidentRecord> opened =
        store_->CreateIncident(NewIncident(d.project_id, d.id, title, "rollback"));
    if (opened.ok()) {
      say("Incident #" + std::to_string(opened->iid) + " opened: " + title);
    } else {
      say("Incident not opened: " + opened.status().message());
    }
  };
  if (d.rollback_of) {
    say("Automatic rollback: not attempted, this deployment was itself a rollback");
    open_incident("Rollback " + DeploymentName(d) + " failed; nothing more is rolled back");
    return;
  }
  StatusOr<std::optional<DeploymentRecord>> last =
      store_->LastSuccessfulDeployment(d.environment_id);
  if (!last.ok()) {
    say("Automatic rollback failed: " + last.status().message());
    return;
  }
  if (!*last || (*last)->id > d.id) {
    say("Automatic rollback: no earlier successful deployment to roll back to");
    return;
  }
  StatusOr<DeploymentRecord> rollback = Redeploy(**last, d.id);
  if (!rollback.ok()) {
    say("Automatic rollback failed: " + rollback.status().message());
    return;
  }
  say("Automatic rollback: redeploying " + DeploymentName(**last) + " as " +
      DeploymentName(*rollback) + ", job " + std::to_string(rollback->job_id.value_or(0)));
  open_incident(DeploymentName(d) +
                std::string(failed.checks_failed ? " failed its checks" : " failed") +
                "; rolled back to " + DeploymentName(**last));
  if (options_.on_automatic_rollback) options_.on_automatic_rollback(d, *rollback);
}

StatusOr<DeploymentRecord> Service::Redeploy(const DeploymentRecord& target,
                                             std::optional<int64_t> rollback_of) {
  if (target.status != "success" || !target.job_id || !target.pipeline_id) {
    return Status::Error("deployment " + std::to_string(target.id) +
                         " cannot be rolled back to: only a successful deployment made by a "
                         "job can");
  }
  // A rollback never runs beside another deployment of the environment.
  DeploymentFilter running;
  running.project_id = target.project_id;
  running.environment_id = target.environment_id;
  for (const char* status : {"running", "created"}) {
    running.status = status;
    StatusOr<Page<DeploymentRecord>> page = store_->ListDeployments(running);
    if (!page.ok()) return page.status();
    if (page->total > 0) {
      return Status::Error("another deployment of the environment is " + std::string(status) +
                           ": " + DeploymentName(page->items[0]));
    }
  }
  StatusOr<std::optional<JobRecord>> job = store_->GetJob(*target.job_id);
  if (!job.ok()) return job.status();
  if (!*job)
    return Status::Error("the job of deployment " + std::to_string(target.id) + " is gone");
  // The job's latest attempt is the one to retry (an earlier rollback may
  // have retried it already).
  StatusOr<std::vector<JobRecord>> attempts = LatestJobRecords(store_, *target.pipeline_id);
  if (!attempts.ok()) return attempts.status();
  const JobRecord* latest = nullptr;
  for (const JobRecord& a : *attempts) {
    if (a.name == (*job)->name) latest = &a;
  }
  if (latest == nullptr || !JobRetryable(latest->status)) {
    return Status::Error("job '" + (*job)->name + "' of pipeline " +
                         std::to_string(*target.pipeline_id) + " cannot be retried");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_.count(*target.pipeline_id) > 0 ||
        std::find(queue_.begin(), queue_.end(), *target.pipeline_id) != queue_.end()) {
      return Status::Error("pipeline " + std::to_string(*target.pipeline_id) + " is running");
    }
  }
  StatusOr<JobRecord> retried = store_->RetryJob(latest->id);
  if (!retried.ok()) return retried.status();
  DeploymentRecord rollback;
  rollback.project_id = target.project_id;
  rollback.environment_id = target.environment_id;
  rollback.pipeline_id = target.pipeline_id;
  rollback.job_id = retried->id;
  rollback.ref = target.ref;
  rollback.sha = target.sha;
  rollback.status = "created";
  rollback.rollback_of = rollback_of;
  StatusOr<DeploymentRecord> created = store_->CreateDeployment(rollback);
  if (!created.ok()) return created.status();
  if (Status reset = ResetSkippedWaitingFor(*latest); !reset.ok()) return reset;
  StatusOr<PipelineRecord> p =
      store_->UpdatePipelineStatus(*target.pipeline_id, CiStatus::kPending);
  if (!p.ok()) return p.status();
  Enqueue(*target.pipeline_id);
  return created;
}

StatusOr<DeploymentRecord> Service::RollbackTo(int64_t deployment_id) {
  StatusOr<std::optional<DeploymentRecord>> target = store_->GetDeployment(deployment_id);
  if (!target.ok()) return target.status();
  if (!*target) return Status::Error("deployment " + std::to_string(deployment_id) + " not found");
  // What the rollback undoes: the environment's newest deployment after the
  // target (none: the target is the newest, and this redeploys it).
  DeploymentFilter newer;
  newer.project_id = (*target)->project_id;
  newer.environment_id = (*target)->environment_id;
  newer.sort = "desc";
  newer.per_page = 1;
  StatusOr<Page<DeploymentRecord>> page = store_->ListDeployments(newer);
  if (!page.ok()) return page.status();
  std::optional<int64_t> rollback_of;
  if (!page->items.empty() && page->items[0].id > deployment_id) rollback_of = page->items[0].id;
  return Redeploy(**target, rollback_of);
}

}  // namespace internal
}  // namespace slipway
