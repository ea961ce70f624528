#include "server/runner_executor.h"

#include <memory>

namespace slipway {

JobResult RemoteExecutor::Run(const Job& job, const JobSpec& spec, const JobHost& host,
                              LogSink* log, const CancelToken& cancel) {
  return hub_->Run(job, spec, spec.repository, log, cancel);
}

ExecutorFactory RemoteExecutorFactory(RunnerHub* hub, ExecutorFactory local) {
  return [hub, local = std::move(local)](
             const ExecutorSetup& setup) -> StatusOr<std::unique_ptr<Executor>> {
    if (setup.project->executor == "remote") {
      return std::unique_ptr<Executor>(std::make_unique<RemoteExecutor>(hub));
    }
    return local(setup);
  };
}

}  // namespace slipway
