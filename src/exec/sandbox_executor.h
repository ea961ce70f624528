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
  // options.scripts is replaced by the sandbox; with image_jobs_only, by a
  // runner that sends jobs with image: to the sandbox and the others to the
  // host (a shell project's executor when images are available).
  SandboxExecutor(ShellExecutor::Options options, SandboxScriptRunner::Options sandbox,
                  bool image_jobs_only = false)
      : scripts_(std::move(sandbox), &runner_),
        host_(&runner_),
        image_jobs_(&scripts_, &host_),
        image_jobs_only_(image_jobs_only),
        shell_(WithScripts(std::move(options)), &runner_) {}

  // Thread-safe.
  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel) override {
    return shell_.Run(job, spec, host, log, cancel);
  }

 private:
  ShellExecutor::Options WithScripts(ShellExecutor::Options options) {
    options.scripts = image_jobs_only_ ? static_cast<ScriptRunner*>(&image_jobs_) : &scripts_;
    return options;
  }

  PosixProcessRunner runner_;
  SandboxScriptRunner scripts_;
  HostScriptRunner host_;
  ImageJobsScriptRunner image_jobs_;
  bool image_jobs_only_;
  ShellExecutor shell_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SANDBOX_EXECUTOR_H_
