// The run plan driven directly: no threads, no clock, no processes. Each
// test feeds it events and reads the statuses it chose.
#include "pipeline/run_plan.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pipeline/pipeline_test_util.h"

namespace slipway {
namespace {

using S = CiStatus;
using std::chrono::seconds;

class PlanTest : public ::testing::Test, public RunPlan::Listener {
 protected:
  // Creates the plan of b's pipeline (all jobs unless `selected`) and starts it.
  void Start(PipelineBuilder& b, std::vector<std::string> selected = {}) {
    StatusOr<RunPlan> plan = RunPlan::Create(b.pipeline(), selected);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    plan_.emplace(std::move(*plan));
    plan_->set_listener(this);
    plan_->Start(now_);
  }
  void OnStatusChange(int i) override {
    events_.push_back(plan_->job(i).name + ":" + CiStatusName(plan_->status(i)));
  }
  int Index(const std::string& name) const {
    int i = plan_->graph().Find(name);
    EXPECT_GE(i, 0) << name;
    return i;
  }
  CiStatus StatusOf(const std::string& name) const { return plan_->status(Index(name)); }
  // Every job ready now, in order; each is reported running.
  std::vector<std::string> TakeReady() {
    std::vector<std::string> names;
    while (std::optional<int> i = plan_->NextReady()) {
      plan_->Running(*i);
      names.push_back(plan_->job(*i).name);
    }
    return names;
  }
  // Ends job `name`'s running attempt; returns whether the plan retried it.
  bool End(const std::string& name, CiStatus outcome, int exit_code = 0,
           const std::string& reason = "") {
    std::string why = reason.empty() && outcome == S::kFailed ? "script_failure" : reason;
    return plan_->Finished(Index(name), outcome, exit_code, why, true, now_);
  }
  // Runs every ready job to `outcomes` (default success) until none is ready.
  void RunAll(const std::map<std::string, CiStatus>& outcomes = {}) {
    while (true) {
      std::vector<std::string> ready = TakeReady();
      if (ready.empty()) return;
      for (const std::string& name : ready) {
        auto it = outcomes.find(name);
        End(name, it == outcomes.end() ? S::kSuccess : it->second, it == outcomes.end() ? 0 : 1);
      }
    }
  }

  RunPlan::TimePoint now_{seconds(1000)};
  std::optional<RunPlan> plan_;
  std::vector<std::string> events_;
};

TEST_F(PlanTest, EachWhenFollowsTheEarlierStagesStatus) {
  PipelineBuilder b({"build", "test", "cleanup"});
  b.Add("compile", "build");
  b.Add("unit", "test");
  b.Add("report", "test").when = When::kOnFailure;
  b.Add("tidy", "cleanup").when = When::kAlways;
  b.Add("never", "cleanup").when = When::kNever;
  b.Add("after", "cleanup");
  Start(b);
  RunAll({{"compile", S::kFailed}});
  EXPECT_EQ(StatusOf("unit"), S::kSkipped);
  EXPECT_EQ(StatusOf("report"), S::kSuccess);  // on_failure ran.
  EXPECT_EQ(StatusOf("tidy"), S::kSuccess);    // always ran.
  EXPECT_EQ(StatusOf("never"), S::kSkipped);
  EXPECT_EQ(StatusOf("after"), S::kSkipped);  // Earlier stages failed.
  EXPECT_TRUE(plan_->Idle());
  EXPECT_EQ(plan_->Outcome(), S::kFailed);
}

TEST_F(PlanTest, AlwaysSkipsAfterACancelAndOnFailureAfterSuccess) {
  PipelineBuilder b({"build", "test"});
  b.Add("compile", "build");
  b.Add("report", "test").when = When::kOnFailure;
  b.Add("tidy", "test").when = When::kAlways;
  Start(b);
  RunAll({{"compile", S::kCanceled}});
  EXPECT_EQ(StatusOf("report"), S::kSkipped);
  EXPECT_EQ(StatusOf("tidy"), S::kSkipped);
  EXPECT_EQ(plan_->Outcome(), S::kCanceled);
}

TEST_F(PlanTest, BlockingManualJobHoldsLaterStagesUntilPlayed) {
  PipelineBuilder b({"build", "deploy", "verify"});
  b.Add("compile", "build");
  b.Add("ship", "deploy").when = When::kManual;
  Job& optional = b.Add("preview", "deploy");
  optional.when = When::kManual;
  optional.allow_failure.value = true;
  b.Add("check", "verify");
  Start(b);
  RunAll();
  EXPECT_EQ(StatusOf("ship"), S::kManual);
  EXPECT_EQ(StatusOf("preview"), S::kManual);
  EXPECT_EQ(StatusOf("check"), S::kCreated);  // Blocked by ship, not by preview.
  EXPECT_TRUE(plan_->Idle());
  ASSERT_TRUE(plan_->Play(Index("ship"), now_).ok());
  EXPECT_FALSE(plan_->Play(Index("ship"), now_).ok());  // Not manual any more.
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"ship"});
  End("ship", S::kSuccess);
  RunAll();
  EXPECT_EQ(StatusOf("check"), S::kSuccess);
  EXPECT_EQ(StatusOf("preview"), S::kManual);
  EXPECT_EQ(plan_->Outcome(), S::kSuccess);
}

