#include "exec/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "exec/fake_executor.h"
#include "exec/scheduler_test_util.h"

namespace slipway {
namespace {

using ::testing::ElementsAre;

struct Outcome {
  RunResult result;
  std::map<std::string, const JobRun*> by_name;
  std::string StatusOf(const std::string& job) const {
    auto it = by_name.find(job);
    return it == by_name.end() ? "absent" : CiStatusName(it->second->status);
  }
  const JobRun& Get(const std::string& job) const { return *by_name.at(job); }
};

class SchedulerTest : public ::testing::Test {
 protected:
  Outcome Run(Pipeline& pipeline, SchedulerOptions options = {}) {
    Scheduler scheduler(pipeline, &executor_, &clock_, nullptr, &recorder_, std::move(options));
    StatusOr<RunResult> result = scheduler.Run();
    EXPECT_TRUE(result.ok()) << result.status().message();
    Outcome out;
    if (!result.ok()) return out;
    out.result = std::move(result).value();
    for (const JobRun& run : out.result.jobs) out.by_name[run.job->name] = &run;
    return out;
  }

  FakeExecutor executor_;
  FakeClock clock_;
  Recorder recorder_;
};

TEST_F(SchedulerTest, RunsStagesInOrder) {
  PipelineBuilder b({"build", "test", "deploy"});
  b.Add("deploy", "deploy");
  b.Add("test", "test");
  b.Add("build", "build");
  b.Add("lint", ".pre");
  b.Add("notify", ".post");
  Outcome out = Run(b.pipeline());
  EXPECT_THAT(executor_.order(), ElementsAre("lint", "build", "test", "deploy", "notify"));
  EXPECT_EQ(out.result.status, CiStatus::kSuccess);
  EXPECT_EQ(out.StatusOf("deploy"), "success");
}

TEST_F(SchedulerTest, EmptyNeedsStartsAtOnce) {
  PipelineBuilder b({"build", "test", "deploy"});
  b.Add("build", "build");
  b.AddNeeds("early", "deploy", {});
  Run(b.pipeline());
  EXPECT_THAT(executor_.order(), ElementsAre("early", "build"));
}

TEST_F(SchedulerTest, NeedsJobStartsBeforeEarlierStageEnds) {
  PipelineBuilder b({"build", "test"});
  b.Add("fast", "build");
  b.Add("slow", "build");
  b.AddNeeds("unit", "test", {"fast"});
  b.Add("stage_test", "test");
  Gate gate;
  // `slow` only finishes once `unit` has started: possible only if `unit`
  // starts as soon as `fast` is done, across the stage boundary.
  executor_.SetHook([&](const Job& job, const JobSpec&, const JobHost&,
                        const CancelToken&) -> std::optional<JobResult> {
    gate.Started(job.name);
    if (job.name == "slow" && !gate.WaitFor("unit")) {
      JobResult r;
      r.failure_reason = "script_failure";
      return r;
    }
    return std::nullopt;
  });
  SchedulerOptions options;
  options.max_parallel = 3;
  Outcome out = Run(b.pipeline(), options);
  EXPECT_EQ(out.StatusOf("slow"), "success");
  EXPECT_EQ(out.StatusOf("unit"), "success");
  std::vector<std::string> order = executor_.order();
  EXPECT_EQ(order.back(), "stage_test");
}

TEST_F(SchedulerTest, FailureSkipsLaterOnSuccessJobsAndRunsOnFailureAndAlways) {
  PipelineBuilder b({"build", "test", "deploy"});
  b.Add("build", "build");
  b.Add("other", "build");
  b.Add("test", "test");
  b.Add("cleanup", "test").when = When::kAlways;
  b.Add("report", "deploy").when = When::kOnFailure;
  b.Add("deploy", "deploy");
  executor_.Fail("build", 2);
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.result.status, CiStatus::kFailed);
  EXPECT_EQ(out.StatusOf("build"), "failed");
  EXPECT_EQ(out.Get("build").exit_code, 2);
  EXPECT_EQ(out.Get("build").failure_reason, "script_failure");
  EXPECT_EQ(out.StatusOf("other"), "success");
  EXPECT_EQ(out.StatusOf("test"), "skipped");
  EXPECT_EQ(out.StatusOf("cleanup"), "success");
  EXPECT_EQ(out.StatusOf("report"), "success");
  EXPECT_EQ(out.StatusOf("deploy"), "skipped");
  EXPECT_THAT(executor_.order(), ElementsAre("build", "other", "cleanup", "report"));
}

TEST_F(SchedulerTest, OnFailureJobIsSkippedWhenNothingFailed) {
  PipelineBuilder b({"build", "test"});
  b.Add("build", "build");
  b.Add("rescue", "test").when = When::kOnFailure;
  b.Add("after", ".post");
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("rescue"), "skipped");
  // A stage of only skipped jobs lets on_success stage jobs run (GitLab).
  EXPECT_EQ(out.StatusOf("after"), "success");
  EXPECT_EQ(out.result.status, CiStatus::kSuccess);
}

