// The executor of projects whose executor is "remote" (docs/runners.md):
// each job goes to a connected `slipway runner` through the RunnerHub, and
// Run blocks until that runner reports the end or loses its lease.
#ifndef SLIPWAY_SERVER_RUNNER_EXECUTOR_H_
#define SLIPWAY_SERVER_RUNNER_EXECUTOR_H_

#include "exec/executor.h"
#include "server/executor_factory.h"
#include "server/runner_hub.h"

namespace slipway {

class RemoteExecutor : public Executor {
 public:
  // hub must outlive it; on_leased (may be empty) hears which runner took
  // each job, by its spec.job_id.
  explicit RemoteExecutor(RunnerHub* hub,
                          std::function<void(int64_t, const JobRunner&)> on_leased = nullptr)
      : hub_(hub), on_leased_(std::move(on_leased)) {}

  // spec.repository is the server's bare mirror: the runner gets the commit
  // from it as a bundle. The job runs in the runner's directories; of host,
  // the job dir receives the artifacts and reports the runner sends, and
  // host.artifacts finds those the job gets.
  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel) override;

 private:
  RunnerHub* hub_;
  std::function<void(int64_t, const JobRunner&)> on_leased_;
};

// RemoteExecutor for projects whose executor is "remote", local for every
// other. hub must outlive the factory's executors.
ExecutorFactory RemoteExecutorFactory(RunnerHub* hub, ExecutorFactory local);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_RUNNER_EXECUTOR_H_