TEST_F(PlanTest, DelayedJobIsReadyAtProcessingTimePlusStartIn) {
  PipelineBuilder b({"build", "deploy"});
  b.Add("compile", "build");
  Job& later = b.Add("rollout", "deploy");
  later.when = When::kDelayed;
  later.start_in = "30 seconds";
  Start(b);
  EXPECT_EQ(plan_->NextWakeup(), std::nullopt);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"compile"});
  now_ += seconds(5);
  End("compile", S::kSuccess);
  EXPECT_EQ(StatusOf("rollout"), S::kScheduled);
  ASSERT_TRUE(plan_->NextWakeup().has_value());
  EXPECT_EQ(*plan_->NextWakeup(), now_ + seconds(30));
  EXPECT_FALSE(plan_->Idle());
  plan_->AdvanceTime(now_ + seconds(29));
  EXPECT_EQ(StatusOf("rollout"), S::kScheduled);
  plan_->AdvanceTime(now_ + seconds(30));
  EXPECT_EQ(StatusOf("rollout"), S::kPending);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"rollout"});
}

TEST_F(PlanTest, NeedsAcrossStagesStartBeforeTheEarlierStagesEnd) {
  PipelineBuilder b({"build", "test", "deploy"});
  b.Add("compile", "build");
  b.Add("slow", "build");
  b.Add("unit", "test");
  b.AddNeeds("ship", "deploy", {"compile"});
  b.AddNeeds("lint", "deploy", {});  // needs: [] starts at once.
  Start(b);
  EXPECT_EQ(TakeReady(), (std::vector<std::string>{"lint", "compile", "slow"}));
  End("compile", S::kSuccess);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"ship"});  // slow still runs.
  EXPECT_EQ(StatusOf("unit"), S::kCreated);
  End("slow", S::kSuccess);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"unit"});
}

TEST_F(PlanTest, DagJobIsSkippedWhenANeedWasSkippedOrIsAnUnplayedOptionalManualJob) {
  PipelineBuilder b({"build", "test"});
  b.Add("compile", "build").when = When::kOnFailure;  // Skipped: nothing failed.
  Job& manual = b.Add("approve", "build");
  manual.when = When::kManual;
  manual.allow_failure.value = true;
  b.AddNeeds("after_skipped", "test", {"compile"});
  b.AddNeeds("after_manual", "test", {"approve"});
  b.Add("stage_job", "test");  // A stage job sees skipped as success.
  Start(b);
  RunAll();
  EXPECT_EQ(StatusOf("after_skipped"), S::kSkipped);
  EXPECT_EQ(StatusOf("after_manual"), S::kSkipped);
  EXPECT_EQ(StatusOf("stage_job"), S::kSuccess);
}

