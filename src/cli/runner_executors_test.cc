#include "cli/runner_executors.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "util/test_dir.h"

namespace slipway {
namespace {

// Counts which executors exist: what RunnerExecutors keeps is what it has
// not destroyed.
class CountedExecutor : public Executor {
 public:
  CountedExecutor(std::map<std::string, int>* alive, std::string state_dir)
      : alive_(alive), state_dir_(std::move(state_dir)) {
    ++(*alive_)[state_dir_];
  }
  ~CountedExecutor() override { --(*alive_)[state_dir_]; }
  JobResult Run(const Job&, const JobSpec&, const JobHost&, LogSink*, const CancelToken&) override {
    return {};
  }

 private:
  std::map<std::string, int>* alive_;
  std::string state_dir_;
};

class RunnerExecutorsTest : public ::testing::Test {
 protected:
  RunnerExecutors::Make Make() {
    return [this](const std::string& state_dir) {
      ++made_;
      return std::make_unique<CountedExecutor>(&alive_, state_dir);
    };
  }
  int Alive(const std::string& project) { return alive_[tmp_.path() + "/builds/" + project]; }

  TempDir tmp_;
  std::map<std::string, int> alive_;  // By state directory.
  int made_ = 0;
};

TEST_F(RunnerExecutorsTest, JobsOfACommitShareAnExecutorThatOutlivesThem) {
  RunnerExecutors executors(tmp_.path(), Make());
  auto a = executors.Take("7", "c1");
  auto b = executors.Take("7", "c1");
  EXPECT_EQ(a->executor(), b->executor());
  EXPECT_EQ(a->run_dir(), b->run_dir());
  a.reset();
  b.reset();
  auto c = executors.Take("7", "c1");  // Kept while no job used it.
  EXPECT_EQ(made_, 1);
  EXPECT_EQ(Alive("project-7"), 1);
}

TEST_F(RunnerExecutorsTest, AnotherCommitReplacesTheIdleExecutorAndRunsBesideABusyOne) {
  RunnerExecutors executors(tmp_.path(), Make());
  executors.Take("7", "c1");  // Ends at once: idle.
  auto c2 = executors.Take("7", "c2");
  EXPECT_EQ(Alive("project-7"), 1);  // c1's went first: c2's reconciles the snapshot.
  auto c3 = executors.Take("7", "c3");
  EXPECT_EQ(Alive("project-7"), 2);  // c2's is busy: both run.
  EXPECT_NE(c2->run_dir(), c3->run_dir());
  c2.reset();
  c3.reset();
  EXPECT_EQ(Alive("project-7"), 1);  // One idle executor per project: the last used.
  executors.Take("7", "c3");
  EXPECT_EQ(made_, 3);
  // A project id that is not digits names no other directory.
  executors.Take("../x", "c1");
  EXPECT_EQ(Alive("project-0"), 1);
}

TEST_F(RunnerExecutorsTest, AtMostkMaxIdleExecutorsStayIdle) {
  RunnerExecutors executors(tmp_.path(), Make());
  for (size_t p = 1; p <= RunnerExecutors::kMaxIdle + 2; ++p) {
    executors.Take(std::to_string(p), "c");
  }
  int alive = 0;
  for (const auto& [dir, count] : alive_) alive += count;
  EXPECT_EQ(alive, static_cast<int>(RunnerExecutors::kMaxIdle));
  EXPECT_EQ(Alive("project-1"), 0);  // The least recently used went.
  EXPECT_EQ(Alive("project-2"), 0);
  EXPECT_EQ(Alive("project-3"), 1);
}

}  // namespace
}  // namespace slipway
