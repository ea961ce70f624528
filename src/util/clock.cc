#include "util/clock.h"

namespace slipway {

Clock::TimePoint RealClock::Now() const { return std::chrono::steady_clock::now(); }

Clock::WallTime RealClock::WallNow() const { return std::chrono::system_clock::now(); }

void RealClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint deadline) {
  cv.wait_until(lock, deadline);
}

void RealClock::SleepUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                           TimePoint deadline) {
  cv.wait_until(lock, deadline);
}

int64_t UnixMillis(Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Clock* MachineClock() {
  static RealClock* const clock = new RealClock;
  return clock;
}

// 2026-01-01T00:00:00Z.
FakeClock::FakeClock() : FakeClock(std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}) {}

FakeClock::FakeClock(WallTime wall_origin)
    : steady_origin_(std::chrono::steady_clock::time_point{} + std::chrono::hours(24)),
      wall_origin_(wall_origin) {}

Clock::TimePoint FakeClock::Now() const {
  std::lock_guard<std::mutex> guard(mu_);
  return steady_origin_ + offset_;
}

Clock::WallTime FakeClock::WallNow() const {
  std::lock_guard<std::mutex> guard(mu_);
  return wall_origin_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(offset_);
}

void FakeClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint deadline) {
  std::lock_guard<std::mutex> guard(mu_);
  if (steady_origin_ + offset_ < deadline) offset_ = deadline - steady_origin_;
}

void FakeClock::SleepUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                           TimePoint deadline) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (steady_origin_ + offset_ >= deadline) return;
    sleepers_.push_back({lock.mutex(), &cv});
  }
  // The caller's mutex is held from the check above until wait() releases
  // it, and Advance takes that mutex before notifying: an Advance after the
  // check cannot notify before this thread waits.
  cv.wait(lock);
  std::lock_guard<std::mutex> guard(mu_);
  for (auto it = sleepers_.begin(); it != sleepers_.end(); ++it) {
    if (it->cv == &cv && it->mu == lock.mutex()) {
      sleepers_.erase(it);
      break;
    }
  }
}

void FakeClock::Advance(std::chrono::milliseconds delta) {
  std::vector<Sleeper> sleepers;
  {
    std::lock_guard<std::mutex> guard(mu_);
    offset_ += delta;
    sleepers = sleepers_;
  }
  // Outside mu_: a sleeper holds its own mutex while it takes mu_.
  for (const Sleeper& s : sleepers) {
    std::lock_guard<std::mutex> guard(*s.mu);
    s.cv->notify_all();
  }
}

std::chrono::milliseconds FakeClock::Elapsed() const {
  std::lock_guard<std::mutex> guard(mu_);
  return std::chrono::duration_cast<std::chrono::milliseconds>(offset_);
}

}  // namespace slipway
