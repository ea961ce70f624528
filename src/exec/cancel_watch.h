// Turns a polled CancelToken into a call: for work that is canceled by a
// method (a scheduler, a stored pipeline) rather than by the token itself.
#ifndef SLIPWAY_EXEC_CANCEL_WATCH_H_
#define SLIPWAY_EXEC_CANCEL_WATCH_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "util/cancel_token.h"
#include "util/thread_annotations.h"

namespace slipway {

// Calls on_cancel once, on a thread of its own, when cancel is set before
// the watch is destroyed. The token is polled (every 20 ms), as executors
// poll it. cancel must outlive the watch; the destructor waits for a call
// under way.
class CancelWatch {
 public:
  CancelWatch(const CancelToken& cancel, std::function<void()> on_cancel)
      : thread_([this, &cancel, on_cancel = std::move(on_cancel)] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!stop_) {
            if (cancel.canceled()) {
              lock.unlock();
              on_cancel();
              return;
            }
            cv_.wait_for(lock, std::chrono::milliseconds(20));
          }
        }) {}
  ~CancelWatch() {
    {
      std::lock_guard<std::mutex> guard(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  CancelWatch(const CancelWatch&) = delete;
  CancelWatch& operator=(const CancelWatch&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_CANCEL_WATCH_H_
