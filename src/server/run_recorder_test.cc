#include "server/run_recorder.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "exec/fake_executor.h"
#include "exec/scheduler_test_util.h"
#include "store/store_test_backend.h"
#include "util/clock.h"

namespace slipway {
namespace {

JobResult ScriptFailure() {
  JobResult failed;
  failed.outcome = JobOutcome::kFailed;
  failed.exit_code = 1;
  failed.failure_reason = "script_failure";
  return failed;
}

class RunRecorderTest : public StoreTest {
 protected:
  Job& Add(const std::string& name, const std::string& stage) { return builder_.Add(name, stage); }

  std::string Log(int64_t job_id) {
    auto slice = store_->ReadLog(job_id, 0, 1 << 20);
    return slice.ok() ? slice->bytes : slice.status().message();
  }

  // Runs pipeline_ with executor into a new pipeline of a new project, and
  // sets the pipeline's composite status; returns the recorder.
  std::unique_ptr<RunRecorder> RecordRun(FakeExecutor* executor, SchedulerOptions options = {}) {
    ProjectRecord project;
    project.name = "app";
    project.path_with_namespace = "group/app";
    PipelineRecord draft;
    draft.project_id = store_->CreateProject(project)->id;
    auto recorder = RunRecorder::Start(store_.get(), draft, pipeline_);
    EXPECT_TRUE(recorder.ok()) << recorder.status().message();
    if (!recorder.ok()) return nullptr;
    RealClock clock;
    Scheduler scheduler(pipeline_, executor, &clock, recorder->get(), recorder->get(),
                        std::move(options));
    EXPECT_TRUE(scheduler.Run().ok());
    auto composite = (*recorder)->FinishComposite();
    EXPECT_TRUE(composite.ok()) << composite.status().message();
    return std::move(*recorder);
  }

  PipelineBuilder builder_{{"build", "test"}};
  Pipeline& pipeline_ = builder_.pipeline();
};

TEST_P(RunRecorderTest, RecordsStatusesRetriesAndLogsOfASchedulerRun) {
  ProjectRecord project;
  project.name = "app";
  project.path_with_namespace = "group/app";
  int64_t project_id = store_->CreateProject(project)->id;
  Add("compile", "build");
  Add("flaky", "test").retry.max = 1;
  Job& lint = Add("lint", "test");
  lint.allow_failure.value = true;
  Job& deploy = Add("deploy", "test");
  deploy.when = When::kManual;
  deploy.needs.emplace();
  deploy.needs->push_back(Need{.job = "compile"});

  FakeExecutor executor;
  executor.Script("flaky", {ScriptFailure(), JobResult{.outcome = JobOutcome::kSuccess}});
  executor.Fail("lint", 3);

  PipelineRecord draft;
  draft.project_id = project_id;
  draft.ref = "main";
  draft.source = "push";
  auto recorder = RunRecorder::Start(store_.get(), draft, pipeline_);
  ASSERT_TRUE(recorder.ok()) << recorder.status().message();
  RealClock clock;
  Scheduler scheduler(pipeline_, &executor, &clock, recorder->get(), recorder->get(),
                      SchedulerOptions{});
  auto result = scheduler.Run();
  ASSERT_TRUE(result.ok()) << result.status().message();
  Status finished = (*recorder)->Finish(*result);
  ASSERT_TRUE(finished.ok()) << finished.message();

  int64_t pipeline_id = (*recorder)->pipeline_id();
  auto stored = store_->GetPipeline(pipeline_id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, CiStatus::kSuccess);
  EXPECT_TRUE((*stored)->started_at.has_value());
  EXPECT_TRUE((*stored)->finished_at.has_value());

  auto jobs = store_->ListJobs({.pipeline_id = pipeline_id, .include_retried = true});
  ASSERT_TRUE(jobs.ok());
  std::vector<std::string> rows;
  for (const JobRecord& j : jobs->items) {
    rows.push_back(j.name + " " + j.stage + ":" + std::to_string(j.stage_idx) + " " +
                   CiStatusName(j.status) + " try" + std::to_string(j.retry_count) +
                   (j.retried ? " retried" : "") +
                   (j.exit_code ? " exit" + std::to_string(*j.exit_code) : "") +
                   (j.failure_reason.empty() ? "" : " " + j.failure_reason));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{
                      "compile build:1 success try0 exit0",
                      "flaky test:2 failed try0 retried exit1 script_failure",
                      "lint test:2 failed try0 exit3 script_failure",
                      "deploy test:2 manual try0",
                      "flaky test:2 success try1 exit0",
                  }));
  const JobRecord& deploy_row = jobs->items[3];
  EXPECT_EQ(deploy_row.when, "manual");
  EXPECT_EQ(deploy_row.needs, std::vector<std::string>{"compile"});
  EXPECT_TRUE(jobs->items[2].allow_failure);

  // Each attempt's log went to its own row.
  EXPECT_EQ(Log(jobs->items[0].id), "running compile\n");
  EXPECT_EQ(Log(jobs->items[1].id), "running flaky\n");
  EXPECT_EQ(Log(jobs->items[4].id), "running flaky\n");
  EXPECT_EQ((*recorder)->JobId("flaky"), jobs->items[4].id);
}

TEST_P(RunRecorderTest, StoresAFailureAllowedByExitCodes) {
  Add("allowed", "test").allow_failure.exit_codes = {3};
  Add("strict", "test").allow_failure.exit_codes = {3};
  FakeExecutor executor;
  executor.Fail("allowed", 3);
  executor.Fail("strict", 4);
  std::unique_ptr<RunRecorder> recorder = RecordRun(&executor);
  ASSERT_NE(recorder, nullptr);
  auto stored = store_->GetPipeline(recorder->pipeline_id());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, CiStatus::kFailed);  // strict exited 4.

