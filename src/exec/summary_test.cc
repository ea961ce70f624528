#include "exec/summary.h"

#include "exec/downstream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace slipway {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(TailLinesTest, ReturnsTheLastLines) {
  std::string path = WriteFile("tail1", "a\nb\nc\nd\n");
  EXPECT_EQ(TailLines(path, 2), "c\nd\n");
  EXPECT_EQ(TailLines(path, 10), "a\nb\nc\nd\n");
  EXPECT_EQ(TailLines(path, 1), "d\n");
  std::filesystem::remove(path);
}

TEST(TailLinesTest, CompletesAnUnterminatedLastLine) {
  std::string path = WriteFile("tail2", "a\nb\nno newline");
  EXPECT_EQ(TailLines(path, 2), "b\nno newline\n");
  std::filesystem::remove(path);
}

TEST(TailLinesTest, ReadsOnlyTheEndOfLargeFiles) {
  std::string big(200 * 1024, 'x');
  std::string path = WriteFile("tail3", big + "\nlast\n");
  EXPECT_EQ(TailLines(path, 3), "last\n");
  std::filesystem::remove(path);
}

TEST(TailLinesTest, MissingFileIsEmpty) { EXPECT_EQ(TailLines("/nonexistent/log", 3), ""); }

TEST(SummaryTest, ListsJobsFailedLogTailsAndPipelineStatus) {
  Job build;
  build.name = "build";
  build.stage = "build";
  Job lint;
  lint.name = "lint";
  lint.stage = "test";
  Job deploy;
  deploy.name = "deploy to production";
  deploy.stage = "deploy";
  RunResult result;
  result.status = CiStatus::kFailed;
  result.duration_s = 3.5;
  JobRun b;
  b.job = &build;
  b.status = CiStatus::kFailed;
  b.started_at = Clock::WallTime{};
  b.duration_s = 1.25;
  b.retries = 1;
  b.log_path = WriteFile("summary_build_log", "$ make\nerror: boom\n");
  JobRun l;
  l.job = &lint;
  l.status = CiStatus::kFailed;
  l.allow_failure = true;
  l.started_at = Clock::WallTime{};
  l.duration_s = 0.5;
  JobRun d;
  d.job = &deploy;
  d.status = CiStatus::kSkipped;
  result.jobs = {b, l, d};
  SummaryOptions options;
  options.tail_lines = 1;
  options.project_dir = ::testing::TempDir();
  EXPECT_EQ(FormatSummary(result, options),
            "\n"
            "job                   stage   status              duration\n"
            "build                 build   failed (1 retries)  1.25 s\n"
            "lint                  test    failed (allowed)    0.50 s\n"
            "deploy to production  deploy  skipped             -\n"
            "\n"
            "--- build: last lines of summary_build_log ---\n"
            "error: boom\n"
            "\n"
            "pipeline failed in 3.50 s: 0 succeeded, 1 failed, 1 allowed to fail, 1 skipped\n");
  std::filesystem::remove(b.log_path);
}

// GitLab calls such a pipeline blocked: say which manual jobs hold it up.
TEST(SummaryTest, NamesTheManualJobsABlockedPipelineWaitsOn) {
  Job build, gate, optional, after;
  build.name = "build";
  gate.name = "deploy: [prod]";
  optional.name = "optional";
  after.name = "verify";
  for (Job* job : {&build, &gate, &optional, &after}) job->stage = "s";
  RunResult result;
  JobRun b, g, o, a;
  b.job = &build;
  g.job = &gate;
  o.job = &optional;
  a.job = &after;
  b.status = CiStatus::kSuccess;
  g.status = CiStatus::kManual;
  o.status = CiStatus::kManual;
  o.allow_failure = true;
  a.status = CiStatus::kCreated;
  result.jobs = {b, g, o, a};
  std::string summary = FormatSummary(result, SummaryOptions());
  EXPECT_THAT(summary, ::testing::EndsWith(
                           "pipeline success in 0.00 s: 1 succeeded, 2 manual\n"
                           "blocked: 1 job waits on manual job 'deploy: [prod]' (allow_failure: "
                           "false); to go on: `slipway run 'deploy: [prod]' verify`\n"));
  result.jobs = {b, o};
  EXPECT_THAT(FormatSummary(result, SummaryOptions()),
              ::testing::Not(::testing::HasSubstr("blocked")));
}

// A downstream pipeline's jobs follow their trigger job as "<trigger> > <job>",
// failed ones with their log's tail; the counts are the pipeline's own jobs'.
TEST(SummaryTest, ShowsADownstreamPipelinesJobsUnderTheirTriggerJob) {
  Job deploy;
  deploy.name = "deploy";
  deploy.stage = "deploy";
  Job inner;
  inner.name = "inner";
  inner.stage = "test";
  auto child = std::make_shared<DownstreamRun>();
  JobRun inner_run;
  inner_run.job = &inner;
  inner_run.status = CiStatus::kFailed;
  inner_run.started_at = Clock::WallTime();
  inner_run.duration_s = 0.5;
  inner_run.log_path = WriteFile("inner-log", "building\nERROR: it broke\n");
  child->result.jobs = {inner_run};
  child->result.status = CiStatus::kFailed;
  RunResult result;
  JobRun trigger;
  trigger.job = &deploy;
  trigger.status = CiStatus::kSuccess;
  trigger.started_at = Clock::WallTime();
  trigger.duration_s = 0.25;
  trigger.downstream = child;
  result.jobs = {trigger};
  result.status = CiStatus::kSuccess;
  std::string summary = FormatSummary(result, SummaryOptions{});
  EXPECT_THAT(summary, testing::HasSubstr("job             stage   status   duration\n"
                                          "deploy          deploy  success  0.25 s\n"
                                          "deploy > inner  test    failed   0.50 s\n"));
  EXPECT_THAT(summary, testing::HasSubstr("--- deploy > inner: last lines of "));
  EXPECT_THAT(summary, testing::HasSubstr("ERROR: it broke\n"));
  EXPECT_THAT(summary, testing::HasSubstr("pipeline success in 0.00 s: 1 succeeded\n"));
  std::filesystem::remove(inner_run.log_path);
}

}  // namespace
}  // namespace slipway
