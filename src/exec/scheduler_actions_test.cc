// The scheduler resuming from prior outcomes, and Play / Retry / CancelJob
// while it runs (the server's job actions).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "exec/fake_executor.h"
#include "exec/scheduler.h"
#include "exec/scheduler_test_util.h"

namespace slipway {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

JobResult Outcome(JobOutcome outcome) {
  JobResult r;
  r.outcome = outcome;
  return r;
}

// Forwards to a Recorder and opens a gate once a job reaches a status.
class Signal : public RunObserver {
 public:
  Signal(Recorder* next, std::string job, CiStatus status)
      : next_(next), job_(std::move(job)), status_(status) {}
  void OnJobUpdate(const JobRun& run) override {
    next_->OnJobUpdate(run);
    if (run.job->name == job_ && run.status == status_) gate.Started(job_);
  }
  Gate gate;

 private:
  Recorder* next_;
  std::string job_;
  CiStatus status_;
};

class SchedulerActionsTest : public ::testing::Test {
 protected:
  StatusOr<RunResult> Run(Pipeline& pipeline, SchedulerOptions options = {},
                          RunObserver* observer = nullptr) {
    scheduler_ = std::make_unique<Scheduler>(pipeline, &executor_, &clock_, nullptr,
                                             observer ? observer : &recorder_, std::move(options));
    return scheduler_->Run();
  }
  static std::string StatusOf(const RunResult& r, const std::string& name) {
    for (const JobRun& run : r.jobs) {
      if (run.job->name == name) return CiStatusName(run.status);
    }
    return "absent";
  }

  FakeExecutor executor_;
  FakeClock clock_;
  Recorder recorder_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerActionsTest, PriorOutcomesAreKeptAndNotRunAgain) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "slipway-prior-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  std::string run_dir = tmpl;
  // What build left in its job dir: a dotenv report and artifacts.
  std::filesystem::create_directories(run_dir + "/jobs/build/reports/dotenv");
  std::filesystem::create_directories(run_dir + "/jobs/build/artifacts");
  std::ofstream(run_dir + "/jobs/build/reports/dotenv/build.env") << "VERSION=1.2\n";

  PipelineBuilder b({"build", "test", "deploy"});
  b.Add("build", "build");
  b.Add("lint", "build");
  b.Add("test", "test");
  b.Add("deploy", "deploy");
  SchedulerOptions options;
  options.run_dir = run_dir;
  options.prior["build"] = PriorJob{CiStatus::kSuccess, false, 0, 0, "", false};
  options.prior["lint"] = PriorJob{CiStatus::kFailed, true, 1, 2, "script_failure", false};
  options.prior["test"] = PriorJob{CiStatus::kPending, false, 0, std::nullopt, "", false};
  StatusOr<RunResult> result = Run(b.pipeline(), options);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_THAT(executor_.order(), ElementsAre("test", "deploy"));
  EXPECT_EQ(result->status, CiStatus::kSuccess);  // lint failed, allowed.
  EXPECT_EQ(StatusOf(*result, "build"), "success");
  EXPECT_EQ(StatusOf(*result, "lint"), "failed");
  // Only the jobs that ran were reported to the observer.
  EXPECT_THAT(recorder_.events(),
              ElementsAre("test:pending", "test:running", "test:success", "deploy:pending",
                          "deploy:running", "deploy:success"));
  std::vector<FakeExecutor::Call> calls = executor_.calls();
  ASSERT_EQ(calls.size(), 2u);
  const JobSpec& test = calls[0].spec;
  ASSERT_NE(test.variables.Get("VERSION"), nullptr);
  EXPECT_EQ(*test.variables.Get("VERSION"), "1.2");
  ASSERT_EQ(test.artifacts_from.size(), 1u);
  EXPECT_EQ(test.artifacts_from[0].job_name, "build");
  std::filesystem::remove_all(run_dir);
}

TEST_F(SchedulerActionsTest, PriorFailureSkipsWhatFollows) {
  PipelineBuilder b({"build", "test"});
  b.Add("build", "build");
  b.Add("test", "test");
  b.Add("cleanup", "test").when = When::kOnFailure;
  SchedulerOptions options;
  options.prior["build"] = PriorJob{CiStatus::kFailed, false, 0, 1, "script_failure", false};
  StatusOr<RunResult> result = Run(b.pipeline(), options);
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(executor_.order(), ElementsAre("cleanup"));
  EXPECT_EQ(StatusOf(*result, "test"), "skipped");
  EXPECT_EQ(result->status, CiStatus::kFailed);
}

