#include "server/server_job_gate.h"

#include <utility>

#include "config/variables.h"
#include "server/deployment_gates.h"

namespace slipway {

ServerJobGate::ServerJobGate(ResourceGroups* groups, Store* store, const ProjectRecord& project,
                             const PipelineRecord& pipeline, std::function<int64_t()> now_ms)
    : groups_(groups),
      store_(store),
      project_(project),
      pipeline_(pipeline),
      now_ms_(std::move(now_ms)) {}

void ServerJobGate::Bind(Scheduler* scheduler) {
  waker_->Set(scheduler);
  groups_->AddRun(waker_);
}

void ServerJobGate::Close() {
  waker_->Set(nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    keys_.clear();
  }
  groups_->RemoveRun(waker_);
  groups_->ReleasePipeline(pipeline_.id);
}

bool ServerJobGate::AcquireResource(const Job& job, const JobSpec& spec) {
  std::string key = ExpandVariables(job.resource_group, spec.variables);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    keys_[spec.job_id] = key;
  }
  return groups_->Acquire({project_.id, key, pipeline_.id, spec.job_id, waker_});
}

GateVerdict ServerJobGate::Check(const Job& job, const JobSpec& spec) {
  return CheckDeployment(store_, project_, pipeline_, job, spec, now_ms_());
}

void ServerJobGate::Release(const Job& job, int64_t job_id) {
  (void)job;
  std::string key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(job_id);
    if (it == keys_.end()) return;
    key = std::move(it->second);
    keys_.erase(it);
  }
  groups_->Release(project_.id, key, job_id);
}

}  // namespace slipway
