#include "server/resource_groups.h"
#include "util/logger.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace slipway {

ResourceGroups::ResourceGroups(Store* store) : store_(store) {
  waker_thread_ = std::thread([this] { WakeLoop(); });
}

ResourceGroups::~ResourceGroups() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  waker_thread_.join();
}

void ResourceGroups::WakeLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_cv_.wait(lock, [&] { return stopping_ || !to_wake_.empty(); });
    if (to_wake_.empty()) return;
    std::shared_ptr<SchedulerWaker> waker = std::move(to_wake_.front());
    to_wake_.pop_front();
    // Without our lock: Wake takes the scheduler's, whose holder may be
    // calling Acquire.
    lock.unlock();
    waker->Wake();
    lock.lock();
  }
}

int64_t ResourceGroups::Next(const GroupKey& key, const Group& group) {
  if (group.waiting.empty()) return 0;
  std::string mode = "unordered";
  StatusOr<std::optional<ResourceGroupRecord>> record =
      store_->FindResourceGroup(key.first, key.second);
  if (record.ok() && *record) mode = (*record)->process_mode;
  auto earliest_of = [&](auto pick) {
    int64_t best = 0;
    const Waiter* best_waiter = nullptr;
    for (const auto& [job_id, waiter] : group.waiting) {
      if (!pick(waiter)) continue;
      if (best_waiter == nullptr || waiter.seq < best_waiter->seq) {
        best = job_id;
        best_waiter = &waiter;
      }
    }
    return best;
  };
  if (mode == "oldest_first" || mode == "newest_first") {
    bool oldest = mode == "oldest_first";
    std::optional<int64_t> target;
    auto consider = [&](int64_t pipeline_id) {
      if (!target || (oldest ? pipeline_id < *target : pipeline_id > *target)) {
        target = pipeline_id;
      }
    };
    StatusOr<std::vector<JobRecord>> upcoming = store_->UpcomingResourceJobs(key.first, key.second);
    if (!upcoming.ok()) {
      LogLine(LogLevel::kError, "resource_group_error")
          .Str("resource_group", key.second)
          .Str("error", upcoming.status().message());
    } else {
      for (const JobRecord& job : *upcoming) consider(job.pipeline_id);
    }
    for (const auto& [job_id, waiter] : group.waiting) consider(waiter.pipeline_id);
    return earliest_of([&](const Waiter& w) { return w.pipeline_id == *target; });
  }
  if (mode == "newest_ready_first") {
    int64_t newest = 0;
    for (const auto& [job_id, waiter] : group.waiting)
      newest = std::max(newest, waiter.pipeline_id);
    return earliest_of([&](const Waiter& w) { return w.pipeline_id == newest; });
  }
  return earliest_of([](const Waiter&) { return true; });
}

void ResourceGroups::Hand(const GroupKey& key, Group* group) {
  if (group->holder != 0) return;
  int64_t next = Next(key, *group);
  if (next == 0) return;
  auto it = group->waiting.find(next);
  group->holder = next;
  group->holder_pipeline = it->second.pipeline_id;
  to_wake_.push_back(std::move(it->second.waker));
  group->waiting.erase(it);
  wake_cv_.notify_all();
}

bool ResourceGroups::Acquire(const Request& request) {
  std::lock_guard<std::mutex> lock(mu_);
  GroupKey key{request.project_id, request.key};
  Group& group = groups_[key];
  if (group.holder == request.job_id) return true;
  if (group.waiting.find(request.job_id) == group.waiting.end()) {
    group.waiting[request.job_id] = Waiter{request.pipeline_id, ++seq_, request.waker};
  }
  Hand(key, &group);
  if (group.holder != request.job_id) return false;
  // It asked itself: no need to wake it.
  if (!to_wake_.empty() && to_wake_.back() == request.waker) to_wake_.pop_back();
  return true;
}

void ResourceGroups::Release(int64_t project_id, const std::string& key, int64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  GroupKey group_key{project_id, key};
  auto it = groups_.find(group_key);
  if (it == groups_.end()) return;
  Group& group = it->second;
  group.waiting.erase(job_id);
  if (group.holder == job_id) {
    group.holder = 0;
    group.holder_pipeline = 0;
  }
  Hand(group_key, &group);
  if (group.holder == 0 && group.waiting.empty()) groups_.erase(it);
}

void ResourceGroups::ReleasePipeline(int64_t pipeline_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& group = it->second;
    std::erase_if(group.waiting,
                  [&](const auto& entry) { return entry.second.pipeline_id == pipeline_id; });
    if (group.holder_pipeline == pipeline_id) {
      group.holder = 0;
      group.holder_pipeline = 0;
    }
    Hand(it->first, &group);
    if (group.holder == 0 && group.waiting.empty()) {
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
}

void ResourceGroups::Reevaluate() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, group] : groups_) Hand(key, &group);
}

int64_t ResourceGroups::Holder(int64_t project_id, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find({project_id, key});
  return it == groups_.end() ? 0 : it->second.holder;
}

void ResourceGroups::AddRun(const std::shared_ptr<SchedulerWaker>& waker) {
  std::lock_guard<std::mutex> lock(mu_);
  runs_.insert(waker);
}

void ResourceGroups::RemoveRun(const std::shared_ptr<SchedulerWaker>& waker) {
  std::lock_guard<std::mutex> lock(mu_);
  runs_.erase(waker);
}

void ResourceGroups::WakeRuns() {
  std::lock_guard<std::mutex> lock(mu_);
  to_wake_.insert(to_wake_.end(), runs_.begin(), runs_.end());
  wake_cv_.notify_all();
}

}  // namespace slipway
