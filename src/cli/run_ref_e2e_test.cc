// End-to-end: `slipway run --ref REV` (and list, lint and config with
// --ref) read the pipeline, its includes and the workspace from a commit,
// never from the working tree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/run_e2e_test_util.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// `--ref REV` runs REV as committed: its pipeline file and local includes,
// rules:exists and include:rules:exists over its files, its workspace, and
// CI_COMMIT_* describing it. The working tree's edits are ignored: here its
// pipeline file does not even parse.
class RunRefTest : public RunE2eTest {
 protected:
  void SetUp() override {
    const char* show =
        "show:\n  script:\n"
        "    - echo \"sha=$CI_COMMIT_SHA branch=$CI_COMMIT_BRANCH tag=$CI_COMMIT_TAG"
        " msg=$CI_COMMIT_MESSAGE\"\n"
        "    - cat version.txt\n";
    repo_.Write("ci/jobs.yml", show);
    repo_.Write("ci/extra.yml", "extra:\n  script: echo extra\n");
    repo_.Write("old.txt", "only in the first commit\n");
    repo_.Write(".gitlab-ci.yml",
                "include:\n  - local: ci/jobs.yml\n"
                "  - local: ci/extra.yml\n    rules:\n      - exists: [old.txt]\n"
                "old_only:\n  rules:\n    - exists: [old.txt]\n  script: echo old\n");
    first_ = repo_.Commit("first commit\n\nwith a body", "version.txt");
    repo_.Git({"tag", "-a", "-m", "release one", "v1.0"});
    fs::remove(fs::path(repo_.dir()) / "old.txt");
    repo_.Write(".gitlab-ci.yml",
                "include: ci/*.yml\n"
                "new_only:\n  rules:\n    - exists: [old.txt]\n      when: never\n    - when: "
                "on_success\n  script: echo new\n");
    second_ = repo_.Commit("second commit", "version.txt");
    repo_.Write(".gitlab-ci.yml", "uncommitted: [\n");
    repo_.Write("version.txt", "uncommitted");
  }
  std::string first_;
  std::string second_;
};

TEST_F(RunRefTest, TagRunsTheTaggedCommitAsATagPipeline) {
  RunOutcome out = Run({"--ref", "v1.0"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status,
            (Statuses{{"show", "success"}, {"extra", "success"}, {"old_only", "success"}}));
  EXPECT_THAT(Log(out, "show"), HasSubstr("sha=" + first_ +
                                          " branch= tag=v1.0 msg=first commit\n\nwith a body\n"
                                          "$ cat version.txt\nfirst commit\n\nwith a body\n"));
}

TEST_F(RunRefTest, BranchRunsItsTipAsABranchPipeline) {
  repo_.Git({"branch", "stable", first_});
  RunOutcome out = Run({"--ref", "main"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status,
            (Statuses{{"extra", "success"}, {"show", "success"}, {"new_only", "success"}}));
  EXPECT_THAT(Log(out, "show"), HasSubstr("sha=" + second_ +
                                          " branch=main tag= msg=second commit\n"
                                          "$ cat version.txt\nsecond commit\n"));
  // A branch at the tagged commit: the branch wins over the tag at its tip.
  out = Run({"--ref", "stable"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "show"), HasSubstr("sha=" + first_ + " branch=stable tag= msg=first"));
}

TEST_F(RunRefTest, ShaWithoutRefUsesTheShortShaAsBranch) {
  repo_.Git({"checkout", "--", ".gitlab-ci.yml"});
  std::string third = repo_.Commit("third commit", "version.txt");
  repo_.Git({"reset", "-q", "--hard", second_});
  repo_.Write(".gitlab-ci.yml", "uncommitted: [\n");
  RunOutcome out = Run({"--ref", third});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "show"),
              HasSubstr("sha=" + third + " branch=" + third.substr(0, 8) +
                        " tag= msg=third commit\n$ cat version.txt\nthird commit\n"));
}

TEST_F(RunRefTest, ErrorsNameTheRevisionAndPath) {
  repo_.Write(".gitlab-ci.yml", "include: ci/later.yml\n");  // Replaces the broken one.
  repo_.Write("ci/later.yml", "later:\n  script: echo later\n");
  repo_.Commit("include a file that is not committed", "version.txt");
  repo_.Git({"rm", "-q", "--cached", "ci/later.yml"});
  repo_.Git({"commit", "-q", "-m", "drop it"});
  RunOutcome out = Run({"--ref", "HEAD"});
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_THAT(out.output,
              HasSubstr("HEAD:.gitlab-ci.yml:1:10: error: Local file `HEAD:ci/later.yml` "
                        "does not exist!"));
  out = Run({"--ref", "nope"});
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_THAT(out.output, HasSubstr("--ref nope: not a commit in ."));
}

TEST_F(RunRefTest, ListLintAndConfigReadTheRevisionToo) {
  {
    SlipwayProcess list(repo_.dir(), {"list", "--ref", "v1.0"});
    EXPECT_EQ(list.Wait(), 0) << list.Output();
    EXPECT_THAT(list.Output(), HasSubstr("\nold_only "));
    EXPECT_THAT(list.Output(), Not(HasSubstr("new_only")));
  }
  {
    SlipwayProcess lint(repo_.dir(), {"lint", "--ref", "main"});
    EXPECT_EQ(lint.Wait(), 0) << lint.Output();
    EXPECT_THAT(lint.Output(), HasSubstr("main:.gitlab-ci.yml:6:7: warning: job 'new_only'"));
    EXPECT_THAT(lint.Output(), HasSubstr("\nmain:.gitlab-ci.yml: valid: 3 jobs in 1 stage, "
                                         "1 warning (simulated for branch main)\n"));
  }
  {
    // The pipeline is simulated for what the revision is: here a tag.
    SlipwayProcess lint(repo_.dir(), {"lint", "--ref", "v1.0"});
    EXPECT_EQ(lint.Wait(), 0) << lint.Output();
    EXPECT_THAT(lint.Output(), HasSubstr("(simulated for tag v1.0)\n"));
  }
  {
    SlipwayProcess config(repo_.dir(), {"config", "--ref", "v1.0"});
    EXPECT_EQ(config.Wait(), 0) << config.Output();
    EXPECT_THAT(config.Output(), HasSubstr("old_only:\n"));
  }
}

}  // namespace
}  // namespace slipway