TEST_F(PlanTest, OptionalNeedOnAnAbsentJobIsNotWaitedFor) {
  PipelineBuilder b({"build", "test"});
  b.Add("compile", "build");
  Job& job = b.AddNeeds("unit", "test", {"compile"});
  Need absent;
  absent.job = "removed-by-rules";
  absent.optional = true;
  job.needs->push_back(absent);
  Start(b);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"compile"});
  End("compile", S::kSuccess);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"unit"});
}

TEST_F(PlanTest, AllowFailureAndItsExitCodesCountAsWarnings) {
  PipelineBuilder b({"build", "test"});
  b.Add("lenient", "build").allow_failure.value = true;
  b.Add("coded", "build").allow_failure.exit_codes = {3};
  b.Add("strict", "build").allow_failure.exit_codes = {3};
  b.Add("unit", "test");
  Start(b);
  EXPECT_EQ(TakeReady().size(), 3u);
  End("lenient", S::kFailed, 1);
  End("coded", S::kFailed, 3);
  EXPECT_TRUE(plan_->allow_failure(Index("lenient")));
  EXPECT_TRUE(plan_->allow_failure(Index("coded")));
  End("strict", S::kFailed, 1);  // Not one of its exit codes.
  EXPECT_FALSE(plan_->allow_failure(Index("strict")));
  EXPECT_EQ(StatusOf("unit"), S::kSkipped);
  EXPECT_EQ(plan_->Outcome(), S::kFailed);
}

TEST_F(PlanTest, AllowedFailuresAloneLetTheNextStageRun) {
  PipelineBuilder b({"build", "test"});
  b.Add("coded", "build").allow_failure.exit_codes = {3};
  b.Add("unit", "test");
  Start(b);
  RunAll({{"coded", S::kFailed}});  // RunAll fails with exit code 1.
  EXPECT_EQ(StatusOf("unit"), S::kSkipped);
  PipelineBuilder c({"build", "test"});
  c.Add("coded", "build").allow_failure.exit_codes = {3};
  c.Add("unit", "test");
  Start(c);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"coded"});
  End("coded", S::kFailed, 3);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"unit"});
  End("unit", S::kSuccess);
  EXPECT_EQ(plan_->Outcome(), S::kSuccess);
}

TEST_F(PlanTest, RetryFollowsMaxWhenAndExitCodes) {
  PipelineBuilder b({"test"});
  Job& flaky = b.Add("flaky", "test");
  flaky.retry.max = 2;
  flaky.retry.when = {"script_failure"};
  Job& coded = b.Add("coded", "test");
  coded.retry.max = 2;
  coded.retry.exit_codes = {137};
  Job& timeout = b.Add("timeout", "test");
  timeout.retry.max = 1;
  timeout.retry.when = {"script_failure"};
  Start(b);
  EXPECT_EQ(TakeReady().size(), 3u);
  EXPECT_TRUE(End("flaky", S::kFailed, 1));
  EXPECT_EQ(StatusOf("flaky"), S::kPending);
  EXPECT_EQ(plan_->retries(Index("flaky")), 1);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"flaky"});
  EXPECT_TRUE(End("flaky", S::kFailed, 1));
  TakeReady();
  EXPECT_FALSE(End("flaky", S::kFailed, 1));  // max reached.
  EXPECT_EQ(StatusOf("flaky"), S::kFailed);
  EXPECT_EQ(plan_->retries(Index("flaky")), 2);
  EXPECT_TRUE(End("coded", S::kFailed, 137));
  TakeReady();
  EXPECT_FALSE(End("coded", S::kFailed, 1));  // Not one of its exit codes.
  EXPECT_FALSE(End("timeout", S::kFailed, 1, "job_execution_timeout"));  // Not its when.
  EXPECT_EQ(StatusOf("timeout"), S::kFailed);
}

