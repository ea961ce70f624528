// Time as slipway's decisions see it, behind an interface so that tests can
// run delayed jobs, timeouts and schedules and measure durations without
// sleeping. Code that decides something by the time (a delayed job's start,
// a schedule's next run, a token's expiry, a webhook's replay window) takes
// a Clock*; only code that merely measures or stamps for a human to read may
// read the system's clocks directly, and says so where it does.
#ifndef SLIPWAY_UTIL_CLOCK_H_
#define SLIPWAY_UTIL_CLOCK_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "util/thread_annotations.h"

namespace slipway {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  // Monotonic time, for timers and durations.
  virtual TimePoint Now() const = 0;
  // Calendar time, for the timestamps users read (reports, summaries).
  virtual WallTime WallNow() const = 0;
  // Blocks (with lock held on entry and on return) until cv is notified or
  // this clock reaches deadline. May return early or spuriously: callers
  // re-check their condition. Thread-safe.
  virtual void WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         TimePoint deadline) = 0;
  // Like WaitUntil, for loops that wake at a period to look for work (the
  // server's schedule timer): a FakeClock does not jump to the deadline
  // here but waits until Advance moves it there (or cv is notified), so such
  // a loop neither races time forward nor spins. lock's mutex and cv must
  // outlive the call. Thread-safe.
  virtual void SleepUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint deadline) = 0;
};

// The machine's clocks.
class RealClock : public Clock {
 public:
  TimePoint Now() const override;
  WallTime WallNow() const override;
  void WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline) override;
  void SleepUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint deadline) override;
};

// Unix milliseconds (UTC) of a wall time: how the store and the API write
// times.
int64_t UnixMillis(Clock::WallTime t);

// A RealClock shared by whoever was given no clock (options whose clock is
// null). Thread-safe; never destroyed.
Clock* MachineClock();

// Time that moves only when told to. WaitUntil jumps straight to the
// deadline instead of waiting, so a delayed job "waits" 30 minutes at once;
// Advance lets a fake executor model how long a job takes. Thread-safe.
class FakeClock : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z on the wall clock.
  FakeClock();
  // Starts at wall_origin on the wall clock.
  explicit FakeClock(WallTime wall_origin);
  TimePoint Now() const override;
  WallTime WallNow() const override;
  void WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline) override;
  void SleepUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint deadline) override;
  // Moves time forward and wakes every SleepUntil, which returns if its
  // deadline is reached. Takes each sleeper's mutex to wake it: never call
  // it while holding a mutex that some thread sleeps with (from a test's
  // thread or a FakeExecutor's hook is fine).
  void Advance(std::chrono::milliseconds delta);
  // Time elapsed since the clock was made.
  std::chrono::milliseconds Elapsed() const;

 private:
  mutable std::mutex mu_;
  struct Sleeper {
    std::mutex* mu;
    std::condition_variable* cv;
  };
  std::chrono::steady_clock::duration offset_ GUARDED_BY(mu_){};
  std::vector<Sleeper> sleepers_ GUARDED_BY(mu_);
  const TimePoint steady_origin_;
  const WallTime wall_origin_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_CLOCK_H_
