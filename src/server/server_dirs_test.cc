#include "server/server_dirs.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace slipway {
namespace {

class ServerDirsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/slipway-dirs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static struct stat Stat(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
    return st;
  }
  static mode_t Mode(const std::string& path) { return Stat(path).st_mode & 07777; }
  void Touch(const std::string& path, mode_t mode) {
    std::ofstream(path) << "x";
    chmod(path.c_str(), mode);
  }
  // The server's own user: what a server that is not root runs jobs as.
  static JobIdentity Self() { return JobIdentity{geteuid(), getegid(), "me", 022}; }
  // Another uid and gid (project 7 of a job user's range); needs root.
  static JobIdentity Project7() { return JobIdentity{131079, 131079, "slipway-job", 022}; }

  std::string dir_;
};

TEST_F(ServerDirsTest, DataDirIsCreatedPrivateAndAWiderOneIsNarrowed) {
  std::vector<std::string> notes;
  std::string data = dir_ + "/a/data";
  ASSERT_TRUE(SecureDataDir(data, {data + "/slipway.db"}, &notes).ok());
  EXPECT_EQ(Mode(data), 0700u);
  EXPECT_TRUE(notes.empty());

  chmod(data.c_str(), 0755);
  Touch(data + "/slipway.db", 0644);
  Touch(data + "/slipway.db-wal", 0664);
  Touch(data + "/other", 0644);  // Protected by the directory; left alone.
  ASSERT_TRUE(
      SecureDataDir(
          data, {data + "/slipway.db", data + "/slipway.db-wal", data + "/slipway.db-shm"}, &notes)
          .ok());
  EXPECT_EQ(Mode(data), 0700u);
  EXPECT_EQ(Mode(data + "/slipway.db"), 0600u);
  EXPECT_EQ(Mode(data + "/slipway.db-wal"), 0600u);
  EXPECT_EQ(Mode(data + "/other"), 0644u);
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_EQ(notes[0], "the data directory " + data +
                          " was 0755, readable by others than the server's user: now 0700");
  EXPECT_EQ(notes[1], data + "/slipway.db was 0644: now 0600");
  EXPECT_EQ(notes[2], data + "/slipway.db-wal was 0664: now 0600");

  notes.clear();
  ASSERT_TRUE(SecureDataDir(data, {data + "/slipway.db"}, &notes).ok());
  EXPECT_TRUE(notes.empty());  // Nothing to say the second time.
}

TEST_F(ServerDirsTest, DataDirOfAnotherUserIsReported) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the directory to another user";
  std::string data = dir_ + "/data";
  std::filesystem::create_directory(data);
  ASSERT_EQ(chmod(data.c_str(), 0700), 0);
  ASSERT_EQ(chown(data.c_str(), 65534, 65534), 0);
  std::vector<std::string> notes;
  ASSERT_TRUE(SecureDataDir(data, {}, &notes).ok());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "the data directory " + data +
                          " belongs to uid 65534, not to the server's user (uid 0)");
}

TEST_F(ServerDirsTest, BuildsDirIsASiblingWithMode0711) {
  EXPECT_EQ(DefaultBuildsDir("/srv/slipway-data"), "/srv/slipway-data-builds");
  EXPECT_EQ(DefaultBuildsDir("data//"), "data-builds");

  std::string builds = dir_ + "/x/data-builds";
  std::vector<std::string> notes;
  ASSERT_TRUE(PrepareBuildsDir(builds, &notes).ok());
  EXPECT_EQ(Mode(builds), 0711u);
  EXPECT_EQ(Stat(builds).st_uid, geteuid());
  EXPECT_TRUE(notes.empty());
  chmod(builds.c_str(), 0777);
  ASSERT_TRUE(PrepareBuildsDir(builds, &notes).ok());
  EXPECT_EQ(Mode(builds), 0711u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "the builds directory " + builds + " was 0777: now 0711");

  std::string link = dir_ + "/link-builds";
  std::filesystem::create_directory_symlink(dir_ + "/x", link);
  Status refused = PrepareBuildsDir(link, &notes);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(), "'" + link + "' must be a directory, not a symlink or a file");
}

TEST_F(ServerDirsTest, JobsMustBeAbleToPassThroughToTheBuildsDir) {
  std::string builds = dir_ + "/a/b/data-builds";
  std::filesystem::create_directories(builds);
  chmod(dir_.c_str(), 0711);
  chmod((dir_ + "/a").c_str(), 0755);
  chmod((dir_ + "/a/b").c_str(), 0750);  // Others cannot pass.
  Status refused = CheckJobsCanReach(builds);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(),
            "jobs cannot reach the builds directory " + builds + ": '" + dir_ +
                "/a/b' is 0750, and jobs run as other users than the server's, which need "
                "search permission (o+x) on every directory above it; `chmod o+x " +
                dir_ + "/a/b` or choose another --builds-dir");
  chmod((dir_ + "/a/b").c_str(), 0711);
  EXPECT_TRUE(CheckJobsCanReach(builds).ok());

  // Through a symlink: what counts is the directories it leads to.
  std::filesystem::create_directory_symlink(dir_ + "/a/b", dir_ + "/link");
  chmod((dir_ + "/a").c_str(), 0700);
  refused = CheckJobsCanReach(dir_ + "/link/data-builds");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("'" + dir_ + "/a' is 0700"), std::string::npos)
      << refused.message();
}

