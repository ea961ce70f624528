#include "util/beneath.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "util/test_repo.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using Result = BeneathOpen::Result;

std::string ReadFd(int fd) {
  std::string text;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  return text;
}

// A project directory beside a directory outside it, with links from one
// to the other: real files, real links.
class WalkBeneathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.dir() + "/project";
    outside_ = tmp_.dir() + "/outside";
    fs::create_directories(dir_ + "/ci/deep");
    fs::create_directories(outside_);
    std::ofstream(dir_ + "/ci/a.yml") << "a";
    std::ofstream(dir_ + "/ci/deep/b.yml") << "b";
    std::ofstream(outside_ + "/secret.yml") << "secret";
    fs::create_symlink(outside_ + "/secret.yml", dir_ + "/ci/evil.yml");
    fs::create_symlink(outside_, dir_ + "/linked");
    fs::create_symlink("ci", dir_ + "/inside");
    ASSERT_EQ(::mkfifo((dir_ + "/fifo.yml").c_str(), 0600), 0);
    root_ = OpenDirectory(dir_);
    ASSERT_TRUE(root_.valid());
  }

  TestRepo tmp_{false};
  std::string dir_;
  std::string outside_;
  UniqueFd root_;
};

TEST_F(WalkBeneathTest, OpensFilesAndDirectoriesBelow) {
  BeneathOpen file = WalkBeneath(root_.get(), "ci/deep/b.yml", BeneathKind::kFile);
  ASSERT_EQ(file.result, Result::kOk);
  EXPECT_EQ(ReadFd(file.fd.get()), "b");
  EXPECT_EQ(file.stopped_at, "ci/deep/b.yml");
  BeneathOpen dir = WalkBeneath(root_.get(), "./ci//deep/", BeneathKind::kDirectory);
  EXPECT_EQ(dir.result, Result::kOk);
  EXPECT_EQ(WalkBeneath(root_.get(), "", BeneathKind::kDirectory).result, Result::kOk);
  EXPECT_EQ(WalkBeneath(root_.get(), "ci/none.yml", BeneathKind::kFile).result,
            Result::kNoSuchFile);
  EXPECT_EQ(WalkBeneath(root_.get(), "ci", BeneathKind::kFile).result, Result::kNotRegular);
  EXPECT_EQ(WalkBeneath(root_.get(), "ci/a.yml/x", BeneathKind::kFile).result,
            Result::kNotDirectory);
}

TEST_F(WalkBeneathTest, RefusesALinkAtTheEnd) {
  BeneathOpen evil = WalkBeneath(root_.get(), "ci/evil.yml", BeneathKind::kFile);
  EXPECT_EQ(evil.result, Result::kSymlink);
  EXPECT_FALSE(evil.fd.valid());
  EXPECT_EQ(evil.stopped_at, "ci/evil.yml");
  EXPECT_EQ(evil.link_target, outside_ + "/secret.yml");
  // Also a link that stays inside, and a link named as a directory.
  EXPECT_EQ(WalkBeneath(root_.get(), "inside", BeneathKind::kDirectory).result, Result::kSymlink);
  EXPECT_EQ(WalkBeneath(root_.get(), "linked", BeneathKind::kDirectory).result, Result::kSymlink);
}

TEST_F(WalkBeneathTest, RefusesALinkOnTheWay) {
  BeneathOpen through = WalkBeneath(root_.get(), "linked/secret.yml", BeneathKind::kFile);
  EXPECT_EQ(through.result, Result::kSymlink);
  EXPECT_EQ(through.stopped_at, "linked");
  EXPECT_EQ(through.link_target, outside_);
  BeneathOpen inside = WalkBeneath(root_.get(), "inside/a.yml", BeneathKind::kFile);
  EXPECT_EQ(inside.result, Result::kSymlink);
  EXPECT_EQ(inside.stopped_at, "inside");
}

TEST_F(WalkBeneathTest, RefusesToClimbOut) {
  BeneathOpen up = WalkBeneath(root_.get(), "../outside/secret.yml", BeneathKind::kFile);
  EXPECT_EQ(up.result, Result::kNoSuchFile);
  EXPECT_EQ(up.stopped_at, "..");
  EXPECT_EQ(WalkBeneath(root_.get(), "ci/../../outside", BeneathKind::kDirectory).result,
            Result::kNoSuchFile);
  // A leading '/' does not make the path absolute.
  EXPECT_EQ(WalkBeneath(root_.get(), "/ci/a.yml", BeneathKind::kFile).result, Result::kOk);
}

TEST_F(WalkBeneathTest, AFifoIsNotRegularAndDoesNotBlock) {
  EXPECT_EQ(WalkBeneath(root_.get(), "fifo.yml", BeneathKind::kFile).result, Result::kNotRegular);
}

}  // namespace
}  // namespace slipway
