#include "server/test_report.h"

#include <re2/re2.h>

#include <algorithm>
#include <map>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"
#include "server/run_recorder.h"

namespace slipway {

using nlohmann::json;

namespace {

// GitLab's order of statuses in a suite (TestCase::STATUS_TYPES).
int StatusOrder(const std::string& status) {
  return status == "error" ? 0 : status == "failed" ? 1 : status == "success" ? 2 : 3;
}

// The cases of the junit report files under dir (slipway's copy of what
// the job left), read without following a link.
StatusOr<std::vector<JunitCase>> ReadReports(const std::string& dir) {
  StatusOr<UniqueFd> root = OpenDirNoFollow(dir);
  if (!root.ok()) return root.status();
  StatusOr<std::vector<TreeEntry>> entries = ListTreeAt(root->get(), dir);
  if (!entries.ok()) return entries.status();
  std::vector<JunitCase> cases;
  for (const TreeEntry& e : *entries) {
    if (e.type != EntryType::kFile) continue;
    StatusOr<std::string> xml = ReadFileBeneath(root->get(), e.path, JoinPath(dir, e.path));
    if (!xml.ok()) return xml.status();
    StatusOr<std::vector<JunitCase>> parsed = ParseJunitCases(*xml);
    if (!parsed.ok()) {
      return Status::Error("JUnit XML parsing failed: " + e.path + ": " +
                           parsed.status().message());
    }
    if (cases.size() + parsed->size() > kMaxJunitCases) {
      return Status::Error("JUnit XML parsing failed: more than " + std::to_string(kMaxJunitCases) +
                           " test cases");
    }
    for (JunitCase& c : *parsed) cases.push_back(std::move(c));
  }
  return cases;
}

double TotalTime(const TestSuiteReport& suite) {
  double total = 0;
  for (const JunitCase& c : suite.cases) total += c.execution_time;
  return total;
}

// A suite that could not be read counts nothing (GitLab's TestSuite with a
// suite_error).
TestCounts Counts(const TestSuiteReport& suite) {
  return suite.suite_error ? TestCounts() : CountCases(suite.cases);
}

json SuiteFields(const TestSuiteReport& suite) {
  TestCounts counts = Counts(suite);
  return {{"name", suite.name},
          {"total_time", suite.suite_error ? 0.0 : TotalTime(suite)},
          {"total_count", counts.total},
          {"success_count", counts.success},
          {"failed_count", counts.failed},
          {"skipped_count", counts.skipped},
          {"error_count", counts.error},
          {"suite_error", suite.suite_error ? json(*suite.suite_error) : json(nullptr)}};
}

}  // namespace

std::string JobGroupName(const std::string& name) {
  // Ci::Build#group_name's pattern, less its \b (always true after a space
  // or colon): up to three trailing " 1/3", " 1:3" or ": [a, b]" parts.
  static const RE2 kSuffix(R"(([\s:]+((\[.*\])|(\d+[\s:/\\]+\d+))){1,3}\s*$)");
  std::string out = name;
  RE2::Replace(&out, kSuffix, "");
  size_t end = out.find_last_not_of(" \t");
  size_t start = out.find_first_not_of(" \t");
  return start == std::string::npos ? "" : out.substr(start, end - start + 1);
}

StatusOr<std::vector<TestSuiteReport>> PipelineTestSuites(Store* store, PipelineService* service,
                                                          int64_t pipeline_id) {
  StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store, pipeline_id);
  if (!jobs.ok()) return jobs.status();
  std::vector<TestSuiteReport> suites;
  std::map<std::string, size_t> by_name;
  for (const JobRecord& job : *jobs) {
    if (job.bridge) continue;
    std::string dir = service != nullptr ? service->ReportDir(job.id, "junit") : "";
    if (dir.empty()) continue;
    std::string name = JobGroupName(job.name);
    auto [it, added] = by_name.try_emplace(name, suites.size());
    if (added) suites.push_back(TestSuiteReport{name, {}, {}, std::nullopt});
    TestSuiteReport& suite = suites[it->second];
    suite.build_ids.push_back(job.id);
    StatusOr<std::vector<JunitCase>> cases = ReadReports(dir);
    if (!cases.ok()) {
      if (!suite.suite_error) suite.suite_error = cases.status().message();
      continue;
    }
    for (JunitCase& c : *cases) suite.cases.push_back(std::move(c));
  }
  for (TestSuiteReport& suite : suites) {
    std::stable_sort(suite.cases.begin(), suite.cases.end(),
                     [](const JunitCase& a, const JunitCase& b) {
                       int sa = StatusOrder(a.status), sb = StatusOrder(b.status);
                       if (sa != sb) return sa < sb;
                       return a.execution_time > b.execution_time;
                     });
  }
  return suites;
}

namespace {

// Totals over the suites, and every suite's fields with what `add` puts in.
template <typename Add>
json Suites(const std::vector<TestSuiteReport>& suites, TestCounts* total, double* total_time,
            Add add) {
  json list = json::array();
  for (const TestSuiteReport& suite : suites) {
    json j = SuiteFields(suite);
    total->Add(Counts(suite));
    *total_time += j["total_time"].get<double>();
    add(suite, &j);
    list.push_back(std::move(j));
  }
  return list;
}

}  // namespace

json TestReportJson(const std::vector<TestSuiteReport>& suites) {
  TestCounts total;
  double total_time = 0;
  json list = Suites(suites, &total, &total_time, [](const TestSuiteReport& suite, json* j) {
    json cases = json::array();
    if (!suite.suite_error) {
      for (const JunitCase& c : suite.cases) {
        cases.push_back(
            {{"status", c.status},
             {"name", c.name},
             {"classname", c.classname},
             {"execution_time", c.execution_time},
             {"system_output", c.system_output ? json(*c.system_output) : json(nullptr)},
             {"stack_trace", nullptr}});
      }
    }
    (*j)["test_cases"] = std::move(cases);
  });
  return {{"total_time", total_time},       {"total_count", total.total},
          {"success_count", total.success}, {"failed_count", total.failed},
          {"skipped_count", total.skipped}, {"error_count", total.error},
          {"test_suites", std::move(list)}};
}

json TestReportSummaryJson(const std::vector<TestSuiteReport>& suites) {
  TestCounts total;
  double total_time = 0;
  json list = Suites(suites, &total, &total_time, [](const TestSuiteReport& suite, json* j) {
    (*j)["build_ids"] = suite.build_ids;
  });
  return {{"total",
           {{"time", total_time},
            {"count", total.total},
            {"success", total.success},
            {"failed", total.failed},
            {"skipped", total.skipped},
            {"error", total.error},
            {"suite_error", nullptr}}},
          {"test_suites", std::move(list)}};
}

}  // namespace slipway
