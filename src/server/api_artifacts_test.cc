// The job artifacts endpoints against a real service running bash jobs:
// by ref name, single files, keep and delete, and paths from the URL or
// links a job left that try to reach the server's files.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "server/gitlab_json.h"
#include "server/service_api_test_util.h"
#include "util/clock.h"

namespace slipway {
namespace {

class ArtifactsApiTest : public ServiceApiTest {
 protected:
  std::string CiYaml() override {
    return R"yml(
build:
  script:
    - mkdir -p out/sub && echo built > out/sub/file.txt
    - ln -s "$DB" out/db
    - ln -s "$(dirname "$DB")" out/data
    - ln -s sub/file.txt out/inside
    - test -z "$FAIL"
  artifacts:
    paths: [out/]
    expire_in: 1 week
)yml";
  }
};

// GitLab's "download by reference name": the job of the ref's latest
// successful pipeline (a newer failed one does not count), whole or one
// file; `job` is required.
TEST_F(ArtifactsApiTest, ByRefNameTheLatestSuccessfulJobsArtifactsAreServed) {
  JobRecord good = Run();
  ASSERT_EQ(good.status, CiStatus::kSuccess);
  JobRecord bad = Run(/*fail=*/true);
  ASSERT_EQ(bad.status, CiStatus::kFailed);

  HttpResponse zip = Call("GET", Project() + "/jobs/artifacts/main/download?job=build", read_);
  ASSERT_EQ(zip.status, 200) << zip.body;
  EXPECT_EQ(Header(zip, "Content-Type"), "application/zip");
  EXPECT_EQ(zip.body, Call("GET", Job(good) + "/artifacts", read_).body);
  EXPECT_EQ(zip.body.find("secret rows"), std::string::npos);

  HttpResponse file =
      Call("GET", Project() + "/jobs/artifacts/main/raw/out/sub/file.txt?job=build", read_);
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(Served(file), "built\n");
  // The dashboard's file list: links listed as links, never followed.
  nlohmann::json files = Json(Call("GET", Job(good) + "/artifacts_files", read_));
  EXPECT_EQ(files, nlohmann::json::parse(R"([
    {"path": "out", "type": "directory", "size": 0},
    {"path": "out/data", "type": "symlink", "size": 0},
    {"path": "out/db", "type": "symlink", "size": 0},
    {"path": "out/inside", "type": "symlink", "size": 0},
    {"path": "out/sub", "type": "directory", "size": 0},
    {"path": "out/sub/file.txt", "type": "file", "size": 6}
  ])"));
  EXPECT_EQ(Call("GET", Job(bad) + "/artifacts_files", read_).status, 404);
  // A link that stays inside the artifacts is followed.
  EXPECT_EQ(Served(Call("GET", Job(good) + "/artifacts/out/inside", read_)), "built\n");

  EXPECT_EQ(Call("GET", Project() + "/jobs/artifacts/main/download", read_).status, 400);
  EXPECT_EQ(Call("GET", Project() + "/jobs/artifacts/main/download?job=test", read_).status, 404);
  EXPECT_EQ(Call("GET", Project() + "/jobs/artifacts/other/download?job=build", read_).status, 404);
  EXPECT_EQ(
      Call("GET", "/api/v4/projects/999/jobs/artifacts/main/download?job=build", read_).status,
      404);
}

// Paths come from the URL and links from the job: neither reaches a file
// outside the job's artifacts, by job id or by ref, however encoded.
TEST_F(ArtifactsApiTest, SingleFilesNeverLeaveTheArtifacts) {
  JobRecord job = Run();
  ASSERT_EQ(job.status, CiStatus::kSuccess);
  for (const std::string& base :
       {Job(job) + "/artifacts/", Project() + "/jobs/artifacts/main/raw/"}) {
    for (const std::string& path : std::vector<std::string>{
             "out/db", "out/data/slipway.db", "out/..%2F..%2F..%2F..%2F..%2Fslipway.db",
             "..%2F..%2F..%2F..%2F..%2Fslipway.db",
             "out/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/slipway.db", "%2F" + db_.substr(1),
             "out/sub"}) {
      std::string target = base + path;
      if (base.find("/raw/") != std::string::npos) target += "?job=build";
      HttpResponse r = Call("GET", target, read_);
      EXPECT_EQ(r.status, 404) << target;
      EXPECT_EQ(Served(r).find("secret rows"), std::string::npos) << target;
    }
  }
}

// expire_in shows as artifacts_expire_at; keep clears it (GitLab's "keep
// artifacts"); delete removes the archive's files and listing, not the log,
// and needs an admin token (GitLab: Maintainer).
TEST_F(ArtifactsApiTest, KeepClearsTheExpiryAndDeleteRemovesTheArtifacts) {
  // The service runs on the machine's clock: the job ended between these.
  int64_t before = UnixMillis(MachineClock()->WallNow());
  JobRecord job = Run();
  int64_t after = UnixMillis(MachineClock()->WallNow());
  ASSERT_EQ(job.status, CiStatus::kSuccess);
  nlohmann::json j = Json(Call("GET", Job(job), read_));
  ASSERT_TRUE(j["artifacts_expire_at"].is_string()) << j.dump();
  std::optional<int64_t> expire_at = ParseIsoTime(j["artifacts_expire_at"].get<std::string>());
  ASSERT_TRUE(expire_at);
  const int64_t kWeek = int64_t{7} * 24 * 3600 * 1000;
  EXPECT_GE(*expire_at, before / 1000 * 1000 + kWeek);  // ISO times are to the second.
  EXPECT_LE(*expire_at, after + kWeek);

  EXPECT_EQ(Call("POST", Job(job) + "/artifacts/keep", read_).status, 403);
  HttpResponse kept = Call("POST", Job(job) + "/artifacts/keep", run_);
  ASSERT_EQ(kept.status, 200) << kept.body;
  EXPECT_TRUE(Json(kept)["artifacts_expire_at"].is_null());
  EXPECT_TRUE(Json(Call("GET", Job(job), read_))["artifacts_expire_at"].is_null());

  std::string dir = service_->ArtifactsDir(job.id);
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(Call("DELETE", Job(job) + "/artifacts", run_).status, 403);
  HttpResponse deleted = Call("DELETE", Job(job) + "/artifacts", admin_);
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_TRUE(std::filesystem::exists(db_)) << "a link was followed";
  j = Json(Call("GET", Job(job), read_));
  EXPECT_EQ(j.count("artifacts_file"), 0u);
  ASSERT_EQ(j["artifacts"].size(), 1u) << j.dump();
  EXPECT_EQ(j["artifacts"][0]["file_type"], "trace");
  EXPECT_EQ(Call("GET", Job(job) + "/artifacts", read_).status, 404);
  EXPECT_EQ(Call("GET", Project() + "/jobs/artifacts/main/download?job=build", read_).status, 404);
  EXPECT_EQ(Call("DELETE", Job(job) + "/artifacts", admin_).status, 404);
  EXPECT_EQ(Call("POST", Job(job) + "/artifacts/keep", run_).status, 404);
}

// reports:junit of a pipeline's jobs as GitLab's test report: one suite per
// job group (parallel jobs together), cases errors and failures first, the
// summary with the jobs' ids; a report that does not parse is the suite's
// suite_error, and a link among the reports is not followed.
class TestReportApiTest : public ArtifactsApiTest {
 protected:
  std::string CiYaml() override {
    return R"yml(
unit:
  parallel: 2
  script:
    - mkdir -p reports
    - |
      cat > reports/unit.xml <<EOF
      <testsuites><testsuite name="unit $CI_NODE_INDEX">
        <testcase classname="calc" name="adds $CI_NODE_INDEX" time="0.5"/>
        <testcase classname="calc" name="slow $CI_NODE_INDEX" time="2"/>
        <testcase classname="calc" name="divides $CI_NODE_INDEX" time="0.1"><failure message="by zero">ZeroDivisionError</failure></testcase>
      </testsuite></testsuites>
      EOF
    - ln -s "$DB" reports/db.xml
  artifacts:
    reports:
      junit: reports/*.xml
lint:
  script:
    - mkdir -p reports && echo '<testsuite><testcase name="x"' > reports/lint.xml
  artifacts:
    reports:
      junit: reports/lint.xml
)yml";
  }
};

TEST_F(TestReportApiTest, JunitReportsAreServedAsGitLabsTestReport) {
  JobRecord first = Run();
  std::string pipeline = Project() + "/pipelines/" + std::to_string(first.pipeline_id);
  HttpResponse r = Call("GET", pipeline + "/test_report", read_);
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json report = Json(r);
  EXPECT_EQ(report["total_count"], 6);
  EXPECT_EQ(report["success_count"], 4);
  EXPECT_EQ(report["failed_count"], 2);
  EXPECT_DOUBLE_EQ(report["total_time"].get<double>(), 5.2);
  ASSERT_EQ(report["test_suites"].size(), 2u) << report.dump();
  nlohmann::json unit = report["test_suites"][0];
  EXPECT_EQ(unit["name"], "unit");
  EXPECT_TRUE(unit["suite_error"].is_null());
  ASSERT_EQ(unit["test_cases"].size(), 6u);
  std::vector<std::string> order;
  for (const auto& c : unit["test_cases"])
    order.push_back(c["status"].get<std::string>() + " " + c["name"].get<std::string>());
  EXPECT_EQ(order,
            (std::vector<std::string>{"failed divides 1", "failed divides 2", "success slow 1",
                                      "success slow 2", "success adds 1", "success adds 2"}));
  nlohmann::json failed = unit["test_cases"][0];
  EXPECT_EQ(failed["classname"], "calc");
  EXPECT_DOUBLE_EQ(failed["execution_time"].get<double>(), 0.1);
  EXPECT_EQ(failed["system_output"], "ZeroDivisionError");
  EXPECT_TRUE(failed["stack_trace"].is_null());
  EXPECT_EQ(r.body.find("secret rows"), std::string::npos);
  nlohmann::json lint = report["test_suites"][1];
  EXPECT_EQ(lint["name"], "lint");
  EXPECT_EQ(lint["total_count"], 0);
  EXPECT_EQ(lint["test_cases"], nlohmann::json::array());
  EXPECT_EQ(lint["suite_error"],
            "JUnit XML parsing failed: reports/lint.xml: JUnit XML: unterminated tag");

  HttpResponse s = Call("GET", pipeline + "/test_report_summary", read_);
  ASSERT_EQ(s.status, 200) << s.body;
  nlohmann::json summary = Json(s);
  EXPECT_EQ(summary["total"]["count"], 6);
  EXPECT_EQ(summary["total"]["failed"], 2);
  EXPECT_EQ(summary["test_suites"][0]["build_ids"].size(), 2u);
  EXPECT_EQ(summary["test_suites"][0].count("test_cases"), 0u);
  EXPECT_EQ(Call("GET", Project() + "/pipelines/999/test_report", read_).status, 404);
}

// coverage: the job's regexp over its log when it ends, the last line with a
// number winning (exec/coverage.h); the job's `coverage` is that number and
// the pipeline's the average of its jobs' ("%.2f"); a job without one has
// null.
class CoverageApiTest : public ArtifactsApiTest {
 protected:
  std::string CiYaml() override {
    return R"yml(
unit:
  script:
    - echo "TOTAL 10 2 80%"
    - echo "TOTAL 12 1 91.5%"
  coverage: '/TOTAL.*\s+(\d+\.?\d*)%$/'
lint:
  script: echo "Lines 50.5%"
  coverage: '/Lines\s+(\d+\.\d+)%/'
plain:
  script: echo "TOTAL 1 1 10%"
)yml";
  }
};

TEST_F(CoverageApiTest, TheCoverageRegexpFillsTheJobsAndThePipelinesCoverage) {
  JobRecord first = Run();
  std::string pipeline = Project() + "/pipelines/" + std::to_string(first.pipeline_id);
  std::map<std::string, nlohmann::json> coverage;
  for (const auto& job : Json(Call("GET", pipeline + "/jobs", read_))) {
    coverage[job["name"].get<std::string>()] = job["coverage"];
  }
  EXPECT_EQ(coverage["unit"], 91.5);
  EXPECT_EQ(coverage["lint"], 50.5);
  EXPECT_TRUE(coverage["plain"].is_null());
  EXPECT_EQ(Json(Call("GET", pipeline, read_))["coverage"], "71.00");
  EXPECT_EQ(Json(Call("GET", Project() + "/pipelines", read_))[0]["coverage"], "71.00");
}

}  // namespace
}  // namespace slipway
