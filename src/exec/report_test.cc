#include "exec/report.h"

#include "exec/downstream.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace slipway {
namespace {

Clock::WallTime At(int ms) {
  return Clock::WallTime(std::chrono::sys_days{std::chrono::year{2026} / 11 / 28}) +
         std::chrono::hours(13) + std::chrono::minutes(45) + std::chrono::milliseconds(ms);
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    build_.name = "build: [linux, amd64]";
    build_.stage = "build";
    deploy_.name = "deploy";
    deploy_.stage = "deploy";
    result_.status = CiStatus::kFailed;
    result_.started_at = At(123);
    result_.finished_at = At(543);
    result_.duration_s = 0.42;
    JobRun built;
    built.job = &build_;
    built.status = CiStatus::kFailed;
    built.allow_failure = false;
    built.exit_code = 2;
    built.failure_reason = "script_failure";
    built.retries = 1;
    built.started_at = At(125);
    built.finished_at = At(135);
    built.duration_s = 0.0100000001;
    built.log_path = "/work/project/.slipway/runs/1/jobs/build___linux__amd64_/log";
    JobRun deployed;
    deployed.job = &deploy_;
    deployed.status = CiStatus::kSkipped;
    result_.jobs = {built, deployed};
  }
  Job build_;
  Job deploy_;
  RunResult result_;
};

TEST_F(ReportTest, MatchesTheDocumentedFormat) {
  EXPECT_EQ(ReportJson(result_, {1, "/work/project", "Pipeline for branch: main"}), R"({
  "status": "failed",
  "pipeline": {
    "id": 1,
    "name": "Pipeline for branch: main",
    "started_at": "2026-11-28T13:45:00.123Z",
    "finished_at": "2026-11-28T13:45:00.543Z",
    "duration_s": 0.42
  },
  "jobs": [
    {
      "name": "build: [linux, amd64]",
      "stage": "build",
      "status": "failed",
      "allow_failure": false,
      "exit_code": 2,
      "failure_reason": "script_failure",
      "failure_message": null,
      "retries": 1,
      "started_at": "2026-11-28T13:45:00.125Z",
      "finished_at": "2026-11-28T13:45:00.135Z",
      "duration_s": 0.01,
      "log": ".slipway/runs/1/jobs/build___linux__amd64_/log",
      "image": null
    },
    {
      "name": "deploy",
      "stage": "deploy",
      "status": "skipped",
      "allow_failure": false,
      "exit_code": null,
      "failure_reason": null,
      "failure_message": null,
      "retries": 0,
      "started_at": null,
      "finished_at": null,
      "duration_s": 0.0,
      "log": null,
      "image": null
    }
  ]
}
)");
}

TEST_F(ReportTest, KeepsLogPathsOutsideTheProjectAbsolute) {
  std::string json = ReportJson(result_, {1, "/elsewhere", ""});
  EXPECT_NE(json.find("\"log\": \"/work/project/.slipway/runs/1/jobs/build___linux__amd64_/log\""),
            std::string::npos);
}

TEST_F(ReportTest, WritesTheFile) {
  std::string path = ::testing::TempDir() + "/report_test.json";
  ASSERT_TRUE(WriteReport(path, result_, {3, "/work/project", ""}).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), ReportJson(result_, {3, "/work/project", ""}));
  std::filesystem::remove(path);
}

TEST_F(ReportTest, ReportsAnUnwritablePath) {
  Status s = WriteReport("/nonexistent-dir/r.json", result_, {1, "", ""});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "cannot write report '/nonexistent-dir/r.json'");
}

// A trigger job's downstream pipeline nests under it in the report's own
// shape (docs/report.md); other jobs have no downstream_pipeline key.
TEST_F(ReportTest, NestsATriggerJobsDownstreamPipeline) {
  deploy_.trigger = Node::Map();
  Job inner;
  inner.name = "inner";
  inner.stage = "test";
  auto child = std::make_shared<DownstreamRun>();
  child->pipeline_id = 1001;
  child->run_dir = "/work/project/.slipway/runs/1/jobs/deploy/child";
  child->result.status = CiStatus::kFailed;
  child->result.started_at = At(200);
  child->result.finished_at = At(300);
  child->result.duration_s = 0.1;
  JobRun inner_run;
  inner_run.job = &inner;
  inner_run.status = CiStatus::kFailed;
  inner_run.exit_code = 3;
  inner_run.failure_reason = "script_failure";
  inner_run.log_path = child->run_dir + "/jobs/inner/log";
  child->result.jobs = {inner_run};
  result_.jobs[1].status = CiStatus::kSuccess;
  result_.jobs[1].downstream = child;
  nlohmann::json report = nlohmann::json::parse(ReportJson(result_, {1, "/work/project", ""}));
  EXPECT_FALSE(report["jobs"][0].contains("downstream_pipeline"));
  const nlohmann::json& downstream = report["jobs"][1]["downstream_pipeline"];
  EXPECT_EQ(downstream, nlohmann::json::parse(R"({
    "id": 1001, "kind": "child", "project": null, "status": "failed",
    "started_at": "2026-11-28T13:45:00.200Z", "finished_at": "2026-11-28T13:45:00.300Z",
    "duration_s": 0.1, "dir": ".slipway/runs/1/jobs/deploy/child",
    "jobs": [{"name": "inner", "stage": "test", "status": "failed", "allow_failure": false,
              "exit_code": 3, "failure_reason": "script_failure", "failure_message": null,
              "retries": 0, "started_at": null, "finished_at": null, "duration_s": 0.0,
              "log": ".slipway/runs/1/jobs/deploy/child/jobs/inner/log", "image": null}]})"));
  // A trigger job that created nothing says so with null.
  result_.jobs[1].downstream.reset();
  report = nlohmann::json::parse(ReportJson(result_, {1, "/work/project", ""}));
  EXPECT_TRUE(report["jobs"][1]["downstream_pipeline"].is_null());
}

TEST(FormatTimestampTest, UtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(Clock::WallTime(std::chrono::milliseconds(1'000'000'000'007))),
            "2001-09-09T01:46:40.007Z");
}

}  // namespace
}  // namespace slipway
