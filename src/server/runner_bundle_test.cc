#include "server/runner_bundle.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <vector>

#include "exec/file_tree.h"
#include "util/git.h"
#include "util/test_dir.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

// A server's repository with two commits, each writing its message into
// a.txt, and where a runner's repository goes.
class RunnerBundleTest : public ::testing::Test {
 protected:
  TestRepo repo;
  std::string first = repo.Commit("one", "a.txt");
  std::string second = repo.Commit("two", "a.txt");
  TempDir tmp;
  std::string runner_repo = tmp.Sub("runner.git");
};

TEST_F(RunnerBundleTest, CommitTravelsThroughABundleIntoTheRunnersRepository) {
  // The older commit: no ref names it any more in a later state of the
  // server's repository, and it still travels.
  ASSERT_TRUE(MakeCommitBundle(repo.dir(), first, tmp.Sub("1.bundle")).ok());
  Status fetched = FetchCommitBundle(tmp.Sub("1.bundle"), first, runner_repo);
  ASSERT_TRUE(fetched.ok()) << fetched.message();
  EXPECT_EQ(*GitOutput(runner_repo, {"show", first + ":a.txt"}), "one");
  ASSERT_TRUE(MakeCommitBundle(repo.dir(), second, tmp.Sub("2.bundle")).ok());
  ASSERT_TRUE(FetchCommitBundle(tmp.Sub("2.bundle"), second, runner_repo).ok());
  EXPECT_EQ(*GitOutput(runner_repo, {"show", second + ":a.txt"}), "two");
  // A third commit with two refs kept: the first's ref goes, its objects stay.
  std::string third = repo.Commit("three", "a.txt");
  ASSERT_TRUE(MakeCommitBundle(repo.dir(), third, tmp.Sub("3.bundle")).ok());
  ASSERT_TRUE(FetchCommitBundle(tmp.Sub("3.bundle"), third, runner_repo, /*keep_refs=*/2).ok());
  EXPECT_EQ(*GitOutput(runner_repo, {"for-each-ref", "--format=%(objectname)"}),
            std::min(second, third) + "\n" + std::max(second, third));
  EXPECT_EQ(*GitOutput(runner_repo, {"show", first + ":a.txt"}), "one");
}

TEST_F(RunnerBundleTest, MissingOrMalformedCommitsAreRefused) {
  std::string absent(40, 'e');
  EXPECT_EQ(MakeCommitBundle(repo.dir(), absent, tmp.Sub("x.bundle")).message(),
            "commit " + absent + " is not in " + repo.dir());
  EXPECT_EQ(MakeCommitBundle(repo.dir(), "--output=/tmp/x", tmp.Sub("x.bundle")).message(),
            "not a commit id: '--output=/tmp/x'");
  EXPECT_EQ(FetchCommitBundle(tmp.Sub("x.bundle"), "HEAD", tmp.Sub("r.git")).message(),
            "not a commit id: 'HEAD'");
}

TEST_F(RunnerBundleTest, BundlesThatAreNotWhatTheRunnerAskedForAreRefused) {
  ASSERT_TRUE(MakeCommitBundle(repo.dir(), first, tmp.Sub("1.bundle")).ok());
  EXPECT_EQ(FetchCommitBundle(tmp.Sub("1.bundle"), second, runner_repo).message(),
            tmp.Sub("1.bundle") + ": the bundle does not hold commit " + second);
  // An incremental bundle: it needs the first commit.
  ASSERT_TRUE(
      GitOutput(repo.dir(), {"bundle", "create", "-q", tmp.Sub("inc.bundle"), "HEAD", "^" + first})
          .ok());
  EXPECT_EQ(FetchCommitBundle(tmp.Sub("inc.bundle"), second, runner_repo).message(),
            tmp.Sub("inc.bundle") + ": the bundle needs commits this repository does not have");
  ASSERT_TRUE(WriteFile(tmp.Sub("junk"), "hello\n\nworld").ok());
  EXPECT_EQ(FetchCommitBundle(tmp.Sub("junk"), second, runner_repo).message(),
            tmp.Sub("junk") + ": not a git bundle of version 2 or 3");
  ASSERT_TRUE(WriteFile(tmp.Sub("endless"), std::string(100000, 'x')).ok());
  EXPECT_EQ(FetchCommitBundle(tmp.Sub("endless"), second, runner_repo).message(),
            tmp.Sub("endless") + ": not a git bundle (no end of header)");
  // A true header and a broken pack: git's check refuses it, nothing stays.
  std::string good = *ReadFile(tmp.Sub("1.bundle"));
  size_t pack = good.find("\n\n") + 2;
  std::string broken = good.substr(0, pack + 12) + std::string(good.size() - pack - 12, 'x');
  ASSERT_TRUE(WriteFile(tmp.Sub("broken.bundle"), broken).ok());
  Status refused = FetchCommitBundle(tmp.Sub("broken.bundle"), first, runner_repo);
  EXPECT_TRUE(refused.message().starts_with("git index-pack")) << refused.message();
  EXPECT_TRUE(std::filesystem::is_empty(runner_repo + "/objects/pack"));
  EXPECT_FALSE(PathExists(runner_repo + "/refs/slipway/jobs/" + first));
  // The same repository takes a good one afterwards, and git finds it whole.
  ASSERT_TRUE(FetchCommitBundle(tmp.Sub("1.bundle"), first, runner_repo).ok());
  EXPECT_TRUE(GitOutput(runner_repo, {"fsck", "--strict", "--no-dangling"}).ok());
  EXPECT_EQ(*GitOutput(runner_repo, {"rev-parse", "refs/slipway/jobs/" + first}), first);
}

