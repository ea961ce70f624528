#include "exec/job_attempt.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "exec/fake_executor.h"
#include "exec/file_tree.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

// A retry whose attempt collects nothing (artifacts:when: on_failure, then a
// success) keeps nothing of the failed attempt's artifacts or reports: they
// would be listed as the successful job's and restored into later jobs.
TEST(JobAttemptTest, ARetryStartsWithoutTheArtifactsOfTheAttemptBefore) {
  TempDir tmp;
  JobSpec spec;
  spec.attempt = 2;
  JobHost host;
  host.run_dir = tmp.path();
  host.job_dir = tmp.Sub("jobs/flaky");
  ASSERT_TRUE(MakeDirs(host.job_dir + "/artifacts").ok());
  ASSERT_TRUE(MakeDirs(host.job_dir + "/reports/junit").ok());
  ASSERT_TRUE(WriteFile(host.job_dir + "/artifacts/debug.log", "attempt 1\n").ok());
  ASSERT_TRUE(WriteFile(host.job_dir + "/reports/junit/report.xml", "<testsuites/>").ok());
  ASSERT_TRUE(WriteFile(host.job_dir + "/log", "attempt 1\n").ok());

  Job job;
  job.name = "flaky";
  FakeExecutor executor;
  CancelToken cancel;
  AttemptOutcome out = RunJobAttempt(job, spec, host, &executor, nullptr, nullptr, nullptr, cancel);

  EXPECT_EQ(out.result.outcome, JobOutcome::kSuccess);
  EXPECT_TRUE(out.artifacts.empty()) << out.artifacts.front().path;
  EXPECT_FALSE(std::filesystem::exists(host.job_dir + "/artifacts"));
  EXPECT_FALSE(std::filesystem::exists(host.job_dir + "/reports"));
  // Every attempt appends to the one log.
  StatusOr<std::string> log = ReadFile(host.job_dir + "/log");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->substr(0, 10), "attempt 1\n");
}

}  // namespace
}  // namespace slipway
