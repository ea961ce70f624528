#include "server/runner_executor.h"

#include <memory>

namespace slipway {

JobResult RemoteExecutor::Run(const Job& job, const JobSpec& spec, const JobHost& host,
                              LogSink* log, const CancelToken& cancel) {
  RemoteJobFiles files;
  files.repository = spec.repository;
  files.job_dir = host.job_dir;
  // The job's message names only the sources that left artifacts: the
  // runner asks for no archive that is not there (a request, and a file,
  // before the script starts).
  JobSpec pushed = spec;
  pushed.artifacts_from.clear();
  for (const JobSpec::ArtifactSource& source : spec.artifacts_from) {
    if (host.artifacts == nullptr) break;
    StatusOr<std::string> dir = host.artifacts->Fetch(source);
    if (!dir.ok()) {
      log->Write(job.name, "WARNING: the artifacts of " + source.job_name + " (" +
                               std::to_string(source.job_id) +
                               ") cannot be sent: " + dir.status().message() + "\n");
    } else if (!dir->empty()) {
      files.artifacts_from[source.job_id] = *dir;
      pushed.artifacts_from.push_back(source);
    }
  }
  auto leased = [&](const RunnerInfo& info) {
    if (on_leased_) on_leased_(spec.job_id, JobRunner{info.id, info.description, info.tags});
  };
  return hub_->Run(job, pushed, std::move(files), log, cancel, leased);
}

ExecutorFactory RemoteExecutorFactory(RunnerHub* hub, ExecutorFactory local) {
  return [hub, local = std::move(local)](
             const ExecutorSetup& setup) -> StatusOr<std::unique_ptr<Executor>> {
    if (setup.project->executor == "remote") {
      return std::unique_ptr<Executor>(std::make_unique<RemoteExecutor>(hub, setup.on_leased));
    }
    return local(setup);
  };
}

}  // namespace slipway
