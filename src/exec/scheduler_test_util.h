// Test helpers (header-only, tests only) shared by the scheduler's tests:
// a recording observer, a gate between fake jobs (terse pipelines come from
// pipeline/pipeline_test_util.h).
#ifndef SLIPWAY_EXEC_SCHEDULER_TEST_UTIL_H_
#define SLIPWAY_EXEC_SCHEDULER_TEST_UTIL_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "exec/scheduler.h"
#include "pipeline/pipeline_test_util.h"

namespace slipway {

// Records every status change; checks limits as they happen.
class Recorder : public RunObserver {
 public:
  void OnJobUpdate(const JobRun& run) override {
    std::lock_guard<std::mutex> guard(mu_);
    const Job& job = *run.job;
    bool was_running = running_.count(job.name) > 0;
    if (run.status == CiStatus::kRunning) {
      running_.insert(job.name);
    } else if (was_running) {
      running_.erase(job.name);
    }
    max_running_ = std::max(max_running_, static_cast<int>(running_.size()));
    if (!job.resource_group.empty()) {
      int in_group = 0;
      for (const std::string& name : running_) in_group += groups_[name] == job.resource_group;
      max_in_group_ = std::max(max_in_group_, in_group);
    }
    groups_[job.name] = job.resource_group;
    events_.push_back(job.name + ":" + CiStatusName(run.status));
  }
  int max_running() const { return max_running_; }
  int max_in_group() const { return max_in_group_; }
  const std::vector<std::string>& events() const { return events_; }

 private:
  std::mutex mu_;
  std::set<std::string> running_;
  std::map<std::string, std::string> groups_;
  int max_running_ = 0;
  int max_in_group_ = 0;
  std::vector<std::string> events_;
};

// Lets a job block until another one has started (or give up after a long
// bound, so that a scheduling bug fails the test instead of hanging it).
class Gate {
 public:
  void Started(const std::string& job) {
    std::lock_guard<std::mutex> guard(mu_);
    started_.insert(job);
    cv_.notify_all();
  }
  bool WaitFor(const std::string& job) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return started_.count(job) > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> started_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SCHEDULER_TEST_UTIL_H_