TEST_F(PlanTest, NoAutomaticRetryWhenTheCallerForbidsIt) {
  PipelineBuilder b({"test"});
  b.Add("flaky", "test").retry.max = 2;
  Start(b);
  TakeReady();
  EXPECT_FALSE(plan_->Finished(Index("flaky"), S::kFailed, 1, "script_failure", false, now_));
  EXPECT_EQ(StatusOf("flaky"), S::kFailed);
}

// GitLab's ResetSkippedJobsService: a retried job's transitive dependents
// through needs, and later stages' skipped jobs, are processed again.
TEST_F(PlanTest, RetryResetsSkippedJobsWaitingForItTransitively) {
  PipelineBuilder b({"build", "test", "deploy"});
  b.Add("a", "build");
  b.AddNeeds("b", "build", {"a"});
  b.AddNeeds("c", "build", {"b"});
  b.Add("later", "deploy");
  // Same stage, no needs: it does not wait for a and stays skipped.
  b.Add("sibling", "build").when = When::kOnFailure;
  Start(b);
  RunAll({{"a", S::kFailed}});
  EXPECT_EQ(StatusOf("b"), S::kSkipped);
  EXPECT_EQ(StatusOf("c"), S::kSkipped);
  EXPECT_EQ(StatusOf("later"), S::kSkipped);
  EXPECT_EQ(StatusOf("sibling"), S::kSkipped);
  EXPECT_FALSE(plan_->Retry(Index("b"), now_).ok());  // Skipped, not finished.
  ASSERT_TRUE(plan_->Retry(Index("a"), now_).ok());
  EXPECT_EQ(StatusOf("a"), S::kPending);
  EXPECT_EQ(StatusOf("b"), S::kCreated);
  EXPECT_EQ(StatusOf("c"), S::kCreated);
  EXPECT_EQ(StatusOf("later"), S::kCreated);
  EXPECT_EQ(plan_->retries(Index("a")), 1);
  RunAll();
  for (const char* job : {"a", "b", "c", "later"}) EXPECT_EQ(StatusOf(job), S::kSuccess) << job;
  EXPECT_EQ(StatusOf("sibling"), S::kSkipped);
  EXPECT_EQ(plan_->Outcome(), S::kSuccess);
}

TEST_F(PlanTest, PlayResetsSkippedJobsWaitingForAnOptionalManualJob) {
  PipelineBuilder b({"build", "test"});
  Job& manual = b.Add("approve", "build");
  manual.when = When::kManual;
  manual.allow_failure.value = true;
  b.AddNeeds("after", "test", {"approve"});
  Start(b);
  EXPECT_EQ(StatusOf("after"), S::kSkipped);
  ASSERT_TRUE(plan_->Play(Index("approve"), now_).ok());
  EXPECT_EQ(StatusOf("after"), S::kCreated);
  RunAll();
  EXPECT_EQ(StatusOf("after"), S::kSuccess);
}

TEST_F(PlanTest, ResourceGroupRunsOneJobAtATimeInArrivalOrder) {
  PipelineBuilder b({"deploy"});
  b.Add("one", "deploy").resource_group = "prod";
  b.Add("two", "deploy").resource_group = "prod";
  b.Add("three", "deploy").resource_group = "prod";
  b.Add("free", "deploy");
  Start(b);
  EXPECT_EQ(TakeReady(), (std::vector<std::string>{"one", "free"}));
  EXPECT_EQ(StatusOf("two"), S::kPending);  // Waits for the group.
  ASSERT_TRUE(plan_->CancelJob(Index("two"), now_).ok());
  EXPECT_EQ(StatusOf("two"), S::kCanceled);
  End("one", S::kSuccess);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"three"});
}

