#include "util/ref_name.h"

#include <gtest/gtest.h>

#include "util/git.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

// Names that break each rule of git-check-ref-format(1), names close to
// them that git accepts, and the two the webhook used to let through.
const char* const kNames[] = {"main",
                              "feature/x",
                              "v1.0",
                              "release-1.2",
                              "a./b",
                              "a.lock.b",
                              "a.locks",
                              "@",
                              "@x",
                              "a@b",
                              "x@",
                              "a/@",
                              "@/a",
                              "a/HEAD",
                              "a/-b",
                              "a{b",
                              "a}b",
                              "refs/heads/x",
                              "\xc3\xbc"
                              "n\xc3\xaf"
                              "c\xc3\xb8"
                              "d\xc3\xa9",  // "ünïcødé"
                              "../x",
                              "../../../x",
                              "a/../b",
                              "a..b",
                              ".hidden",
                              "a/.b",
                              ".",
                              "..",
                              "a/.",
                              "a.lock",
                              "a/b.lock",
                              "a.lock/b",
                              "x.",
                              "x.lock.",
                              "x/",
                              "/x",
                              "a//b",
                              "a b",
                              "a~1",
                              "a^",
                              "a^{}",
                              "a:b",
                              "a?",
                              "a*",
                              "a[",
                              "a\\b",
                              "a@{b",
                              "@{-1}",
                              "-x",
                              "-",
                              "--upload-pack=evil",
                              "--end-of-options",
                              "HEAD",
                              "x\x01",
                              "x\x7f",
                              "tab\t",
                              "",
                              "new\nline"};

TEST(RefNameTest, BranchNamesAgreeWithGitCheckRefFormatBranch) {
  TestRepo repo;
  repo.Write("f", "x");
  repo.Commit("first");
  for (const char* name : kNames) {
    StatusOr<GitResult> git = RunGit(repo.dir(), {"check-ref-format", "--branch", name});
    ASSERT_TRUE(git.ok()) << git.status().message();
    Status ours = CheckBranchOrTagName(name, /*tag=*/false);
    EXPECT_EQ(ours.ok(), git->exit_code == 0) << "'" << name << "': git says " << git->exit_code
                                              << " " << git->err << ", we say " << ours.message();
  }
}

TEST(RefNameTest, TagNamesAgreeWithGitTag) {
  TestRepo repo;
  repo.Write("f", "x");
  repo.Commit("first");
  for (const char* name : kNames) {
    StatusOr<GitResult> git = RunGit(repo.dir(), {"tag", "--", name});
    ASSERT_TRUE(git.ok()) << git.status().message();
    if (git->exit_code == 0) {
      ASSERT_EQ(RunGit(repo.dir(), {"tag", "-d", "--", name})->exit_code, 0);
    }
    Status ours = CheckBranchOrTagName(name, /*tag=*/true);
    EXPECT_EQ(ours.ok(), git->exit_code == 0) << "'" << name << "': git says " << git->exit_code
                                              << " " << git->err << ", we say " << ours.message();
  }
}

TEST(RefNameTest, FullRefsAgreeWithGitCheckRefFormat) {
  TestRepo repo;
  for (const char* name : kNames) {
    for (std::string ref : {std::string(name), "refs/heads/" + std::string(name)}) {
      StatusOr<GitResult> git = RunGit(repo.dir(), {"check-ref-format", ref});
      ASSERT_TRUE(git.ok()) << git.status().message();
      Status ours = CheckRefFormat(ref);
      EXPECT_EQ(ours.ok(), git->exit_code == 0)
          << "'" << ref << "': git says " << git->exit_code << ", we say " << ours.message();
    }
  }
}

TEST(RefNameTest, ErrorsNameTheRule) {
  EXPECT_EQ(CheckBranchOrTagName("../../../x", false).message(),
            "invalid branch name '../../../x': contains '..'");
  EXPECT_EQ(CheckBranchOrTagName("--upload-pack=evil", false).message(),
            "invalid branch name '--upload-pack=evil': starts with '-'");
  EXPECT_EQ(CheckBranchOrTagName("v1.lock", true).message(),
            "invalid tag name 'v1.lock': has a component that ends with '.lock'");
  EXPECT_EQ(CheckBranchOrTagName("a/.b", false).message(),
            "invalid branch name 'a/.b': has a component that starts with '.'");
  EXPECT_EQ(CheckBranchOrTagName("HEAD", false).message(), "invalid branch name 'HEAD': is 'HEAD'");
  EXPECT_EQ(CheckRefFormat("@").message(), "invalid ref '@': is '@'");
  EXPECT_EQ(CheckRefFormat("refs/heads/a@{1}").message(),
            "invalid ref 'refs/heads/a@{1}': contains '@{'");
}

TEST(RefNameTest, SplitRef) {
  EXPECT_EQ(SplitRef("refs/tags/v1").name, "v1");
  EXPECT_TRUE(SplitRef("refs/tags/v1").tag);
  EXPECT_EQ(SplitRef("refs/heads/main").name, "main");
  EXPECT_FALSE(SplitRef("refs/heads/main").tag);
  EXPECT_EQ(SplitRef("main").name, "main");
  EXPECT_FALSE(SplitRef("main").tag);
}

}  // namespace
}  // namespace slipway