  auto jobs = LatestJobRecords(store_.get(), recorder->pipeline_id());
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].name, "allowed");
  EXPECT_EQ((*jobs)[0].status, CiStatus::kFailed);
  EXPECT_TRUE((*jobs)[0].allow_failure);
  EXPECT_EQ((*jobs)[1].status, CiStatus::kFailed);
  EXPECT_FALSE((*jobs)[1].allow_failure);
}

// The server runs trigger: jobs through the same scheduler: the stored job
// fails with GitLab's reason, no exit code, and a log that says why.
TEST_P(RunRecorderTest, StoresAnUnsupportedTriggerJobAsFailed) {
  Job& child = Add("child", "test");
  child.script.clear();
  child.trigger = Node::Scalar("child.yml");
  FakeExecutor executor;
  std::unique_ptr<RunRecorder> recorder = RecordRun(&executor);
  ASSERT_NE(recorder, nullptr);
  EXPECT_TRUE(executor.calls().empty());
  auto jobs = LatestJobRecords(store_.get(), recorder->pipeline_id());
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  const JobRecord& row = (*jobs)[0];
  EXPECT_EQ(row.status, CiStatus::kFailed);
  EXPECT_EQ(row.failure_reason, "downstream_pipeline_creation_failed");
  EXPECT_FALSE(row.exit_code.has_value());
  EXPECT_EQ(Log(row.id),
            "ERROR: Job failed: trigger: jobs (child and multi-project pipelines) are not "
            "supported yet\n");
}

// What a finished job left in its job dir becomes its artifact records, on
// the row of the attempt that left it; a job that left none has none.
TEST_P(RunRecorderTest, RecordsTheArtifactsAFinishedJobLeft) {
  Add("build: [linux]", "build").artifacts.name = "bin-$CI_JOB_STAGE";
  Add("flaky", "test").retry.max = 1;
  Add("plain", "test");
  FakeExecutor executor;
  executor.Script("flaky", {ScriptFailure(), JobResult{.outcome = JobOutcome::kSuccess}});
  executor.SetHook([](const Job& job, const JobSpec& spec, const JobHost& host,
                      const CancelToken&) -> std::optional<JobResult> {
    std::string script = "mkdir -p artifacts/out && printf 12345 > artifacts/out/a.bin";
    if (job.name == "build: [linux]") {
      script += " && mkdir -p reports/junit && printf '<testsuite/>' > reports/junit/r.xml";
    }
    // A retry starts without what the attempt before collected
    // (RunJobAttempt clears it), and uploads its own.
    if (job.name == "flaky" && spec.attempt == 2) {
      script = "test ! -e artifacts && mkdir -p artifacts && printf 1 > artifacts/b.bin";
    }
    if (job.name != "plain") {
      EXPECT_EQ(std::system(("cd '" + host.job_dir + "' && " + script).c_str()), 0);
    }
    return std::nullopt;
  });
  SchedulerOptions options;
  options.run_dir = ::testing::TempDir() + "/recorder_artifacts_" +
                    (GetParam() == Backend::kSqlite ? "sqlite" : "postgres");
  std::filesystem::remove_all(options.run_dir);
  std::unique_ptr<RunRecorder> recorder = RecordRun(&executor, options);
  std::filesystem::remove_all(options.run_dir);
  ASSERT_NE(recorder, nullptr);
  auto jobs = store_->ListJobs({.pipeline_id = recorder->pipeline_id(), .include_retried = true});
  ASSERT_TRUE(jobs.ok());
  std::vector<std::string> rows;
  for (const JobRecord& j : jobs->items) {
    auto artifacts = store_->ListArtifacts(j.id);
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().message();
    for (const ArtifactRecord& a : *artifacts) {
      rows.push_back(j.name + "#" + std::to_string(j.retry_count) + " " + a.file_type + " " +
                     a.path + " " + std::to_string(a.size) + " " + a.filename + " " +
                     a.file_format);
    }
  }
  EXPECT_EQ(rows, (std::vector<std::string>{
                      "build: [linux]#0 archive jobs/build___linux_/artifacts 5 bin-build.zip zip",
                      "build: [linux]#0 junit jobs/build___linux_/reports/junit 12 junit.xml.gz "
                      "gzip",
                      "flaky#0 archive jobs/flaky/artifacts 5 artifacts.zip zip",
                      "flaky#1 archive jobs/flaky/artifacts 1 artifacts.zip zip",
                  }));
}

TEST_P(RunRecorderTest, KeepsTheFirstErrorForUnknownJobs) {
  PipelineRecord stored;
  stored.id = 77;
  RunRecorder recorder(store_.get(), stored, {}, nullptr);
  recorder.Write("ghost", "boo\n");
  Job ghost;
  ghost.name = "ghost";
  JobRun run;
  run.job = &ghost;
  run.status = CiStatus::kRunning;
  recorder.OnJobUpdate(run);
  EXPECT_EQ(recorder.status().message(), "log for unknown job 'ghost'");
}

SLIPWAY_STORE_TEST_SUITE(RunRecorderTest);

}  // namespace
}  // namespace slipway
