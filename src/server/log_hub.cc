#include "server/log_hub.h"

namespace slipway {

uint64_t LogHub::Subscribe(int64_t job_id, Listener listener) {
  std::lock_guard<std::mutex> guard(mu_);
  uint64_t handle = next_handle_++;
  by_job_.emplace(job_id, std::make_pair(handle, std::move(listener)));
  job_of_handle_.emplace(handle, job_id);
  return handle;
}

void LogHub::Unsubscribe(uint64_t handle) {
  std::lock_guard<std::mutex> guard(mu_);
  auto it = job_of_handle_.find(handle);
  if (it == job_of_handle_.end()) return;
  auto [first, last] = by_job_.equal_range(it->second);
  for (auto l = first; l != last; ++l) {
    if (l->second.first == handle) {
      by_job_.erase(l);
      break;
    }
  }
  job_of_handle_.erase(it);
}

void LogHub::Publish(int64_t job_id, int64_t offset, std::string_view bytes) {
  std::lock_guard<std::mutex> guard(mu_);
  auto [first, last] = by_job_.equal_range(job_id);
  for (auto l = first; l != last; ++l) l->second.second(offset, bytes, false);
}

void LogHub::Finish(int64_t job_id) {
  std::lock_guard<std::mutex> guard(mu_);
  auto [first, last] = by_job_.equal_range(job_id);
  for (auto l = first; l != last; ++l) l->second.second(0, {}, true);
}

size_t LogHub::watchers() const {
  std::lock_guard<std::mutex> guard(mu_);
  return job_of_handle_.size();
}

}  // namespace slipway
