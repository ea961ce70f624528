#include "util/git.h"

#include <gtest/gtest.h>

#include "util/test_repo.h"

namespace slipway {
namespace {

TEST(RunGitTest, CapturesStdoutAndExitCode) {
  TestRepo repo;
  StatusOr<GitResult> r = RunGit(repo.dir(), {"rev-parse", "--is-inside-work-tree"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "true\n");
}

TEST(RunGitTest, NonZeroExitIsAResultWithStderr) {
  TestRepo repo(/*init=*/false);
  StatusOr<GitResult> r = RunGit(repo.dir(), {"rev-parse", "HEAD"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 128);
  EXPECT_NE(r->err.find("not a git repository"), std::string::npos) << r->err;
}

TEST(RunGitTest, ArgumentsAreNeverInterpretedByAShell) {
  TestRepo repo;
  repo.Commit("first");
  // A shell would run the `touch`; git only sees one odd revision name.
  StatusOr<GitResult> r = RunGit(repo.dir(), {"rev-parse", "--verify", "--quiet", "x;touch pwned"});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(repo.dir()) / "pwned"));
}

TEST(GitOutputTest, ErrorNamesTheCommandAndGitsMessage) {
  TestRepo repo(/*init=*/false);
  StatusOr<std::string> out = GitOutput(repo.dir(), {"rev-parse", "HEAD"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message().rfind("git rev-parse HEAD failed (exit 128): fatal: not a git "
                                         "repository",
                                         0),
            0u)
      << out.status().message();
}

TEST(GitOutputTest, LargeOutputIsReadCompletely) {
  TestRepo repo;
  std::string big(300000, 'x');
  repo.Write("big.txt", big);
  repo.Commit("big");
  StatusOr<std::string> out = GitOutput(repo.dir(), {"show", "HEAD:big.txt"});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->size(), big.size());
}

TEST(ChangedFilesSinceTest, CommittedStagedUnstagedAndUntracked) {
  TestRepo repo;
  repo.Write("keep.txt", "k");
  repo.Write("old name.txt", "o");
  repo.Write("staged.txt", "s");
  repo.Write("modified.txt", "m");
  std::string base = repo.Commit("base", "base.txt");
  repo.Commit("second", "docs/committed.md");
  repo.Git({"mv", "old name.txt", "new name.txt"});
  repo.Git({"commit", "-q", "-m", "rename"});
  repo.Write("staged.txt", "s2");
  repo.Git({"add", "staged.txt"});
  repo.Write("modified.txt", "m2");
  repo.Write("untracked/new.c", "n");
  repo.Write(".gitignore", "*.o\n");
  repo.Write("ignored.o", "i");

  StatusOr<std::vector<std::string>> files = ChangedFilesSince(repo.dir(), base);
  ASSERT_TRUE(files.ok()) << files.status().message();
  EXPECT_EQ(*files, (std::vector<std::string>{".gitignore", "docs/committed.md", "modified.txt",
                                              "new name.txt", "old name.txt", "staged.txt",
                                              "untracked/new.c"}));
}

TEST(ChangedFilesSinceTest, NothingChanged) {
  TestRepo repo;
  repo.Commit("only");
  StatusOr<std::vector<std::string>> files = ChangedFilesSince(repo.dir(), "HEAD");
  ASSERT_TRUE(files.ok()) << files.status().message();
  EXPECT_TRUE(files->empty());
}

TEST(ChangedFilesSinceTest, UnknownBaseIsAnError) {
  TestRepo repo;
  repo.Commit("only");
  StatusOr<std::vector<std::string>> files = ChangedFilesSince(repo.dir(), "origin/nope");
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().message(), "'origin/nope' is not a commit in " + repo.dir());
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

TEST(ListWorkTreeFilesTest, TrackedAndUntrackedButNotIgnored) {
  TestRepo repo;
  repo.Write(".gitignore", "build/\n");
  repo.Commit("one", "src/a.c");
  repo.Write("src/b.c", "new");
  repo.Write("build/out.o", "ignored");
  StatusOr<std::vector<std::string>> files = ListWorkTreeFiles(repo.dir());
  ASSERT_TRUE(files.ok()) << files.status().message();
  EXPECT_EQ(*files, (std::vector<std::string>{".gitignore", "src/a.c", "src/b.c"}));
}

TEST(ListWorkTreeFilesTest, OutsideARepositoryIsAnError) {
  TestRepo dir(/*init=*/false);
  EXPECT_FALSE(ListWorkTreeFiles(dir.dir()).ok());
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

// A commit name that starts with '-' reaches git after --end-of-options:
// git reports an unknown revision instead of obeying an option such as
// diff's --output=<file>, which would write a file of the attacker's choice.
TEST(GitArgumentsTest, CommitNamesAreNeverReadAsOptions) {
  TestRepo repo;
  repo.Write("a.txt", "a");
  std::string first = repo.Commit("first");
  std::string planted = repo.dir() + "/planted";
  StatusOr<std::vector<std::string>> changed =
      ChangedFilesSince(repo.dir(), first, "--output=" + planted);
  EXPECT_FALSE(changed.ok());
  EXPECT_FALSE(std::filesystem::exists(planted));
  StatusOr<std::vector<std::string>> listed = ListCommitFiles(repo.dir(), "--name-status");
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.status().message().find("Not a valid object name --name-status"),
            std::string::npos)
      << listed.status().message();
  StatusOr<std::string> read = ReadCommitFile(repo.dir(), "--batch", "a.txt");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().message(), "invalid object name '--batch'.");
}

}  // namespace
}  // namespace slipway
