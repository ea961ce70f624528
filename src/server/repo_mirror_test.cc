// RepoMirror with real git: fetches into one mirror from several threads at
// once (as servers sharing a data directory do, docs/replicas.md) are
// serialised by the mirror's lock file.
#include "server/repo_mirror.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "util/test_dir.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

TEST(RepoMirrorTest, ConcurrentFetchesIntoOneMirrorAllSucceed) {
  TestRepo repo;
  repo.Commit("first");
  TempDir data;
  const std::string git_dir = data.path() + "/repos/1.git";
  constexpr int kRounds = 15;
  constexpr int kFetchers = 4;
  for (int round = 0; round < kRounds; ++round) {
    // Every round moves main and adds a branch and a tag, so that each
    // fetch updates refs (what git's ref locks guard).
    std::string sha = repo.Commit("commit " + std::to_string(round));
    repo.Git({"branch", "b" + std::to_string(round)});
    repo.Git({"tag", "t" + std::to_string(round)});
    std::vector<Status> results(kFetchers, Status::Ok());
    std::vector<std::thread> fetchers;
    for (int i = 0; i < kFetchers; ++i) {
      fetchers.emplace_back([&, i] {
        RepoMirror mirror(git_dir, repo.dir());  // One per "server".
        results[i] = mirror.Fetch();
      });
    }
    for (std::thread& t : fetchers) t.join();
    for (int i = 0; i < kFetchers; ++i) {
      ASSERT_TRUE(results[i].ok()) << "round " << round << ": " << results[i].message();
    }
    RepoMirror mirror(git_dir, repo.dir());
    StatusOr<std::string> main = mirror.Resolve("main", false);
    ASSERT_TRUE(main.ok()) << main.status().message();
    EXPECT_EQ(*main, sha);
    EXPECT_TRUE(mirror.Resolve("t" + std::to_string(round), true).ok());
  }
}

TEST(RepoMirrorTest, ALinkWhereTheLockFileGoesFailsTheFetch) {
  TestRepo repo;
  repo.Commit("first");
  TempDir data;
  std::filesystem::create_directories(data.path() + "/repos");
  const std::string target = data.path() + "/elsewhere";
  ASSERT_EQ(symlink(target.c_str(), (data.path() + "/repos/1.git.lock").c_str()), 0);
  RepoMirror mirror(data.path() + "/repos/1.git", repo.dir());
  Status fetched = mirror.Fetch();
  ASSERT_FALSE(fetched.ok());
  EXPECT_NE(fetched.message().find("cannot open lock " + data.path() + "/repos/1.git.lock"),
            std::string::npos)
      << fetched.message();
  EXPECT_FALSE(std::filesystem::exists(target));  // Nothing made through the link.
}

}  // namespace
}  // namespace slipway
