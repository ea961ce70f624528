// Live job logs for watchers (SSE): whoever appends a job's log to the store
// publishes the same bytes here, with the offset the store gave them; a
// watcher subscribes to one job and is called for every later chunk and once
// when the job's log is complete. A watcher that connects mid-job first reads
// the store up to the offset of the first chunk it receives (chunks carry
// their offset, so the two are joined without gaps or repeats).
#ifndef SLIPWAY_SERVER_LOG_HUB_H_
#define SLIPWAY_SERVER_LOG_HUB_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "util/thread_annotations.h"

namespace slipway {

class LogHub {
 public:
  // offset: where bytes start in the job's log. finished: the job reached a
  // final status and no more bytes follow (bytes is then empty).
  // Listeners are called on the publishing thread with the hub's lock held:
  // they must be quick (copy and post to their own executor) and must not
  // call Subscribe/Unsubscribe.
  using Listener = std::function<void(int64_t offset, std::string_view bytes, bool finished)>;

  // Returns a handle for Unsubscribe; never 0.
  uint64_t Subscribe(int64_t job_id, Listener listener);
  // After it returns the listener is not called again. Unknown handles are ignored.
  void Unsubscribe(uint64_t handle);

  void Publish(int64_t job_id, int64_t offset, std::string_view bytes);
  void Finish(int64_t job_id);

  // Subscribed listeners over all jobs (slipway_log_watchers in /metrics).
  size_t watchers() const;

 private:
  mutable std::mutex mu_;
  uint64_t next_handle_ = 1;
  std::unordered_multimap<int64_t, std::pair<uint64_t, Listener>> by_job_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, int64_t> job_of_handle_ GUARDED_BY(mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_LOG_HUB_H_
