#include "cli/run.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "exec/fake_executor.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class RunPipelineLocallyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = fs::path(::testing::TempDir()) / ("run_front_" + std::to_string(::getpid()));
    fs::remove_all(project_);
    fs::create_directories(project_);
    context_.project_dir = project_.string();
    context_.predefined.Set("CI_PIPELINE_ID", "1");
    context_.cli_variables.Set("FROM_CLI", "yes");
    pipeline_.stages = {".pre", "build", "test", ".post"};
    AddJob("build", "build");
    AddJob("test", "test");
    out_ = std::tmpfile();
    err_ = std::tmpfile();
    options_.out = out_;
    options_.err = err_;
    options_.handle_signals = false;
    options_.jobs = 2;
  }
  void TearDown() override {
    std::fclose(out_);
    std::fclose(err_);
    fs::remove_all(project_);
  }
  void AddJob(const std::string& name, const std::string& stage) {
    Job job;
    job.name = name;
    job.stage = stage;
    pipeline_.jobs.push_back(job);
  }
  static std::string Text(std::FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string text;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    return text;
  }
  int Run() { return RunPipelineLocally(pipeline_, context_, options_, &executor_, &clock_); }

  fs::path project_;
  Pipeline pipeline_;
  PipelineContext context_;
  RunFrontOptions options_;
  FakeExecutor executor_;
  FakeClock clock_;
  std::FILE* out_ = nullptr;
  std::FILE* err_ = nullptr;
};

TEST_F(RunPipelineLocallyTest, SuccessfulRunKeepsLogsAndWritesReport) {
  options_.report = (project_ / "report.json").string();
  EXPECT_EQ(Run(), kExitSuccess);
  EXPECT_EQ(Slurp(project_ / ".slipway/runs/1/jobs/build/log"), "running build\n");
  nlohmann::json report = nlohmann::json::parse(Slurp(project_ / "report.json"));
  EXPECT_EQ(report["status"], "success");
  EXPECT_EQ(report["pipeline"]["id"], 1);
  ASSERT_EQ(report["jobs"].size(), 2u);
  EXPECT_EQ(report["jobs"][1]["name"], "test");
  EXPECT_EQ(report["jobs"][1]["log"], ".slipway/runs/1/jobs/test/log");
  std::string out = Text(out_);
  EXPECT_THAT(out, HasSubstr("build > started (stage build)\n"));
  EXPECT_THAT(out, HasSubstr("build | running build\n"));
  EXPECT_THAT(out, HasSubstr("pipeline success in 0.00 s: 2 succeeded\n"));
  std::vector<FakeExecutor::Call> calls = executor_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(*calls[0].spec.variables.Get("FROM_CLI"), "yes");
  EXPECT_EQ(*calls[0].spec.variables.Get("CI_PIPELINE_ID"), "1");
  EXPECT_EQ(calls[0].host.job_dir, (project_ / ".slipway/runs/1/jobs/build").string());
}

TEST_F(RunPipelineLocallyTest, SecondRunGetsTheNextIdAndPipelineId) {
  EXPECT_EQ(Run(), kExitSuccess);
  EXPECT_EQ(Run(), kExitSuccess);
  EXPECT_TRUE(fs::exists(project_ / ".slipway/runs/2/jobs/test/log"));
  EXPECT_EQ(*executor_.calls().back().spec.variables.Get("CI_PIPELINE_ID"), "2");
}

TEST_F(RunPipelineLocallyTest, FailedJobGivesExitOneAndItsLogTail) {
  executor_.Fail("build", 3);
  options_.report = (project_ / "report.json").string();
  EXPECT_EQ(Run(), kExitFailed);
  std::string out = Text(out_);
  EXPECT_THAT(out, HasSubstr("--- build: last lines of .slipway/runs/1/jobs/build/log ---\n"
                             "running build\n"));
  EXPECT_THAT(out, HasSubstr("pipeline failed"));
  nlohmann::json report = nlohmann::json::parse(Slurp(project_ / "report.json"));
  EXPECT_EQ(report["status"], "failed");
  EXPECT_EQ(report["jobs"][0]["exit_code"], 3);
  EXPECT_EQ(report["jobs"][1]["status"], "skipped");
}

TEST_F(RunPipelineLocallyTest, UnknownJobIsInvalidAndLeavesNoRun) {
  options_.job_names = {"deploy"};
  EXPECT_EQ(Run(), kExitInvalid);
  EXPECT_EQ(Text(err_), "error: job 'deploy' is not in the pipeline\n");
  EXPECT_FALSE(fs::exists(project_ / ".slipway/runs/1"));
}

TEST_F(RunPipelineLocallyTest, UnwritableReportFailsTheRun) {
  options_.report = (project_ / "missing-dir/report.json").string();
  EXPECT_EQ(Run(), kExitFailed);
  EXPECT_THAT(Text(err_), HasSubstr("error: cannot write report '"));
}

TEST_F(RunPipelineLocallyTest, CanceledRunExits130AndStillReports) {
  options_.report = (project_ / "report.json").string();
  options_.handle_signals = true;
  executor_.SetHook([](const Job&, const JobSpec&, const JobHost&,
                       const CancelToken& cancel) -> std::optional<JobResult> {
    // SIGINT arrives while the first job runs, as from Ctrl-C.
    ::kill(::getpid(), SIGINT);
    // The handler thread cancels; wait for the token like a real executor.
    while (!cancel.canceled()) std::this_thread::yield();
    JobResult r;
    r.outcome = JobOutcome::kCanceled;
    return r;
  });
  EXPECT_EQ(Run(), kExitCanceled);
  nlohmann::json report = nlohmann::json::parse(Slurp(project_ / "report.json"));
  EXPECT_EQ(report["status"], "canceled");
  EXPECT_EQ(report["jobs"][0]["status"], "canceled");
  EXPECT_EQ(report["jobs"][1]["status"], "canceled");
}

}  // namespace
}  // namespace slipway