TEST_F(SchedulerTest, NeedsFailurePropagatesOnlyToDependents) {
  PipelineBuilder b({"build", "test"});
  b.AddNeeds("a", "build", {});
  b.AddNeeds("b", "build", {});
  b.AddNeeds("needs_a", "test", {"a"});
  b.AddNeeds("needs_b", "test", {"b"});
  b.AddNeeds("on_fail_a", "test", {"a"}).when = When::kOnFailure;
  executor_.Fail("a", 1);
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("needs_a"), "skipped");
  EXPECT_EQ(out.StatusOf("needs_b"), "success");
  EXPECT_EQ(out.StatusOf("on_fail_a"), "success");
  EXPECT_EQ(out.result.status, CiStatus::kFailed);
}

TEST_F(SchedulerTest, NeedsOnSkippedJobIsSkippedButStageJobRuns) {
  PipelineBuilder b({"build", "test"});
  b.Add("rescue", "build").when = When::kOnFailure;
  b.AddNeeds("dag", "test", {"rescue"});
  b.Add("staged", "test");
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("rescue"), "skipped");
  EXPECT_EQ(out.StatusOf("dag"), "skipped");
  EXPECT_EQ(out.StatusOf("staged"), "success");
}

TEST_F(SchedulerTest, AllowFailureIsAWarning) {
  PipelineBuilder b({"build", "test"});
  b.Add("flaky", "build").allow_failure.value = true;
  b.Add("test", "test");
  b.AddNeeds("dag", "test", {"flaky"});
  executor_.Fail("flaky", 1);
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("flaky"), "failed");
  EXPECT_TRUE(out.Get("flaky").allow_failure);
  EXPECT_EQ(out.StatusOf("test"), "success");
  EXPECT_EQ(out.StatusOf("dag"), "success");
  EXPECT_EQ(out.result.status, CiStatus::kSuccess);
}

TEST_F(SchedulerTest, AllowFailureExitCodes) {
  PipelineBuilder b({"build", "test"});
  b.Add("allowed", "build").allow_failure.exit_codes = {3, 4};
  b.Add("not_allowed", "build").allow_failure.exit_codes = {3};
  b.Add("test", "test");
  executor_.Fail("allowed", 4);
  executor_.Fail("not_allowed", 1);
  Outcome out = Run(b.pipeline());
  EXPECT_TRUE(out.Get("allowed").allow_failure);
  EXPECT_FALSE(out.Get("not_allowed").allow_failure);
  EXPECT_EQ(out.StatusOf("test"), "skipped");
  EXPECT_EQ(out.result.status, CiStatus::kFailed);
}

TEST_F(SchedulerTest, OptionalManualJobDoesNotRunNorBlock) {
  PipelineBuilder b({"build", "deploy"});
  Job& manual = b.Add("approve", "build");
  manual.when = When::kManual;
  manual.allow_failure.value = true;
  b.Add("deploy", "deploy");
  b.AddNeeds("needs_manual", "deploy", {"approve"});
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("approve"), "manual");
  EXPECT_EQ(out.StatusOf("deploy"), "success");
  // GitLab: a DAG job whose need is an unplayed optional manual job is skipped.
  EXPECT_EQ(out.StatusOf("needs_manual"), "skipped");
  EXPECT_THAT(executor_.order(), ElementsAre("deploy"));
  EXPECT_EQ(out.result.status, CiStatus::kSuccess);
}

