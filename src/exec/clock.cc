#include "exec/clock.h"

namespace slipway {

Clock::TimePoint RealClock::Now() const { return std::chrono::steady_clock::now(); }

Clock::WallTime RealClock::WallNow() const { return std::chrono::system_clock::now(); }

void RealClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint deadline) {
  cv.wait_until(lock, deadline);
}

FakeClock::FakeClock()
    : steady_origin_(std::chrono::steady_clock::time_point{} + std::chrono::hours(24)),
      // 2026-01-01T00:00:00Z.
      wall_origin_(std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}) {}

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

void FakeClock::Advance(std::chrono::milliseconds delta) {
  std::lock_guard<std::mutex> guard(mu_);
  offset_ += delta;
}

std::chrono::milliseconds FakeClock::Elapsed() const {
  std::lock_guard<std::mutex> guard(mu_);
  return std::chrono::duration_cast<std::chrono::milliseconds>(offset_);
}

}  // namespace slipway
