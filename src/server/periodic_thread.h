// A thread that calls a function now and then every interval until it is
// destroyed: the scanners of the CDEvents and commit-status publishers,
// which read the store for what changed.
#ifndef SLIPWAY_SERVER_PERIODIC_THREAD_H_
#define SLIPWAY_SERVER_PERIODIC_THREAD_H_

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "util/clock.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace slipway {

class PeriodicThread {
 public:
  // Starts the thread, which calls tick at once and then interval after
  // each call returns.
  PeriodicThread(std::chrono::milliseconds interval, std::function<void()> tick)
      : interval_(interval), tick_(std::move(tick)), thread_([this] { Run(); }) {}
  // Waits for a running tick to return; no other starts.
  ~PeriodicThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      tick_();
      lock.lock();
      wake_.wait_for(lock, interval_, [&] { return stop_; });
    }
  }

  const std::chrono::milliseconds interval_;
  const std::function<void()> tick_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: starts after the rest is ready.
};

// The tick of a store scanner: scan(now), now in Unix milliseconds on clock
// (null: the machine's), and a failure said on stderr as
// "slipway serve: <what>: <message>" (the next tick tries again).
inline std::function<void()> ScanTick(std::string what, const Clock* clock,
                                      std::function<Status(int64_t now_ms)> scan) {
  return [what = std::move(what), clock, scan = std::move(scan)] {
    Status scanned = scan(UnixMillis((clock != nullptr ? clock : MachineClock())->WallNow()));
    if (!scanned.ok()) {
      std::fprintf(stderr, "slipway serve: %s: %s\n", what.c_str(), scanned.message().c_str());
    }
  };
}

}  // namespace slipway

#endif  // SLIPWAY_SERVER_PERIODIC_THREAD_H_
