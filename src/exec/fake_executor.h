// An Executor for tests: each job's attempts follow a script of results, and
// every call is recorded. Optionally a hook runs inside Run (to block on a
// gate, advance a FakeClock or check what else is running).
#ifndef SLIPWAY_EXEC_FAKE_EXECUTOR_H_
#define SLIPWAY_EXEC_FAKE_EXECUTOR_H_

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "util/thread_annotations.h"

namespace slipway {

class FakeExecutor : public Executor {
 public:
  struct Call {
    std::string job;
    JobSpec spec;
    JobHost host;
  };

  // Results for the job's attempts in order; the last one repeats. Jobs with
  // no script succeed with exit code 0.
  void Script(const std::string& job, std::vector<JobResult> results);
  void Fail(const std::string& job, int exit_code, std::string reason = "script_failure");
  // Runs before the job's result is returned; its return value, if set,
  // replaces the scripted result.
  using Hook = std::function<std::optional<JobResult>(const Job&, const JobSpec&, const JobHost&,
                                                      const CancelToken&)>;
  void SetHook(Hook hook) { hook_ = std::move(hook); }

  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel) override;

  std::vector<Call> calls() const;
  // Names of the jobs in the order their attempts started.
  std::vector<std::string> order() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<JobResult>> scripts_ GUARDED_BY(mu_);
  std::map<std::string, size_t> attempts_ GUARDED_BY(mu_);
  std::vector<Call> calls_ GUARDED_BY(mu_);
  Hook hook_;  // Set before the run starts.
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_FAKE_EXECUTOR_H_