// The bundles in dir (not the links leases got, nor scratch files).
std::vector<std::string> Bundles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    out.push_back(entry.path().filename().string());
  }
  return out;
}

ino_t Inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(CommitBundlesTest, EveryLeaseOfACommitGetsTheOneBundleMadeForIt) {
  TestRepo repo;
  std::string commit = repo.Commit("one", "a.txt");
  TempDir tmp;
  std::vector<std::future<Status>> linked;
  {
    CommitBundles bundles(tmp.Sub("commits"));
    bundles.Prepare(repo.dir(), commit);
    for (int i = 0; i < 8; ++i) {
      linked.push_back(std::async(std::launch::async, [&, i] {
        return bundles.LinkTo(repo.dir(), commit, tmp.Sub("lease-" + std::to_string(i)));
      }));
    }
    for (auto& done : linked) ASSERT_TRUE(done.get().ok());
    EXPECT_EQ(Bundles(tmp.Sub("commits")), std::vector<std::string>{commit + ".bundle"});
  }
  ino_t made = Inode(tmp.Sub("commits/" + commit + ".bundle"));
  ASSERT_NE(made, 0u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(Inode(tmp.Sub("lease-" + std::to_string(i))), made);
  Status fetched = FetchCommitBundle(tmp.Sub("lease-3"), commit, tmp.Sub("runner.git"));
  ASSERT_TRUE(fetched.ok()) << fetched.message();
}

TEST(CommitBundlesTest, ABundleRemovedElsewhereIsMadeAgainAndOldOnesGo) {
  TestRepo repo;
  std::string first = repo.Commit("one", "a.txt");
  std::string second = repo.Commit("two", "a.txt");
  TempDir tmp;
  CommitBundles bundles(tmp.Sub("commits"), /*keep=*/1);
  ASSERT_TRUE(bundles.LinkTo(repo.dir(), first, tmp.Sub("lease-1")).ok());
  // Another replica sharing the directory removed it: made again.
  ASSERT_EQ(std::remove(tmp.Sub("commits/" + first + ".bundle").c_str()), 0);
  Status linked = bundles.LinkTo(repo.dir(), first, tmp.Sub("lease-2"));
  ASSERT_TRUE(linked.ok()) << linked.message();
  EXPECT_NE(Inode(tmp.Sub("lease-2")), Inode(tmp.Sub("lease-1")));
  // A second commit, with keep 1: the first's bundle goes, its leases' links stay.
  ASSERT_TRUE(bundles.LinkTo(repo.dir(), second, tmp.Sub("lease-3")).ok());
  EXPECT_EQ(Bundles(tmp.Sub("commits")), std::vector<std::string>{second + ".bundle"});
  ASSERT_TRUE(FetchCommitBundle(tmp.Sub("lease-2"), first, tmp.Sub("runner.git")).ok());
  ASSERT_TRUE(FetchCommitBundle(tmp.Sub("lease-3"), second, tmp.Sub("runner.git")).ok());
  EXPECT_EQ(*GitOutput(tmp.Sub("runner.git"), {"show", first + ":a.txt"}), "one");
}

TEST(CommitBundlesTest, AFailureIsReportedAndNotRemembered) {
  TestRepo repo;
  repo.Commit("one");
  TempDir tmp;
  // The server's repository, which gets the commit only later.
  TestRepo later;
  std::string commit = later.Commit("later");
  CommitBundles bundles(tmp.Sub("commits"));
  bundles.Prepare(repo.dir(), commit);
  EXPECT_EQ(bundles.LinkTo(repo.dir(), commit, tmp.Sub("lease")).message(),
            "commit " + commit + " is not in " + repo.dir());
  EXPECT_EQ(bundles.LinkTo(repo.dir(), "../x", tmp.Sub("lease")).message(),
            "not a commit id: '../x'");
  EXPECT_TRUE(Bundles(tmp.Sub("commits")).empty());
  Status linked = bundles.LinkTo(later.dir(), commit, tmp.Sub("lease"));
  EXPECT_TRUE(linked.ok()) << linked.message();
}

}  // namespace
}  // namespace slipway