// With a gate (the server's groups across pipelines), a group's jobs wait as
// waiting_for_resource, are held while the gate says no, and a canceled
// held job lets the pipeline's next job of the group go.
TEST_F(PlanTest, GatedResourceGroupJobsWaitForResourceUntilGranted) {
  PipelineBuilder b({"deploy"});
  b.Add("one", "deploy").resource_group = "prod";
  b.Add("two", "deploy").resource_group = "prod";
  b.Add("free", "deploy");
  StatusOr<RunPlan> plan = RunPlan::Create(b.pipeline(), {});
  ASSERT_TRUE(plan.ok());
  plan_.emplace(std::move(*plan));
  plan_->set_listener(this);
  plan_->GateResourceGroups();
  plan_->Start(now_);
  EXPECT_EQ(StatusOf("one"), S::kWaitingForResource);
  EXPECT_EQ(StatusOf("two"), S::kWaitingForResource);
  EXPECT_EQ(StatusOf("free"), S::kPending);
  std::optional<int> first = plan_->NextReady();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, Index("one"));
  plan_->Hold(*first);  // The gate said no.
  EXPECT_EQ(plan_->held(), std::vector<int>{Index("one")});
  EXPECT_FALSE(plan_->Idle());
  EXPECT_EQ(plan_->NextReady(), Index("free"));
  plan_->Hold(Index("free"));        // A pending job the gate holds (a freeze) ...
  EXPECT_FALSE(plan_->NextReady());  // "two" waits behind "one" in the pipeline.
  plan_->Running(Index("free"));     // ... leaves held() once it runs.
  EXPECT_EQ(plan_->held(), std::vector<int>{Index("one")});
  End("free", S::kSuccess);
  ASSERT_TRUE(plan_->CancelJob(Index("one"), now_).ok());
  EXPECT_TRUE(plan_->held().empty());
  std::optional<int> second = plan_->NextReady();
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, Index("two"));
  plan_->Grant(*second);
  plan_->Running(*second);
  End("two", S::kSuccess);
  EXPECT_TRUE(plan_->Idle());
  EXPECT_EQ(events_, (std::vector<std::string>{"one:waiting_for_resource",
                                               "two:waiting_for_resource", "free:pending",
                                               "free:running", "free:success", "one:canceled",
                                               "two:pending", "two:running", "two:success"}));
}

TEST_F(PlanTest, CancelEndsWaitingJobsAndLeavesManualAndRunningOnes) {
  PipelineBuilder b({"build", "test", "deploy"});
  b.Add("compile", "build");
  Job& manual = b.Add("approve", "build");
  manual.when = When::kManual;
  manual.allow_failure.value = true;
  Job& later = b.Add("soon", "build");
  later.when = When::kDelayed;
  later.start_in = "1 hour";
  b.Add("unit", "test");
  Start(b);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"compile"});
  StatusOr<bool> stop = plan_->CancelJob(Index("compile"), now_);
  ASSERT_TRUE(stop.ok());
  EXPECT_TRUE(*stop);                                           // Running: the caller stops it.
  EXPECT_FALSE(plan_->CancelJob(Index("approve"), now_).ok());  // Manual: not cancelable.
  plan_->Cancel();
  EXPECT_EQ(StatusOf("soon"), S::kCanceled);
  EXPECT_EQ(StatusOf("unit"), S::kCanceled);
  EXPECT_EQ(StatusOf("approve"), S::kManual);
  EXPECT_EQ(StatusOf("compile"), S::kRunning);
  EXPECT_FALSE(plan_->Retry(Index("unit"), now_).ok());  // The pipeline is being canceled.
  End("compile", S::kCanceled);
  EXPECT_TRUE(plan_->Idle());
  EXPECT_EQ(plan_->NextWakeup(), std::nullopt);
  EXPECT_EQ(plan_->Outcome(), S::kCanceled);
}