TEST_F(ServerDirsTest, ProjectDirsOfTheServersOwnUserAreItsAlone) {
  StatusOr<ProjectDirs> dirs = PrepareProjectDirs(dir_, 3, Self());
  ASSERT_TRUE(dirs.ok()) << dirs.status().message();
  EXPECT_EQ(dirs->root, dir_ + "/3");
  EXPECT_EQ(Mode(dirs->root), 0700u);  // No group bits: the server's group may be shared.
  // The HOME every job of the project shared before jobs had their own
  // goes, with what the jobs left in it.
  std::filesystem::create_directories(dir_ + "/3/home/.ssh");
  ASSERT_TRUE(PrepareProjectDirs(dir_, 3, Self()).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/3/home"));
}

TEST_F(ServerDirsTest, ProjectDirsLetOnlyTheProjectsUidIn) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give directories to the project's uid";
  StatusOr<ProjectDirs> dirs = PrepareProjectDirs(dir_, 7, Project7());
  ASSERT_TRUE(dirs.ok()) << dirs.status().message();
  struct stat root = Stat(dirs->root);
  EXPECT_EQ(root.st_mode & 07777, 0750u);
  EXPECT_EQ(root.st_uid, 0u);
  EXPECT_EQ(root.st_gid, 131079u);

  // Repaired on the next pipeline: owners and modes come back.
  ASSERT_EQ(chmod(dirs->root.c_str(), 0777), 0);
  ASSERT_TRUE(PrepareProjectDirs(dir_, 7, Project7()).ok());
  EXPECT_EQ(Mode(dirs->root), 0750u);
}

TEST_F(ServerDirsTest, SymlinksInPlaceOfProjectDirsAreRefused) {
  std::filesystem::create_directory(dir_ + "/elsewhere");
  chmod((dir_ + "/elsewhere").c_str(), 0755);
  std::filesystem::create_directory_symlink(dir_ + "/elsewhere", dir_ + "/4");
  StatusOr<ProjectDirs> dirs = PrepareProjectDirs(dir_, 4, Self());
  ASSERT_FALSE(dirs.ok());
  EXPECT_EQ(dirs.status().message(),
            "'" + dir_ + "/4' must be a directory, not a symlink or a file");

  // A job that could write in the project's directory must not be able to
  // have the old home/'s removal delete what a symlink there points at.
  std::filesystem::create_directory(dir_ + "/5");
  std::ofstream(dir_ + "/elsewhere/keep") << "kept\n";
  std::filesystem::create_directory_symlink(dir_ + "/elsewhere", dir_ + "/5/home");
  dirs = PrepareProjectDirs(dir_, 5, Self());
  ASSERT_TRUE(dirs.ok()) << dirs.status().message();
  EXPECT_FALSE(std::filesystem::is_symlink(dir_ + "/5/home"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/elsewhere/keep"));  // Not followed.
  EXPECT_EQ(Mode(dir_ + "/elsewhere"), 0755u);
}

TEST_F(ServerDirsTest, VariablesDirIsFreshAndItsFilesReadableByTheProjectOnly) {
  bool root = geteuid() == 0;
  JobIdentity identity = root ? Project7() : Self();
  StatusOr<ProjectDirs> dirs = PrepareProjectDirs(dir_, 7, identity);
  ASSERT_TRUE(dirs.ok()) << dirs.status().message();
  StatusOr<std::string> vars = PrepareVariablesDir(dirs->root, 12, identity);
  ASSERT_TRUE(vars.ok()) << vars.status().message();
  EXPECT_EQ(*vars, dirs->root + "/variables/12");
  Touch(*vars + "/OLD", 0600);
  vars = PrepareVariablesDir(dirs->root, 12, identity);
  ASSERT_TRUE(vars.ok());
  EXPECT_FALSE(std::filesystem::exists(*vars + "/OLD"));

  Touch(*vars + "/DEPLOY_KEY", 0600);
  Touch(dir_ + "/outside", 0600);
  std::filesystem::create_symlink(dir_ + "/outside", *vars + "/LINK");
  ASSERT_TRUE(ShareFilesWithProject(*vars, identity).ok());
  struct stat key = Stat(*vars + "/DEPLOY_KEY");
  EXPECT_EQ(key.st_mode & 07777, root ? 0640u : 0600u);
  EXPECT_EQ(key.st_gid, identity.gid);
  EXPECT_EQ(Mode(*vars), root ? 0750u : 0700u);
  EXPECT_EQ(Mode(dir_ + "/outside"), 0600u);  // A link is not followed.
}

}  // namespace
}  // namespace slipway