TEST_F(SchedulerTest, BlockingManualJobHoldsLaterJobsInCreated) {
  PipelineBuilder b({"build", "deploy"});
  b.Add("approve", "build").when = When::kManual;  // allow_failure: false.
  b.Add("sibling", "build");
  b.Add("deploy", "deploy");
  b.AddNeeds("needs_manual", "deploy", {"approve"});
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("approve"), "manual");
  EXPECT_EQ(out.StatusOf("sibling"), "success");
  EXPECT_EQ(out.StatusOf("deploy"), "created");
  EXPECT_EQ(out.StatusOf("needs_manual"), "created");
}

TEST_F(SchedulerTest, NamedManualJobRunsWithWhatItNeeds) {
  PipelineBuilder b({"build", "deploy"});
  b.Add("build", "build");
  b.Add("unrelated", "build");
  b.Add("other_deploy", "deploy");
  Job& deploy = b.AddNeeds("deploy", "deploy", {"build"});
  deploy.when = When::kManual;
  SchedulerOptions options;
  options.selected = {"deploy"};
  Outcome out = Run(b.pipeline(), options);
  EXPECT_THAT(executor_.order(), ElementsAre("build", "deploy"));
  EXPECT_EQ(out.result.jobs.size(), 2u);
  EXPECT_EQ(out.StatusOf("unrelated"), "absent");
}

TEST_F(SchedulerTest, NamedStageJobPullsInEarlierStages) {
  PipelineBuilder b({"build", "test", "deploy"});
  b.Add("build", "build");
  b.Add("test", "test");
  b.Add("lint", "test");
  b.Add("deploy", "deploy");
  SchedulerOptions options;
  options.selected = {"test"};
  Run(b.pipeline(), options);
  EXPECT_THAT(executor_.order(), ElementsAre("build", "test"));
}

TEST_F(SchedulerTest, UnknownSelectedJobIsAnError) {
  PipelineBuilder b({"build"});
  b.Add("build", "build");
  SchedulerOptions options;
  options.selected = {"nope"};
  Scheduler scheduler(b.pipeline(), &executor_, &clock_, nullptr, nullptr, options);
  StatusOr<RunResult> result = scheduler.Run();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "job 'nope' is not in the pipeline");
}

TEST_F(SchedulerTest, DelayedJobStartsAfterStartIn) {
  PipelineBuilder b({"build", "deploy"});
  b.Add("build", "build");
  Job& later = b.Add("later", "deploy");
  later.when = When::kDelayed;
  later.start_in = "30 minutes";
  executor_.SetHook([&](const Job&, const JobSpec&, const JobHost&,
                        const CancelToken&) -> std::optional<JobResult> {
    clock_.Advance(std::chrono::seconds(10));
    return std::nullopt;
  });
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("later"), "success");
  auto offset = *out.Get("later").started_at - *out.Get("build").finished_at;
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(offset).count(), 30 * 60);
  EXPECT_DOUBLE_EQ(out.Get("build").duration_s, 10.0);
  EXPECT_DOUBLE_EQ(out.result.duration_s, 10.0 + 30 * 60 + 10.0);
  EXPECT_THAT(recorder_.events(), ::testing::Contains("later:scheduled"));
}

TEST_F(SchedulerTest, WhenNeverIsSkipped) {
  PipelineBuilder b({"build"});
  b.Add("never", "build").when = When::kNever;
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("never"), "skipped");
  EXPECT_TRUE(executor_.order().empty());
}

TEST_F(SchedulerTest, ResourceGroupRunsOneAtATimeInOrder) {
  PipelineBuilder b({"deploy"});
  b.Add("free", "deploy");
  b.Add("d1", "deploy").resource_group = "production";
  b.Add("d2", "deploy").resource_group = "production";
  b.Add("d3", "deploy").resource_group = "production";
  b.Add("s1", "deploy").resource_group = "staging";
  Gate gate;
  executor_.SetHook([&](const Job& job, const JobSpec&, const JobHost&,
                        const CancelToken&) -> std::optional<JobResult> {
    gate.Started(job.name);
    // d1 holds its group until jobs of other groups have started.
    if (job.name == "d1" && !(gate.WaitFor("free") && gate.WaitFor("s1"))) {
      JobResult r;
      r.failure_reason = "script_failure";
      return r;
    }
    return std::nullopt;
  });
  SchedulerOptions options;
  options.max_parallel = 4;
  Outcome out = Run(b.pipeline(), options);
  EXPECT_EQ(recorder_.max_in_group(), 1);
  EXPECT_EQ(out.result.status, CiStatus::kSuccess);
  std::vector<std::string> order = executor_.order();
  auto pos = [&](const std::string& n) {
    return std::find(order.begin(), order.end(), n) - order.begin();
  };
  EXPECT_LT(pos("d1"), pos("d2"));
  EXPECT_LT(pos("d2"), pos("d3"));
}

