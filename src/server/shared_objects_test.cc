#include "server/shared_objects.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "util/subprocess.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

class SharedObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A mirror as the server keeps one (a bare repository, written with the
    // server's umask), with a pack and loose objects.
    ASSERT_EQ(Sh(tmp_.path(), R"(
      umask 077
      git init -q -b main work && cd work
      echo a > a.txt && git add -A && git commit -qm one
      git init -q --bare ../mirror.git && git push -q ../mirror.git main
      git -C ../mirror.git repack -q -a -d
      echo b > b.txt && git add -A && git commit -qm two && git push -q ../mirror.git main
    )"),
              0);
  }
  std::string Objects() const { return tmp_.Sub("mirror.git/objects"); }
  std::string Shared() const { return tmp_.Sub("project/git-objects"); }

  // The object files under dir, "path uid:gid mode" per line, sorted.
  static std::string Files(const std::string& dir) {
    std::vector<std::string> lines;
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
      struct stat st;
      EXPECT_EQ(lstat(e.path().c_str(), &st), 0);
      char owner[64];
      std::snprintf(owner, sizeof owner, " %u:%u %o", st.st_uid, st.st_gid, st.st_mode & 07777);
      lines.push_back(fs::relative(e.path(), dir).string() + owner);
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const std::string& line : lines) out += line + "\n";
    return out;
  }
  // The log of main, read by a repository that borrows every object from
  // the shared directory (as a workspace's .git does).
  std::string LogThroughShared() {
    std::string repo = tmp_.Sub("reader.git");
    EXPECT_EQ(
        Sh(tmp_.path(), "rm -rf reader.git && git init -q --bare reader.git && echo " + Shared() +
                            " > reader.git/objects/info/alternates && "
                            "git -C reader.git update-ref refs/heads/main $(git -C "
                            "mirror.git rev-parse main)"),
        0);
    StatusOr<std::string> log = RunTool(&runner_, {"git", "log", "--format=%s", "main"}, repo);
    return log.ok() ? *log : "<failed: " + log.status().message() + ">";
  }

  static JobIdentity Self() { return JobIdentity{geteuid(), getegid(), "me", 022}; }

  TempDir tmp_;
  PosixProcessRunner runner_;
};

TEST_F(SharedObjectsTest, CopiesTheObjectFilesAndNothingElse) {
  ASSERT_EQ(Sh(Objects(), "touch info/commit-graph pack/tmp_pack_x && echo x > info/alternates"),
            0);
  ASSERT_TRUE(ShareGitObjects(Objects(), Shared(), Self()).ok());
  EXPECT_EQ(LogThroughShared(), "two\none\n");
  std::string files = Files(Shared());
  EXPECT_EQ(files.find("info"), std::string::npos) << files;
  EXPECT_EQ(files.find("tmp_pack"), std::string::npos) << files;
  EXPECT_NE(files.find("pack/pack-"), std::string::npos) << files;
  // The jobs run as the server's uid here: no group bits.
  std::string self = " " + std::to_string(geteuid()) + ":" + std::to_string(getegid());
  for (size_t at = 0; at < files.size();) {
    size_t end = files.find('\n', at);
    std::string line = files.substr(at, end - at);
    bool dir = line.find('/') == std::string::npos;
    EXPECT_NE(line.find(self + (dir ? " 700" : " 400")), std::string::npos) << line;
    at = end + 1;
  }
  struct stat shared_dir;
  ASSERT_EQ(stat(Shared().c_str(), &shared_dir), 0);
  EXPECT_EQ(shared_dir.st_mode & 07777, 0700u);
}

TEST_F(SharedObjectsTest, FollowsTheMirrorThroughNewObjectsAndRepacks) {
  ASSERT_TRUE(ShareGitObjects(Objects(), Shared(), Self()).ok());
  ASSERT_EQ(Sh(tmp_.path(), R"(
    umask 077
    cd work && echo c > c.txt && git add -A && git commit -qm three && git push -q ../mirror.git main
  )"),
            0);
  ASSERT_TRUE(ShareGitObjects(Objects(), Shared(), Self()).ok());
  EXPECT_EQ(LogThroughShared(), "three\ntwo\none\n");
  // git gc: one new pack, the loose objects and the old pack gone.
  ASSERT_EQ(Sh(tmp_.path(), "umask 077 && git -C mirror.git gc -q --prune=now"), 0);
  ASSERT_TRUE(ShareGitObjects(Objects(), Shared(), Self()).ok());
  EXPECT_EQ(LogThroughShared(), "three\ntwo\none\n");
  // Exactly pack/ with the new pack and its index.
  std::string after = Files(Shared());
  EXPECT_EQ(std::count(after.begin(), after.end(), '\n'), 3) << after;
  for (const fs::directory_entry& e : fs::directory_iterator(Objects() + "/pack")) {
    EXPECT_TRUE(fs::exists(Shared() + "/pack/" + e.path().filename().string()) ||
                e.path().extension() == ".bitmap")
        << e.path();
  }
}

TEST_F(SharedObjectsTest, AFileAlreadyAsTheJobsNeedItIsLinkedNotCopied) {
  ASSERT_TRUE(ShareGitObjects(Objects(), Shared(), Self()).ok());
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(Objects() + "/pack")) {
    if (e.path().extension() != ".pack") continue;
    struct stat mirror, shared;
    ASSERT_EQ(stat(e.path().c_str(), &mirror), 0);
    ASSERT_EQ(stat((Shared() + "/pack/" + e.path().filename().string()).c_str(), &shared), 0);
    EXPECT_EQ(mirror.st_ino, shared.st_ino);  // 0400, the server's: the same file.
  }
}

TEST_F(SharedObjectsTest, ProjectsGroupMayReadWhatTheServerOwns) {
  if (geteuid() != 0) GTEST_SKIP() << "giving files to the project's group needs root";
  JobIdentity project{131079, 131079, "slipway-job", 022};
  ASSERT_TRUE(ShareGitObjects(Objects(), Shared(), project).ok());
  std::string files = Files(Shared());
  for (size_t at = 0; at < files.size();) {
    size_t end = files.find('\n', at);
    std::string line = files.substr(at, end - at);
    bool dir = line.find('/') == std::string::npos;
    EXPECT_NE(line.find(dir ? " 0:131079 750" : " 0:131079 440"), std::string::npos) << line;
    at = end + 1;
  }
  // Copies, not links: the mirror's own files stay the server's alone.
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(Objects())) {
    struct stat st;
    ASSERT_EQ(lstat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_gid, 0u) << e.path();
    EXPECT_EQ(st.st_mode & 077, 0u) << e.path();
  }
  // A project whose gid changed (the job user's range did) gets them again.
  project.gid = 131080;
  ASSERT_TRUE(ShareGitObjects(Objects(), Shared(), project).ok());
  EXPECT_EQ(Files(Shared()).find(":131079 "), std::string::npos) << Files(Shared());
}

TEST_F(SharedObjectsTest, ASymlinkInPlaceOfTheSharedDirectoryIsRefused) {
  fs::create_directories(tmp_.Sub("project"));
  fs::create_directories(tmp_.Sub("elsewhere"));
  fs::create_directory_symlink(tmp_.Sub("elsewhere"), Shared());
  Status s = ShareGitObjects(Objects(), Shared(), Self());
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(fs::is_empty(tmp_.Sub("elsewhere")));
}

}  // namespace
}  // namespace slipway
