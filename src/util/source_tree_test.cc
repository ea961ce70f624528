#include "util/source_tree.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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
  EXPECT_EQ(tree.Read("/etc/hostname").status().message(), "outside the project directory");
  EXPECT_EQ(*tree.Find("ci/*.yml", GlobSyntax::kIncludeWildcard),
            (Files{"ci/a.yml", "ci/new.yml"}));
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
  EXPECT_EQ(tree.Read("/etc/hostname").status().message(), "outside the project directory");
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
  EXPECT_NE(read.status().message().find("git ls-tree failed in " + repo_.dir()), std::string::npos)
      << read.status().message();
  EXPECT_FALSE(tree.Find("*", GlobSyntax::kFnmatch).ok());
}

// A committed repository with symbolic links: to a file outside it, to a
// directory outside it, and to a file inside it. The disk and the commit
// must give the same answers, and none of them may read the outside.
class SourceTreeLinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    outside_ = outside_dir_.dir();
    std::ofstream(outside_ + "/secret.yml") << "secret: value\n";
    repo_.Write("ci/real.yml", "real");
    std::filesystem::create_symlink(outside_ + "/secret.yml", repo_.dir() + "/ci/evil.yml");
    std::filesystem::create_symlink(outside_, repo_.dir() + "/linked");
    std::filesystem::create_symlink("ci/real.yml", repo_.dir() + "/inside.yml");
    commit_ = repo_.Commit("links", "top.txt");
  }

  void ExpectNoOutsideContent(const SourceTree& tree) {
    SCOPED_TRACE(tree.at_commit() ? "at the commit" : "on disk");
    ReadError error;
    StatusOr<std::string> evil = tree.Read("ci/evil.yml", &error);
    ASSERT_FALSE(evil.ok());
    EXPECT_EQ(error.kind, ReadError::Kind::kSymlink);
    EXPECT_EQ(error.link, "ci/evil.yml");
    EXPECT_EQ(error.link_target, outside_ + "/secret.yml");
    EXPECT_EQ(evil.status().message(),
              "`ci/evil.yml` is a symbolic link to `" + outside_ + "/secret.yml`");

    StatusOr<std::string> through = tree.Read("linked/secret.yml", &error);
    ASSERT_FALSE(through.ok());
    EXPECT_EQ(error.kind, ReadError::Kind::kSymlinkInPath);
    EXPECT_EQ(error.link, "linked");
    EXPECT_EQ(error.link_target, outside_);

    // A link that stays inside is not followed either, as in GitLab.
    EXPECT_FALSE(tree.Read("inside.yml", &error).ok());
    EXPECT_EQ(error.kind, ReadError::Kind::kSymlink);
    EXPECT_EQ(error.link_target, "ci/real.yml");
    EXPECT_EQ(*tree.Read("ci/real.yml"), "real");

    EXPECT_FALSE(
        tree.Read("../" + std::filesystem::path(outside_).filename().string() + "/secret.yml",
                  &error)
            .ok());
    EXPECT_EQ(error.kind, ReadError::Kind::kOutside);

    // Links are files in listings and never directories to look into.
    EXPECT_EQ(*tree.Find("linked/*", GlobSyntax::kFnmatch), Files{});
    EXPECT_EQ(*tree.Find("linked/**", GlobSyntax::kIncludeWildcard), Files{});
    EXPECT_EQ(*tree.Find("**.yml", GlobSyntax::kIncludeWildcard),
              (Files{"ci/evil.yml", "ci/real.yml", "inside.yml"}));
    EXPECT_EQ(*tree.Find("*", GlobSyntax::kFnmatch), (Files{"inside.yml", "linked", "top.txt"}));
    EXPECT_EQ(*tree.Find("../*/secret.yml", GlobSyntax::kFnmatch), Files{});
  }

  TestRepo outside_dir_{false};
  std::string outside_;
  TestRepo repo_;
  std::string commit_;
};

TEST_F(SourceTreeLinksTest, DiskNeverFollowsALink) {
  ExpectNoOutsideContent(SourceTree::WorkTree(repo_.dir()));
}

TEST_F(SourceTreeLinksTest, CommitReadsALinkAsALink) {
  ExpectNoOutsideContent(SourceTree::AtCommit(repo_.dir(), commit_, "v1"));
}

TEST_F(SourceTreeLinksTest, LocateKeepsThePipelineFileInside) {
  SourceTree tree = SourceTree::WorkTree(repo_.dir());
  EXPECT_EQ(*tree.Locate(".gitlab-ci.yml"), ".gitlab-ci.yml");
  EXPECT_EQ(*tree.Locate("./ci/../ci/real.yml"), "ci/real.yml");
  EXPECT_EQ(*tree.Locate(repo_.dir() + "/ci/real.yml"), "ci/real.yml");
  std::string name = std::filesystem::path(repo_.dir()).filename().string();
  EXPECT_EQ(*tree.Locate("../" + name + "/ci/real.yml"), "ci/real.yml");
  // A link inside is located as itself (and Read refuses it).
  EXPECT_EQ(*tree.Locate("inside.yml"), "inside.yml");
  std::string root = std::filesystem::canonical(repo_.dir()).string();
  std::string secret = std::filesystem::canonical(outside_ + "/secret.yml").string();
  for (const std::string& file :
       {"../" + std::filesystem::path(outside_).filename().string() + "/secret.yml",
        outside_ + "/secret.yml", std::string("ci/evil.yml"), std::string("linked/secret.yml")}) {
    StatusOr<std::string> located = tree.Locate(file);
    ASSERT_FALSE(located.ok()) << file;
    EXPECT_EQ(located.status().message(),
              "the pipeline file must be inside the project directory " + root +
                  ", and this one leads to " + secret);
  }
  // At a commit a relative path is the commit's, and must not climb out.
  SourceTree at = SourceTree::AtCommit(repo_.dir(), commit_, "v1");
  EXPECT_EQ(*at.Locate("ci/evil.yml"), "ci/evil.yml");
  EXPECT_FALSE(at.Locate("../x.yml").ok());
  EXPECT_FALSE(at.Locate(outside_ + "/secret.yml").ok());
}

}  // namespace
}  // namespace slipway
