// End-to-end: `slipway run|list|lint --merge-request TARGET` run the
// pipeline a merge request of the current branch into TARGET would get on
// GitLab: source merge_request_event, CI_MERGE_REQUEST_* from git, and
// rules:changes compared with the merge base of the branch and TARGET.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/run_e2e_test_util.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RunMergeRequestTest : public RunE2eTest {
 protected:
  // main: A then C (docs/); feature (checked out): A then B (src/).
  void SetUp() override {
    repo_.Write(".gitlab-ci.yml", R"(
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH
docs:
  script: echo docs
  rules:
    - changes: [docs/**/*]
code:
  script: echo code
  rules:
    - changes: [src/**/*]
mr:
  script:
    - echo "iid=$CI_MERGE_REQUEST_IID src=$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME dst=$CI_MERGE_REQUEST_TARGET_BRANCH_NAME base=$CI_MERGE_REQUEST_DIFF_BASE_SHA"
    - echo "branch=[${CI_COMMIT_BRANCH-unset}] source=$CI_PIPELINE_SOURCE title=$CI_MERGE_REQUEST_TITLE"
  rules:
    - if: $CI_MERGE_REQUEST_IID
branch:
  script: echo branch
  rules:
    - if: $CI_COMMIT_BRANCH
)");
    base_ = repo_.Commit("A", "README");
    repo_.Git({"checkout", "-q", "-b", "feature"});
    repo_.Commit("add a.c", "src/a.c");
    repo_.Git({"checkout", "-q", "main"});
    repo_.Commit("C", "docs/guide.md");
    repo_.Git({"checkout", "-q", "feature"});
  }
  std::string base_;
};

TEST_F(RunMergeRequestTest, RunsWhatTheMergeRequestPipelineWould) {
  RunOutcome out = Run({"--merge-request", "main"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  // docs/ changed on main since the merge base, not on the branch.
  EXPECT_EQ(out.status, (Statuses{{"code", "success"}, {"mr", "success"}}));
  EXPECT_THAT(Log(out, "mr"), HasSubstr("iid=1 src=feature dst=main base=" + base_));
  EXPECT_THAT(Log(out, "mr"), HasSubstr("branch=[unset] source=merge_request_event title=add a.c"));
  // Without it: the branch pipeline.
  out = Run();
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status,
            (Statuses{{"docs", "success"}, {"code", "success"}, {"branch", "success"}}));
}

TEST_F(RunMergeRequestTest, ListAndLintToo) {
  {
    SlipwayProcess list(repo_.dir(), {"list", "--merge-request", "main"});
    EXPECT_EQ(list.Wait(), 0) << list.Output();
    EXPECT_THAT(list.Output(), HasSubstr("\nmr "));
    EXPECT_THAT(list.Output(), Not(HasSubstr("docs")));
    EXPECT_THAT(list.Output(), Not(HasSubstr("branch")));
  }
  {
    SlipwayProcess lint(repo_.dir(), {"lint", "--merge-request", "main"});
    EXPECT_EQ(lint.Wait(), 0) << lint.Output();
    EXPECT_THAT(lint.Output(), HasSubstr("(simulated for merge request feature into main)"));
  }
}

TEST_F(RunMergeRequestTest, ATargetThatIsNoCommitIsAnError) {
  RunOutcome out = Run({"--merge-request", "nope"});
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_THAT(out.output, HasSubstr(".: error: --merge-request nope: 'nope' is not a commit in ."));
  // An option-like target never reaches git as an option.
  out = Run({"--merge-request", "--output=/tmp/x"});
  EXPECT_NE(out.exit_code, 0) << out.output;
}

}  // namespace
}  // namespace slipway
