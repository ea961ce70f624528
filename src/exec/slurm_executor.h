// The Slurm executor as one object: the job lifecycle of ShellExecutor
// (workspace, caches, artifacts on this machine) with its scripts run as
// Slurm batch jobs by a SlurmScriptRunner (slurm.h), for callers that hold
// one Executor (`slipway runner --executor slurm`, `slipway run --executor
// slurm`, a server project whose executor is "slurm").
#ifndef SLIPWAY_EXEC_SLURM_EXECUTOR_H_
#define SLIPWAY_EXEC_SLURM_EXECUTOR_H_

#include <utility>

#include "exec/shell_executor.h"
#include "exec/slurm.h"

namespace slipway {

class SlurmExecutor : public Executor {
 public:
  // options.scripts is replaced by Slurm's.
  SlurmExecutor(ShellExecutor::Options options, SlurmScriptRunner::Options slurm = {})
      : scripts_(std::move(slurm), &runner_), shell_(WithScripts(std::move(options)), &runner_) {}

  // Thread-safe.
  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel) override {
    return shell_.Run(job, spec, host, log, cancel);
  }

 private:
  ShellExecutor::Options WithScripts(ShellExecutor::Options options) {
    options.scripts = &scripts_;
    return options;
  }

  PosixProcessRunner runner_;
  SlurmScriptRunner scripts_;
  ShellExecutor shell_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SLURM_EXECUTOR_H_
