#include "util/source_tree.h"

#include <gtest/gtest.h>

#include "util/test_repo.h"

namespace slipway {
namespace {

using Files = std::vector<std::string>;

// A repository whose working tree differs from its last commit in every way
// that matters: a changed file, a new untracked file, a deleted file.
class SourceTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("ci/a.yml", "committed a");
    repo_.Write("ci/gone.yml", "committed gone");
    repo_.Write("sub/dir/x.yml", "x");
    commit_ = repo_.Commit("one", "top.txt");
    repo_.Write("ci/a.yml", "edited a");
    repo_.Write("ci/new.yml", "untracked");
    std::filesystem::remove(repo_.dir() + "/ci/gone.yml");
  }
  TestRepo repo_;
  std::string commit_;
};

TEST_F(SourceTreeTest, WorkTreeReadsTheDisk) {
  SourceTree tree = SourceTree::WorkTree(repo_.dir());
  EXPECT_FALSE(tree.at_commit());
  EXPECT_EQ(tree.Name("ci/a.yml"), "ci/a.yml");
  EXPECT_EQ(*tree.Read("ci/a.yml"), "edited a");
  EXPECT_EQ(tree.Read("ci/gone.yml").status().message(), "no such file");
  EXPECT_EQ(tree.Read("ci").status().message(), "not a regular file");
  EXPECT_EQ(*tree.Find("ci/*.yml", GlobSyntax::kIncludeWildcard), (Files{"ci/a.yml", "ci/new.yml"}));
}

TEST_F(SourceTreeTest, CommitReadsTheCommittedFiles) {
  SourceTree tree = SourceTree::AtCommit(repo_.dir(), commit_, "v1");
  EXPECT_TRUE(tree.at_commit());
  EXPECT_EQ(tree.Name("ci/a.yml"), "v1:ci/a.yml");
  EXPECT_EQ(*tree.Read("ci/a.yml"), "committed a");
  EXPECT_EQ(*tree.Read("./ci/../ci/gone.yml"), "committed gone");
  EXPECT_EQ(tree.Read("ci/new.yml").status().message(), "no such file");
  EXPECT_EQ(tree.Read("ci").status().message(), "not a regular file");
  EXPECT_EQ(tree.Read("sub/dir").status().message(), "not a regular file");
  EXPECT_EQ(tree.Read("/etc/hostname").status().message(),
            "an absolute path cannot be read from a commit");
  EXPECT_EQ(*tree.Find("ci/*.yml", GlobSyntax::kIncludeWildcard),
            (Files{"ci/a.yml", "ci/gone.yml"}));
  EXPECT_EQ(*tree.Find("**/*.yml", GlobSyntax::kFnmatch),
            (Files{"ci/a.yml", "ci/gone.yml", "sub/dir/x.yml"}));
}

TEST_F(SourceTreeTest, CommitOfASubdirectorySeesOnlyItsPart) {
  SourceTree tree = SourceTree::AtCommit(repo_.dir() + "/sub", commit_, "v1");
  EXPECT_EQ(*tree.Read("dir/x.yml"), "x");
  EXPECT_EQ(tree.Read("top.txt").status().message(), "no such file");
  EXPECT_EQ(*tree.Find("**/*", GlobSyntax::kIncludeWildcard), (Files{"dir/x.yml"}));
}

TEST_F(SourceTreeTest, UnknownCommitIsAnError) {
  SourceTree tree = SourceTree::AtCommit(repo_.dir(), std::string(40, 'e'), "gone");
  StatusOr<std::string> read = tree.Read("ci/a.yml");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("git ls-tree failed in " + repo_.dir()),
            std::string::npos)
      << read.status().message();
  EXPECT_FALSE(tree.Find("*", GlobSyntax::kFnmatch).ok());
}

}  // namespace
}  // namespace slipway
