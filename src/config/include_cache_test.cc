#include "config/include_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "util/sha256.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

class IncludeCacheTest : public ::testing::Test {
 protected:
  IncludeCacheTest() {
    std::string tmpl = (fs::temp_directory_path() / "slipway-cache-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  ~IncludeCacheTest() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(IncludeCacheTest, StoresEntriesPrivatelyWhereTheFormatSays) {
  IncludeCache cache(dir_ + "/includes");
  EXPECT_EQ(cache.Get("remote", "https://h/a.yml"), std::nullopt);
  ASSERT_TRUE(cache.Put("remote", "https://h/a.yml", "a: 1\n").ok());
  EXPECT_EQ(cache.Get("remote", "https://h/a.yml"), "a: 1\n");
  EXPECT_EQ(cache.Get("template", "https://h/a.yml"), std::nullopt);
  std::string path = dir_ + "/includes/v1/remote/" + Sha256Hex("https://h/a.yml");
  EXPECT_EQ(cache.PathOf("remote", "https://h/a.yml"), path);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "a: 1\n");
  for (const char* d : {"/includes", "/includes/v1", "/includes/v1/remote"}) {
    struct stat st;
    ASSERT_EQ(stat((dir_ + d).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << d;
  }
  // Replacing an entry leaves no temporary file behind.
  ASSERT_TRUE(cache.Put("remote", "https://h/a.yml", "a: 2\n").ok());
  EXPECT_EQ(cache.Get("remote", "https://h/a.yml"), "a: 2\n");
  EXPECT_EQ(
      std::distance(fs::directory_iterator(dir_ + "/includes/v1/remote"), fs::directory_iterator()),
      1);
}

TEST_F(IncludeCacheTest, NeverReadsOrWritesThroughASymbolicLink) {
  fs::create_directories(dir_ + "/elsewhere");
  // The root itself a link.
  fs::create_directory_symlink(dir_ + "/elsewhere", dir_ + "/linked-root");
  IncludeCache linked(dir_ + "/linked-root");
  EXPECT_FALSE(linked.Put("remote", "k", "x").ok());
  EXPECT_TRUE(fs::is_empty(dir_ + "/elsewhere"));
  // A directory below the root replaced by a link.
  fs::create_directories(dir_ + "/root");
  fs::create_directory_symlink(dir_ + "/elsewhere", dir_ + "/root/v1");
  IncludeCache cache(dir_ + "/root");
  Status put = cache.Put("remote", "k", "x");
  EXPECT_FALSE(put.ok());
  EXPECT_TRUE(fs::is_empty(dir_ + "/elsewhere"));
  // An entry that is a link to a file is not read.
  fs::remove(dir_ + "/root/v1");
  ASSERT_TRUE(cache.Put("remote", "k", "x").ok());
  std::ofstream(dir_ + "/secret") << "secret: 1\n";
  fs::remove(cache.PathOf("remote", "k"));
  fs::create_symlink(dir_ + "/secret", cache.PathOf("remote", "k"));
  EXPECT_EQ(cache.Get("remote", "k"), std::nullopt);
  // Writing replaces the link rather than writing through it.
  ASSERT_TRUE(cache.Put("remote", "k", "y").ok());
  EXPECT_EQ(cache.Get("remote", "k"), "y");
  std::ifstream in(dir_ + "/secret");
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(secret, "secret: 1\n");
}

TEST_F(IncludeCacheTest, TightensAnOpenRoot) {
  fs::create_directories(dir_ + "/open");
  chmod((dir_ + "/open").c_str(), 0777);
  IncludeCache cache(dir_ + "/open");
  ASSERT_TRUE(cache.Put("remote", "k", "x").ok());
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/open").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(DefaultIncludeCacheDirTest, FollowsXdgThenHome) {
  std::string xdg = getenv("XDG_CACHE_HOME") ? getenv("XDG_CACHE_HOME") : "";
  std::string home = getenv("HOME") ? getenv("HOME") : "";
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(DefaultIncludeCacheDir(), "/x/cache/slipway/includes");
  setenv("XDG_CACHE_HOME", "relative", 1);  // Not absolute: ignored, as the spec says.
  EXPECT_EQ(DefaultIncludeCacheDir(), "/home/u/.cache/slipway/includes");
  unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(DefaultIncludeCacheDir(), "/home/u/.cache/slipway/includes");
  if (xdg.empty())
    unsetenv("XDG_CACHE_HOME");
  else
    setenv("XDG_CACHE_HOME", xdg.c_str(), 1);
  setenv("HOME", home.c_str(), 1);
}

}  // namespace
}  // namespace slipway