TEST_F(SchedulerTest, JobsBoundLimitsParallelism) {
  PipelineBuilder b({"test"});
  for (int i = 0; i < 7; ++i) b.Add("t" + std::to_string(i), "test");
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  int started = 0;
  // Each job waits until two run at once (or all have started), so the
  // bound is reached, not just respected.
  executor_.SetHook([&](const Job&, const JobSpec&, const JobHost&,
                        const CancelToken&) -> std::optional<JobResult> {
    std::unique_lock<std::mutex> lock(mu);
    ++running;
    ++started;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return running >= 2 || started == 7; });
    --running;
    return std::nullopt;
  });
  SchedulerOptions options;
  options.max_parallel = 2;
  Outcome out = Run(b.pipeline(), options);
  EXPECT_EQ(recorder_.max_running(), 2);
  EXPECT_EQ(executor_.order().size(), 7u);
}

JobResult Succeeded() {
  JobResult r;
  r.outcome = JobOutcome::kSuccess;
  return r;
}

JobResult Failed(int exit_code, const std::string& reason) {
  JobResult r;
  r.outcome = JobOutcome::kFailed;
  r.exit_code = exit_code;
  r.failure_reason = reason;
  return r;
}

TEST_F(SchedulerTest, RetriesUntilSuccess) {
  PipelineBuilder b({"test"});
  b.Add("flaky", "test").retry.max = 2;
  executor_.Script("flaky",
                   {Failed(1, "script_failure"), Failed(1, "script_failure"), Succeeded()});
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("flaky"), "success");
  EXPECT_EQ(out.Get("flaky").retries, 2);
  std::vector<FakeExecutor::Call> calls = executor_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].spec.attempt, 3);
}

TEST_F(SchedulerTest, RetryStopsAtMax) {
  PipelineBuilder b({"test"});
  b.Add("broken", "test").retry.max = 1;
  executor_.Fail("broken", 1);
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("broken"), "failed");
  EXPECT_EQ(out.Get("broken").retries, 1);
  EXPECT_EQ(executor_.order().size(), 2u);
}

TEST_F(SchedulerTest, RetryWhenAndExitCodesMustMatch) {
  PipelineBuilder b({"test"});
  Job& by_reason = b.Add("by_reason", "test");
  by_reason.retry.max = 2;
  by_reason.retry.when = {"runner_system_failure"};
  Job& by_code = b.Add("by_code", "test");
  by_code.retry.max = 2;
  by_code.retry.exit_codes = {137};
  Job& timeout = b.Add("timeout", "test");
  timeout.retry.max = 1;
  timeout.retry.when = {"job_execution_timeout"};
  executor_.Fail("by_reason", 1, "script_failure");
  executor_.Script("by_code", {Failed(137, "script_failure"), Failed(1, "script_failure")});
  executor_.Fail("timeout", 1, "job_execution_timeout");
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.Get("by_reason").retries, 0);
  EXPECT_EQ(out.Get("by_code").retries, 1);
  EXPECT_EQ(out.Get("by_code").exit_code, 1);
  EXPECT_EQ(out.Get("timeout").retries, 1);
  EXPECT_EQ(out.Get("timeout").failure_reason, "job_execution_timeout");
}

TEST_F(SchedulerTest, PassesTimeoutToExecutor) {
  PipelineBuilder b({"test"});
  b.Add("own", "test").timeout_seconds = 90;
  b.Add("default", "test");
  Run(b.pipeline());
  std::vector<FakeExecutor::Call> calls = executor_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].spec.timeout, std::chrono::milliseconds(90'000));
  EXPECT_EQ(calls[1].spec.timeout, std::chrono::milliseconds(3'600'000));
}

