#include "exec/fake_executor.h"

#include <algorithm>

namespace slipway {

void FakeExecutor::Script(const std::string& job, std::vector<JobResult> results) {
  std::lock_guard<std::mutex> guard(mu_);
  scripts_[job] = std::move(results);
}

void FakeExecutor::Fail(const std::string& job, int exit_code, std::string reason) {
  JobResult r;
  r.outcome = JobOutcome::kFailed;
  r.exit_code = exit_code;
  r.failure_reason = std::move(reason);
  Script(job, {r});
}

JobResult FakeExecutor::Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                            const CancelToken& cancel) {
  JobResult result;
  result.outcome = JobOutcome::kSuccess;
  {
    std::lock_guard<std::mutex> guard(mu_);
    calls_.push_back(Call{job.name, spec, host});
    size_t attempt = attempts_[job.name]++;
    auto it = scripts_.find(job.name);
    if (it != scripts_.end() && !it->second.empty()) {
      result = it->second[std::min(attempt, it->second.size() - 1)];
    }
  }
  if (log != nullptr) log->Write(job.name, "running " + job.name + "\n");
  if (hook_) {
    if (std::optional<JobResult> r = hook_(job, spec, host, cancel)) result = *r;
  }
  return result;
}

std::vector<FakeExecutor::Call> FakeExecutor::calls() const {
  std::lock_guard<std::mutex> guard(mu_);
  return calls_;
}

std::vector<std::string> FakeExecutor::order() const {
  std::lock_guard<std::mutex> guard(mu_);
  std::vector<std::string> names;
  for (const Call& c : calls_) names.push_back(c.job);
  return names;
}

}  // namespace slipway
