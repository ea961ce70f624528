#include "exec/run_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace slipway {
namespace {

namespace fs = std::filesystem;

class RunDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("run_dir_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(RunDirTest, CreatesIncreasingIdsAndIgnoresItself) {
  StatusOr<RunDir> first = CreateRunDir(dir_.string());
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->id, 1);
  EXPECT_EQ(first->path, (dir_ / ".slipway/runs/1").string());
  EXPECT_TRUE(fs::is_directory(first->path));
  fs::create_directories(dir_ / ".slipway/runs/7");
  fs::create_directories(dir_ / ".slipway/runs/notanid");
  StatusOr<RunDir> next = CreateRunDir(dir_.string());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id, 8);
  std::ifstream ignore(dir_ / ".slipway/.gitignore");
  std::stringstream text;
  text << ignore.rdbuf();
  EXPECT_THAT(text.str(), ::testing::EndsWith("\n*\n"));
}

// A .slipway/ left without its .gitignore (by an interrupted run, or an
// older slipway) gets one, and an existing one is kept as the user edited it.
TEST_F(RunDirTest, StateDirIsAlwaysIgnored) {
  fs::create_directories(dir_ / ".slipway/source");
  StatusOr<std::string> state = MakeStateDir(dir_.string());
  ASSERT_TRUE(state.ok()) << state.status().message();
  EXPECT_EQ(*state, (dir_ / ".slipway").string());
  std::ifstream ignore(dir_ / ".slipway/.gitignore");
  std::stringstream text;
  text << ignore.rdbuf();
  EXPECT_THAT(text.str(), ::testing::EndsWith("\n*\n"));
  std::ofstream(dir_ / ".slipway/.gitignore") << "*\n# mine\n";
  ASSERT_TRUE(MakeStateDir(dir_.string()).ok());
  std::ifstream kept(dir_ / ".slipway/.gitignore");
  std::stringstream again;
  again << kept.rdbuf();
  EXPECT_EQ(again.str(), "*\n# mine\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / ".slipway"), fs::directory_iterator()), 2)
      << "a temporary file was left behind";
}

TEST_F(RunDirTest, ReportsUncreatableDirectory) {
  std::ofstream(dir_ / "file") << "x";
  StatusOr<RunDir> run = CreateRunDir((dir_ / "file").string());
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.status().message(), ::testing::StartsWith("cannot create '"));
}

TEST(JobDirNameTest, ReplacesUnsafeCharacters) {
  EXPECT_EQ(JobDirName("build: [linux, amd64]"), "build___linux__amd64_");
  EXPECT_EQ(JobDirName("test 1/3"), "test_1_3");
  EXPECT_EQ(JobDirName("../etc"), ".._etc");
  EXPECT_EQ(JobDirName(".."), "_..");
  EXPECT_EQ(JobDirName(""), "_");
  EXPECT_EQ(JobDirName(std::string(300, 'a')).size(), 100u);
}

TEST(JobDirNameTest, MakesCollisionsUnique) {
  EXPECT_THAT(UniqueJobDirNames({"test 1/2", "test_1_2", "test:1:2", "other"}),
              ::testing::ElementsAre("test_1_2", "test_1_2-2", "test_1_2-3", "other"));
}

}  // namespace
}  // namespace slipway
