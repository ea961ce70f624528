// The sandbox executor as one object: the job lifecycle of ShellExecutor
// with its scripts run by a SandboxScriptRunner (sandbox.h), for callers
// that hold an Executor per pipeline run (the server's ExecutorFactory).
#ifndef SLIPWAY_EXEC_SANDBOX_EXECUTOR_H_
#define SLIPWAY_EXEC_SANDBOX_EXECUTOR_H_

#include "exec/sandbox.h"
#include "exec/shell_executor.h"

namespace slipway {

class SandboxExecutor : public Executor {
 public:
  // options.scripts is replaced by the sandbox.
  SandboxExecutor(ShellExecutor::Options options, SandboxScriptRunner::Options sandbox)
      : scripts_(std::move(sandbox), &runner_), shell_(WithScripts(std::move(options)), &runner_) {}

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
  SandboxScriptRunner scripts_;
  ShellExecutor shell_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SANDBOX_EXECUTOR_H_
