// A pipeline's test report as GitLab's API gives it (GET
// /pipelines/:id/test_report and test_report_summary): one suite per job
// (parallel jobs together, under GitLab's group name) made of the test
// cases of the artifacts:reports:junit files it kept. docs/api.md, "Test
// reports".
#ifndef SLIPWAY_SERVER_TEST_REPORT_H_
#define SLIPWAY_SERVER_TEST_REPORT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exec/junit.h"
#include "server/pipeline_service.h"
#include "store/store.h"

namespace slipway {

struct TestSuiteReport {
  std::string name;                // The jobs' group name.
  std::vector<int64_t> build_ids;  // Its jobs.
  std::vector<JunitCase> cases;
  // Why a file could not be read or parsed; its suite then counts nothing,
  // as GitLab's does ("JUnit XML parsing failed: ...").
  std::optional<std::string> suite_error;
};

// GitLab's Ci::Build#group_name: the name without the " 1/3" of
// parallel:N or the ": [a, b]" of parallel:matrix ("rspec 1/3" -> "rspec").
std::string JobGroupName(const std::string& name);

// The suites of the pipeline's latest job attempts that kept a junit report,
// in job order. Report files are read beneath the directory service names,
// never through a symbolic link, each up to 64 MiB.
StatusOr<std::vector<TestSuiteReport>> PipelineTestSuites(Store* store, PipelineService* service,
                                                          int64_t pipeline_id);

// GET /test_report: totals and every suite with its test cases (errors,
// then failures, successes and skipped ones, each slowest first, as GitLab
// sorts them).
nlohmann::json TestReportJson(const std::vector<TestSuiteReport>& suites);
// GET /test_report_summary: totals and suites without their cases.
nlohmann::json TestReportSummaryJson(const std::vector<TestSuiteReport>& suites);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_TEST_REPORT_H_