TEST_F(SchedulerActionsTest, PlayedManualJobRunsAndWhatWaitsFollows) {
  PipelineBuilder b({"test", "deploy"});
  b.Add("wait", "test");
  Job& manual = b.Add("approve", "test");
  manual.when = When::kManual;
  manual.allow_failure.value = false;
  b.Add("deploy", "deploy");
  Signal signal(&recorder_, "approve", CiStatus::kManual);
  executor_.SetHook([&](const Job& job, const JobSpec&, const JobHost&,
                        const CancelToken&) -> std::optional<JobResult> {
    if (job.name == "wait") {
      EXPECT_TRUE(signal.gate.WaitFor("approve"));
      EXPECT_FALSE(scheduler_->Play("wait").ok());  // Not manual.
      Status played = scheduler_->Play("approve");
      EXPECT_TRUE(played.ok()) << played.message();
      EXPECT_FALSE(scheduler_->Play("approve").ok());  // Not manual any more.
    }
    return std::nullopt;
  });
  StatusOr<RunResult> result = Run(b.pipeline(), {}, &signal);
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(executor_.order(), ElementsAre("wait", "approve", "deploy"));
  EXPECT_EQ(StatusOf(*result, "deploy"), "success");
  EXPECT_EQ(result->status, CiStatus::kSuccess);
}

TEST_F(SchedulerActionsTest, RetriedJobRunsAgainAndSkippedJobsAreProcessedAgain) {
  PipelineBuilder b({"test", "deploy"});
  b.Add("flaky", "test");
  b.Add("slow", "test");
  b.AddNeeds("deploy", "deploy", {"flaky"});  // Skipped at once when flaky fails.
  executor_.Fail("flaky", 1);
  Signal signal(&recorder_, "flaky", CiStatus::kFailed);
  executor_.SetHook([&](const Job& job, const JobSpec& spec, const JobHost& host,
                        const CancelToken&) -> std::optional<JobResult> {
    if (job.name == "flaky" && spec.attempt == 2) return Outcome(JobOutcome::kSuccess);
    if (job.name == "slow") {
      EXPECT_TRUE(signal.gate.WaitFor("flaky"));
      EXPECT_FALSE(scheduler_->Retry("slow").ok());  // Still running.
      Status retried = scheduler_->Retry("flaky");
      EXPECT_TRUE(retried.ok()) << retried.message();
    }
    return std::nullopt;
  });
  StatusOr<RunResult> result = Run(b.pipeline(), {}, &signal);
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(executor_.order(), ElementsAre("flaky", "slow", "flaky", "deploy"));
  EXPECT_EQ(StatusOf(*result, "flaky"), "success");
  EXPECT_EQ(StatusOf(*result, "deploy"), "success");
  EXPECT_EQ(result->status, CiStatus::kSuccess);
  const std::vector<std::string>& events = recorder_.events();
  auto skipped = std::find(events.begin(), events.end(), "deploy:skipped");
  ASSERT_NE(skipped, events.end());
  EXPECT_NE(std::find(skipped, events.end(), "deploy:created"), events.end());
  for (const JobRun& run : result->jobs) {
    if (run.job->name == "flaky") {
      EXPECT_EQ(run.retries, 1);
    }
  }
}

TEST_F(SchedulerActionsTest, CancelOneRunningJobAndOneWaitingJob) {
  PipelineBuilder b({"test", "deploy"});
  b.Add("long", "test");
  b.Add("canceller", "test");
  b.Add("deploy", "deploy");
  Gate gate;
  executor_.SetHook([&](const Job& job, const JobSpec&, const JobHost&,
                        const CancelToken& cancel) -> std::optional<JobResult> {
    if (job.name == "long") {
      gate.Started("long");
      while (!cancel.canceled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return Outcome(JobOutcome::kCanceled);
    }
    if (job.name == "canceller") {
      EXPECT_TRUE(gate.WaitFor("long"));
      EXPECT_TRUE(scheduler_->CancelJob("long").ok());
      EXPECT_TRUE(scheduler_->CancelJob("deploy").ok());   // Still created.
      EXPECT_FALSE(scheduler_->CancelJob("deploy").ok());  // Already canceled.
    }
    return std::nullopt;
  });
  SchedulerOptions options;
  options.max_parallel = 2;
  StatusOr<RunResult> result = Run(b.pipeline(), options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(StatusOf(*result, "long"), "canceled");
  EXPECT_EQ(StatusOf(*result, "canceller"), "success");
  EXPECT_EQ(StatusOf(*result, "deploy"), "canceled");
  EXPECT_THAT(executor_.order(), UnorderedElementsAre("long", "canceller"));  // Both start at once.
  EXPECT_EQ(result->status, CiStatus::kCanceled);
}

TEST_F(SchedulerActionsTest, ActionsOutsideARunAreRefused) {
  PipelineBuilder b({"test"});
  b.Add("job", "test");
  Scheduler scheduler(b.pipeline(), &executor_, &clock_, nullptr, nullptr, {});
  Status s = scheduler.Play("job");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "the pipeline is not running");
  ASSERT_TRUE(scheduler.Run().ok());
  EXPECT_FALSE(scheduler.Retry("job").ok());
  EXPECT_FALSE(scheduler.CancelJob("job").ok());
}

TEST_F(SchedulerActionsTest, JobIdComesFromTheCallback) {
  PipelineBuilder b({"test"});
  b.Add("job", "test");
  SchedulerOptions options;
  options.job_id = [](const Job&) -> int64_t { return 4242; };
  ASSERT_TRUE(Run(b.pipeline(), options).ok());
  ASSERT_EQ(executor_.calls().size(), 1u);
  EXPECT_EQ(*executor_.calls()[0].spec.variables.Get("CI_JOB_ID"), "4242");
}

}  // namespace
}  // namespace slipway
