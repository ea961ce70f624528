// One pipeline run's JobGate in `slipway serve` (exec/job_gate.h): jobs with
// a resource_group ask the server's ResourceGroups for it; deploy jobs meet
// the deployment rules of deployment_gates.h (outdated deployments,
// protected environments and approvals, deploy freezes). Bind the scheduler
// before Run and Close after it; destroying the gate closes it.
#ifndef SLIPWAY_SERVER_SERVER_JOB_GATE_H_
#define SLIPWAY_SERVER_SERVER_JOB_GATE_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "exec/job_gate.h"
#include "server/resource_groups.h"
#include "store/store.h"
#include "util/thread_annotations.h"

namespace slipway {

class ServerJobGate : public JobGate {
 public:
  // groups and store must outlive the gate; now_ms gives the service's
  // clock (deploy freezes).
  ServerJobGate(ResourceGroups* groups, Store* store, const ProjectRecord& project,
                const PipelineRecord& pipeline, std::function<int64_t()> now_ms);
  ~ServerJobGate() override { Close(); }

  void Bind(Scheduler* scheduler);
  // Lets go of every group the run's jobs hold or wait for; the run is woken
  // no more.
  void Close();

  bool AcquireResource(const Job& job, const JobSpec& spec) override;
  GateVerdict Check(const Job& job, const JobSpec& spec) override;
  void Release(const Job& job, int64_t job_id) override;

 private:
  ResourceGroups* groups_;
  Store* store_;
  ProjectRecord project_;
  PipelineRecord pipeline_;
  std::function<int64_t()> now_ms_;
  std::shared_ptr<SchedulerWaker> waker_ = std::make_shared<SchedulerWaker>();
  std::mutex mu_;
  std::map<int64_t, std::string> keys_ GUARDED_BY(mu_);  // Groups asked for, by job id.
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_SERVER_JOB_GATE_H_
