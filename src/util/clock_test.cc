#include "util/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace slipway {
namespace {

TEST(FakeClockTest, AdvancesBothClocksTogether) {
  FakeClock clock;
  Clock::TimePoint t0 = clock.Now();
  Clock::WallTime w0 = clock.WallNow();
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.Now() - t0, std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.WallNow() - w0, std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.Elapsed(), std::chrono::milliseconds(1500));
}

TEST(FakeClockTest, WaitUntilJumpsToTheDeadlineButNeverBack) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  clock.WaitUntil(lock, cv, clock.Now() + std::chrono::minutes(30));
  EXPECT_EQ(clock.Elapsed(), std::chrono::minutes(30));
  clock.WaitUntil(lock, cv, clock.Now() - std::chrono::minutes(5));
  EXPECT_EQ(clock.Elapsed(), std::chrono::minutes(30));
  EXPECT_TRUE(lock.owns_lock());
}

TEST(FakeClockTest, SleepUntilWaitsForAdvanceInsteadOfJumping) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  Clock::TimePoint deadline = clock.Now() + std::chrono::minutes(1);
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (clock.Now() < deadline) clock.SleepUntil(lock, cv, deadline);
    woke = true;
  });
  clock.Advance(std::chrono::seconds(30));  // Not yet: the sleeper keeps waiting.
  EXPECT_FALSE(woke.load());
  EXPECT_EQ(clock.Elapsed(), std::chrono::seconds(30));
  clock.Advance(std::chrono::seconds(30));
  sleeper.join();
  EXPECT_TRUE(woke.load());
  EXPECT_EQ(clock.Elapsed(), std::chrono::minutes(1));  // Time did not run on by itself.
}

TEST(RealClockTest, WaitUntilPastDeadlineReturns) {
  RealClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  Clock::TimePoint before = clock.Now();
  clock.WaitUntil(lock, cv, before - std::chrono::seconds(1));
  EXPECT_GE(clock.Now(), before);
}

}  // namespace
}  // namespace slipway
