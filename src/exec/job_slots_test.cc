#include "exec/job_slots.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "exec/fake_executor.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

// Three attempts through one slot never overlap; each starts once the one
// before has returned.
TEST(JobSlotsTest, RunsAtMostSlotsAttemptsAtOnce) {
  FakeExecutor inner;
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::atomic<int> released{0};
  std::atomic<int> started{0};
  inner.SetHook([&](const Job&, const JobSpec&, const JobHost&,
                    const CancelToken&) -> std::optional<JobResult> {
    int now = ++running;
    most = std::max(most.load(), now);
    int mine = started++;
    // Held until the test lets this attempt go.
    WaitFor([&] { return released.load() > mine; });
    --running;
    return std::nullopt;
  });
  JobSlots slots(&inner, 1);
  Job job;
  job.name = "j";
  CancelToken cancel;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] { slots.Run(job, JobSpec{}, JobHost{}, nullptr, cancel); });
  }
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(WaitFor([&] { return started.load() == i; }));
    EXPECT_EQ(running.load(), 1);
    released = i;
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(most.load(), 1);
}

TEST(JobSlotsTest, AWaitingAttemptEndsCanceledWithoutStarting) {
  FakeExecutor inner;
  std::atomic<bool> go{false};
  std::atomic<int> started{0};
  inner.SetHook([&](const Job&, const JobSpec&, const JobHost&,
                    const CancelToken&) -> std::optional<JobResult> {
    ++started;
    WaitFor([&] { return go.load(); });
    return std::nullopt;
  });
  JobSlots slots(&inner, 1);
  Job job;
  job.name = "j";
  CancelToken first_cancel, second_cancel;
  std::thread first([&] { slots.Run(job, JobSpec{}, JobHost{}, nullptr, first_cancel); });
  ASSERT_TRUE(WaitFor([&] { return started.load() == 1; }));
  second_cancel.Cancel();
  JobResult second = slots.Run(job, JobSpec{}, JobHost{}, nullptr, second_cancel);
  EXPECT_EQ(second.outcome, JobOutcome::kCanceled);
  EXPECT_EQ(started.load(), 1);
  go = true;
  first.join();
}

}  // namespace
}  // namespace slipway
