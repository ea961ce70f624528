// End-to-end: `slipway run --executor sandbox` runs each job under bwrap
// with the host's system read-only; its options reach the sandbox.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "cli/run_e2e_test_util.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class RunSandboxE2eTest : public RunE2eTest {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the sandbox tests run as root (mounts, namespaces)";
  }
};

TEST_F(RunSandboxE2eTest, JobsRunSandboxedWithTheHostReadOnly) {
  std::string marker = "/etc/slipway-e2e-escape-" + std::to_string(getpid());
  Pipeline("build:\n  script:\n    - echo built > out.txt\n    - \"! touch " + marker +
           "\"\n    - cat out.txt\n  artifacts:\n    paths: [out.txt]\n"
           "test:\n  needs: [build]\n  script:\n    - cat out.txt\n    - "
           "hostname\n");
  RunOutcome out = Run({"--executor", "sandbox", "--sandbox-network", "none"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "build"), HasSubstr("Using sandbox with the host's system read-only"));
  EXPECT_THAT(Log(out, "test"), HasSubstr("\nbuilt\n$ hostname\nsandbox\n"));
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(RunSandboxE2eTest, ShellExecutorIsTheDefault) {
  Pipeline("job:\n  script: hostname\n");
  RunOutcome out = Run();
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "job"), ::testing::Not(HasSubstr("\nsandbox\n")));
}

TEST_F(RunSandboxE2eTest, BadSandboxOptionsAreUsageErrors) {
  Pipeline("job:\n  script: true\n");
  RunOutcome out = Run({"--executor", "sandbox", "--sandbox-memory", "lots"});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.output, HasSubstr("--sandbox-memory: 'lots' is not a size (a "
                                    "number, optionally with K, M, "
                                    "G or T)"));
  out = Run({"--executor", "docker"});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.output, HasSubstr("--executor"));
}

}  // namespace
}  // namespace slipway