TEST_F(SchedulerTest, CancelEndsRunningAndPendingJobs) {
  PipelineBuilder b({"build", "test"});
  b.Add("long", "build");
  b.Add("test", "test");
  Job& manual = b.Add("manual", "test");
  manual.when = When::kManual;
  manual.allow_failure.value = true;
  b.AddNeeds("after_long", "test", {"long"});
  Job& approve = b.Add("approve", "build");
  approve.when = When::kManual;
  approve.allow_failure.value = true;
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool canceled = false;
  executor_.SetHook([&](const Job& job, const JobSpec&, const JobHost&,
                        const CancelToken& token) -> std::optional<JobResult> {
    std::unique_lock<std::mutex> lock(mu);
    started = true;
    cv.notify_all();
    cv.wait(lock, [&] { return canceled; });
    JobResult r;
    r.outcome = token.canceled() ? JobOutcome::kCanceled : JobOutcome::kSuccess;
    return r;
  });
  Scheduler scheduler(b.pipeline(), &executor_, &clock_, nullptr, nullptr, {});
  StatusOr<RunResult> result = Status::Error("not run");
  std::thread runner([&] { result = scheduler.Run(); });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started; });
  }
  scheduler.Cancel();
  {
    std::lock_guard<std::mutex> lock(mu);
    canceled = true;
    cv.notify_all();
  }
  runner.join();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, CiStatus::kCanceled);
  std::map<std::string, std::string> statuses;
  for (const JobRun& run : result->jobs) statuses[run.job->name] = CiStatusName(run.status);
  EXPECT_EQ(statuses["long"], "canceled");
  EXPECT_EQ(statuses["test"], "canceled");
  EXPECT_EQ(statuses["after_long"], "canceled");
  EXPECT_EQ(statuses["manual"], "canceled");  // Still created when the cancel came.
  EXPECT_EQ(statuses["approve"], "manual");
  EXPECT_THAT(executor_.order(), ElementsAre("long"));
}

TEST_F(SchedulerTest, CancelBeforeRunRunsNothing) {
  PipelineBuilder b({"build"});
  b.Add("build", "build");
  Scheduler scheduler(b.pipeline(), &executor_, &clock_, nullptr, nullptr, {});
  scheduler.Cancel();
  StatusOr<RunResult> result = scheduler.Run();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, CiStatus::kCanceled);
  EXPECT_EQ(result->jobs[0].status, CiStatus::kCanceled);
  EXPECT_TRUE(executor_.order().empty());
}

TEST_F(SchedulerTest, VariablePrecedence) {
  PipelineBuilder b({"build", "test"});
  Job& build = b.Add("build", "build");
  build.variables.Set("FROM_JOB", "build");
  Job& test = b.Add("test", "test");
  test.variables.Set("LEVEL", "job");
  test.variables.Set("DOTENV", "job");
  test.variables.Set("CI_JOB_NAME", "job wins over predefined");
  JobResult with_dotenv;
  with_dotenv.outcome = JobOutcome::kSuccess;
  with_dotenv.dotenv.Set("DOTENV", "dotenv");
  with_dotenv.dotenv.Set("CLI", "dotenv");
  executor_.Script("build", {with_dotenv});
  SchedulerOptions options;
  options.run_dir = ::testing::TempDir() + "/sched_vars";
  options.predefined.Set("LEVEL", "predefined");
  options.predefined.Set("CI_PIPELINE_ID", "7");
  options.cli_variables.Set("CLI", "cli");
  Run(b.pipeline(), options);
  std::filesystem::remove_all(options.run_dir);
  std::vector<FakeExecutor::Call> calls = executor_.calls();
  ASSERT_EQ(calls.size(), 2u);
  const VariableList& vars = calls[1].spec.variables;
  EXPECT_EQ(*vars.Get("LEVEL"), "job");
  EXPECT_EQ(*vars.Get("DOTENV"), "dotenv");
  EXPECT_EQ(*vars.Get("CLI"), "cli");
  EXPECT_EQ(*vars.Get("CI_PIPELINE_ID"), "7");
  EXPECT_EQ(*vars.Get("CI_JOB_NAME"), "job wins over predefined");
  EXPECT_EQ(*vars.Get("CI_JOB_STAGE"), "test");
  EXPECT_EQ(vars.Get("FROM_JOB"), nullptr);
  ASSERT_EQ(calls[1].spec.artifacts_from.size(), 1u);
  EXPECT_EQ(calls[1].spec.artifacts_from[0].job_name, "build");
  EXPECT_EQ(calls[1].spec.artifacts_from[0].job_id, 1);
}

