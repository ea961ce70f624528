#include "server/runner_bundle.h"

#include <gtest/gtest.h>

#include "util/git.h"
#include "util/test_dir.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

TEST(RunnerBundleTest, CommitTravelsThroughABundleIntoTheRunnersRepository) {
  TestRepo repo;
  // Each commit writes its message into a.txt.
  std::string first = repo.Commit("one", "a.txt");
  std::string second = repo.Commit("two", "a.txt");
  TempDir tmp;
  std::string runner_repo = tmp.Sub("runner.git");
  // The older commit: no ref names it any more in a later state of the
  // server's repository, and it still travels.
  ASSERT_TRUE(MakeCommitBundle(repo.dir(), first, tmp.Sub("1.bundle")).ok());
  Status fetched = FetchCommitBundle(tmp.Sub("1.bundle"), first, runner_repo);
  ASSERT_TRUE(fetched.ok()) << fetched.message();
  EXPECT_EQ(*GitOutput(runner_repo, {"show", first + ":a.txt"}), "one");
  ASSERT_TRUE(MakeCommitBundle(repo.dir(), second, tmp.Sub("2.bundle")).ok());
  ASSERT_TRUE(FetchCommitBundle(tmp.Sub("2.bundle"), second, runner_repo).ok());
  EXPECT_EQ(*GitOutput(runner_repo, {"show", second + ":a.txt"}), "two");
}

TEST(RunnerBundleTest, MissingOrMalformedCommitsAreRefused) {
  TestRepo repo;
  repo.Commit("only");
  TempDir tmp;
  std::string absent(40, 'e');
  EXPECT_EQ(MakeCommitBundle(repo.dir(), absent, tmp.Sub("x.bundle")).message(),
            "commit " + absent + " is not in " + repo.dir());
  EXPECT_EQ(MakeCommitBundle(repo.dir(), "--output=/tmp/x", tmp.Sub("x.bundle")).message(),
            "not a commit id: '--output=/tmp/x'");
  EXPECT_EQ(FetchCommitBundle(tmp.Sub("x.bundle"), "HEAD", tmp.Sub("r.git")).message(),
            "not a commit id: 'HEAD'");
}

}  // namespace
}  // namespace slipway
