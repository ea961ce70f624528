// End-to-end: `slipway run` verifies deployments with the checks of
// `.slipway:` and rolls an environment back locally, by running the last
// successful deployment's job again in its own run directory with the
// artifacts that run kept (real binary, real git, real bash).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/run_e2e_test_util.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;

class RunDeliverTest : public RunE2eTest {
 protected:
  void SetUp() override {
    target_ = Scratch("target");
    std::filesystem::create_directories(target_);
  }
  void TearDown() override { std::filesystem::remove_all(target_); }

  void Version(const std::string& version) {
    Pipeline(R"yaml(
build:
  stage: build
  script:
    - mkdir -p out && echo )yaml" +
             version + R"yaml( > out/version
    - echo built )yaml" +
             version + " >> " + target_ + R"yaml(/builds
  artifacts:
    paths: [out/]
deploy:
  stage: deploy
  script: cp out/version )yaml" +
             target_ + R"yaml(/current
  environment: production
.slipway:
  environments:
    prod*:
      checks:
        - name: served
          command: test "$(cat )yaml" +
             target_ + R"yaml(/current)" != bad
      rollback: {automatic: true}
)yaml");
  }

  nlohmann::json History() {
    return nlohmann::json::parse(Slurp(repo_.dir() + "/.slipway/deployments.json"), nullptr,
                                 false)["deployments"];
  }

  std::string target_;
};

TEST_F(RunDeliverTest, FailedChecksRollBackToTheLastSuccessfulDeploymentWithoutRebuilding) {
  Version("v1");
  RunOutcome first = Run({"--ref", "main"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(Log(first, "deploy"), HasSubstr("Check 'served' pass"));
  EXPECT_EQ(Slurp(target_ + "/current"), "v1\n");

  Version("bad");
  RunOutcome second = Run({"--ref", "main"});
  // The run that failed its checks still fails.
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output, HasSubstr("slipway: rolling production back to deployment 1 (run 1"));
  EXPECT_EQ(Slurp(target_ + "/current"), "v1\n");
  EXPECT_EQ(Slurp(target_ + "/builds"), "built v1\nbuilt bad\n");

  nlohmann::json history = History();
  ASSERT_EQ(history.size(), 3u) << history.dump();
  EXPECT_EQ(history[0]["status"], "success");
  EXPECT_EQ(history[1]["status"], "failed");
  EXPECT_EQ(history[1]["checks"][0]["outcome"], "fail");
  EXPECT_EQ(history[2]["status"], "success");
  EXPECT_EQ(history[2]["rollback_of"], 2);
  EXPECT_EQ(history[2]["run"], 1);  // v1's run, its job run again.
  EXPECT_EQ(history[2]["commit"], history[0]["commit"]);
  EXPECT_THAT(Slurp(repo_.dir() + "/.slipway/runs/1/jobs/deploy/log"),
              HasSubstr("Check 'served' pass"));
}

TEST_F(RunDeliverTest, NothingToRollBackToIsSaidAndARollbackIsNotRolledBack) {
  Version("bad");
  RunOutcome out = Run({"--ref", "main"});
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_THAT(out.output,
              HasSubstr("slipway: automatic rollback of production: no earlier successful "
                        "deployment of a commit in .slipway/deployments.json"));
  EXPECT_EQ(History().size(), 1u);
}

}  // namespace
}  // namespace slipway