// Nothing waits for the timer of a canceled delayed job: the run can end
// at once rather than when the job would have started.
TEST_F(PlanTest, CanceledScheduledJobLeavesNoTimer) {
  PipelineBuilder b({"deploy"});
  Job& later = b.Add("rollout", "deploy");
  later.when = When::kDelayed;
  later.start_in = "1 hour";
  Job& sooner = b.Add("canary", "deploy");
  sooner.when = When::kDelayed;
  sooner.start_in = "2 hours";
  Start(b);
  EXPECT_EQ(plan_->NextWakeup(), now_ + seconds(3600));
  ASSERT_TRUE(plan_->CancelJob(Index("rollout"), now_).ok());
  EXPECT_EQ(plan_->NextWakeup(), now_ + seconds(7200));
  ASSERT_TRUE(plan_->CancelJob(Index("canary"), now_).ok());
  EXPECT_EQ(plan_->NextWakeup(), std::nullopt);
  EXPECT_TRUE(plan_->Idle());
  plan_->AdvanceTime(now_ + seconds(7200));
  EXPECT_EQ(StatusOf("rollout"), S::kCanceled);
  EXPECT_EQ(StatusOf("canary"), S::kCanceled);
}

TEST_F(PlanTest, ResumedOutcomesAreKeptAndTheRestIsProcessed) {
  PipelineBuilder b({"build", "test"});
  b.Add("compile", "build");
  b.Add("approve", "build").when = When::kManual;
  b.Add("unit", "test");
  StatusOr<RunPlan> plan = RunPlan::Create(b.pipeline(), {});
  ASSERT_TRUE(plan.ok());
  plan_.emplace(std::move(*plan));
  EXPECT_TRUE(plan_->Resume(Index("compile"), S::kSuccess, false, 1, false));
  EXPECT_FALSE(plan_->Resume(Index("approve"), S::kManual, false, 0, true));  // Played.
  EXPECT_FALSE(plan_->Resume(Index("unit"), S::kRunning, false, 0, false));
  plan_->Start(now_);
  EXPECT_EQ(StatusOf("compile"), S::kSuccess);
  EXPECT_EQ(plan_->retries(Index("compile")), 1);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"approve"});
  End("approve", S::kSuccess);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"unit"});
}

TEST_F(PlanTest, SelectedJobsPullInWhatTheyDependOnAndPlayTheirManualNeeds) {
  PipelineBuilder b({"build", "test", "deploy"});
  b.Add("compile", "build");
  b.Add("docs", "build");
  b.AddNeeds("approve", "test", {}).when = When::kManual;
  b.Add("unit", "test");
  b.AddNeeds("ship", "deploy", {"approve"});
  b.Add("other", "deploy");
  Start(b, {"ship"});
  EXPECT_EQ(plan_->size(), 2);  // ship and approve: DAG jobs pull no stages.
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"approve"});
  End("approve", S::kSuccess);
  EXPECT_EQ(TakeReady(), std::vector<std::string>{"ship"});
  Start(b, {"unit"});
  EXPECT_EQ(plan_->size(), 3);  // unit and every job of the earlier stages.
  EXPECT_EQ(plan_->graph().Find("other"), -1);
  StatusOr<RunPlan> unknown = RunPlan::Create(b.pipeline(), {"nope"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "job 'nope' is not in the pipeline");
}

TEST_F(PlanTest, UndeclaredStageIsAnError) {
  PipelineBuilder b({"build"});
  b.Add("compile", "nowhere");
  StatusOr<RunPlan> plan = RunPlan::Create(b.pipeline(), {});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "job 'compile': stage 'nowhere' is not one of the pipeline's stages");
}

TEST_F(PlanTest, StatusChangesAreReportedInOrder) {
  PipelineBuilder b({"build", "test"});
  b.Add("compile", "build");
  b.Add("unit", "test");
  Start(b);
  RunAll({{"compile", S::kFailed}});
  EXPECT_EQ(events_, (std::vector<std::string>{"compile:pending", "compile:running",
                                               "compile:failed", "unit:skipped"}));
}

}  // namespace
}  // namespace slipway