TEST_F(SchedulerTest, ArtifactSourcesFollowDependenciesAndNeeds) {
  PipelineBuilder b({"build", "test"});
  b.Add("a", "build");
  b.Add("b", "build");
  b.Add("deps", "test").dependencies = std::vector<std::string>{"b"};
  b.Add("none", "test").dependencies = std::vector<std::string>{};
  Job& needs = b.AddNeeds("needs", "test", {"a", "b"});
  (*needs.needs)[0].artifacts = false;
  SchedulerOptions options;
  options.run_dir = ::testing::TempDir() + "/sched_artifacts";
  Run(b.pipeline(), options);
  std::filesystem::remove_all(options.run_dir);
  std::map<std::string, std::vector<std::string>> dirs;
  for (const FakeExecutor::Call& c : executor_.calls()) {
    for (const JobSpec::ArtifactSource& from : c.spec.artifacts_from) {
      dirs[c.job].push_back(from.job_name + "#" + std::to_string(from.job_id));
    }
  }
  EXPECT_THAT(dirs["deps"], ElementsAre("b#2"));
  EXPECT_TRUE(dirs["none"].empty());
  EXPECT_THAT(dirs["needs"], ElementsAre("b#2"));
}

TEST_F(SchedulerTest, WritesEachJobLogUnderRunDir) {
  PipelineBuilder b({"build"});
  b.Add("build: [linux]", "build");
  SchedulerOptions options;
  options.run_dir = ::testing::TempDir() + "/sched_log_run";
  Outcome out = Run(b.pipeline(), options);
  const JobRun& run = out.Get("build: [linux]");
  EXPECT_EQ(run.log_path, options.run_dir + "/jobs/build___linux_/log");
  std::FILE* f = std::fopen(run.log_path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[64] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n), "running build: [linux]\n");
  std::filesystem::remove_all(options.run_dir);
}

// A trigger: job would start a downstream pipeline; until slipway can, it
// must not pass without having done anything: it fails, saying why, and
// what depends on it follows a failure.
TEST_F(SchedulerTest, TriggerJobFailsWithoutRunning) {
  PipelineBuilder b({"build", "deploy"});
  b.Add("build", "build");
  Job& child = b.Add("child", "build");
  child.script.clear();
  child.trigger = Node::Scalar("child.yml", Mark{});
  Job& optional = b.Add("optional child", "build");
  optional.script.clear();
  optional.trigger = Node::Scalar("other/project", Mark{});
  optional.allow_failure.value = true;
  b.Add("deploy", "deploy");
  SchedulerOptions options;
  options.run_dir = ::testing::TempDir() + "/sched_trigger";
  std::filesystem::remove_all(options.run_dir);
  Outcome out = Run(b.pipeline(), options);
  EXPECT_THAT(executor_.order(), ElementsAre("build"));
  const JobRun& run = out.Get("child");
  EXPECT_EQ(out.StatusOf("child"), "failed");
  EXPECT_EQ(run.failure_reason, "downstream_pipeline_creation_failed");
  EXPECT_EQ(run.failure_message,
            "trigger: jobs (child and multi-project pipelines) are not supported yet");
  EXPECT_FALSE(run.exit_code.has_value());
  EXPECT_FALSE(run.allow_failure);
  EXPECT_TRUE(out.Get("optional child").allow_failure);
  EXPECT_EQ(out.StatusOf("deploy"), "skipped");
  EXPECT_EQ(out.result.status, CiStatus::kFailed);
  std::FILE* f = std::fopen(run.log_path.c_str(), "r");
  ASSERT_NE(f, nullptr) << run.log_path;
  char buf[256] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n),
            "ERROR: Job failed: trigger: jobs (child and multi-project pipelines) are not "
            "supported yet\n");
  std::filesystem::remove_all(options.run_dir);
}

TEST_F(SchedulerTest, LongSkippedChainDoesNotRecurse) {
  PipelineBuilder b({"build", "test"});
  b.Add("root", "build");
  std::string previous = "root";
  for (int i = 0; i < 20000; ++i) {
    std::string name = "j" + std::to_string(i);
    b.AddNeeds(name, "test", {previous});
    previous = name;
  }
  executor_.Fail("root", 1);
  Outcome out = Run(b.pipeline());
  EXPECT_EQ(out.StatusOf("j19999"), "skipped");
  EXPECT_EQ(executor_.order().size(), 1u);
}

}  // namespace
}  // namespace slipway
