#include "exec/glob.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(GlobTest, StarStaysInsideOneSegment) {
  EXPECT_TRUE(GlobMatch("*.txt", "a.txt"));
  EXPECT_FALSE(GlobMatch("*.txt", "dir/a.txt"));
  EXPECT_TRUE(GlobMatch("dir/*", "dir/a.txt"));
  EXPECT_FALSE(GlobMatch("dir/*", "dir/sub/a.txt"));
  EXPECT_TRUE(GlobMatch("path/*xyz/*", "path/abcxyz/file"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXXbYY"));
}

TEST(GlobTest, DoubleStarSpansDirectories) {
  EXPECT_TRUE(GlobMatch("**/*.log", "x.log"));
  EXPECT_TRUE(GlobMatch("**/*.log", "a/b/c/x.log"));
  EXPECT_TRUE(GlobMatch("build/**", "build/a/b"));
  EXPECT_TRUE(GlobMatch("build/**", "build"));
  EXPECT_TRUE(GlobMatch("some/**/directories", "some/directories"));
  EXPECT_TRUE(GlobMatch("some/**/directories", "some/x/y/directories"));
  EXPECT_FALSE(GlobMatch("some/**/directories", "other/x/directories"));
  EXPECT_TRUE(GlobMatch("**/**/a", "a"));
}

TEST(GlobTest, QuestionClassesBracesAndEscapes) {
  EXPECT_TRUE(GlobMatch("file?.c", "file1.c"));
  EXPECT_FALSE(GlobMatch("file?.c", "file.c"));
  EXPECT_FALSE(GlobMatch("a?b", "a/b"));
  EXPECT_TRUE(GlobMatch("[ab]x", "bx"));
  EXPECT_FALSE(GlobMatch("[ab]x", "cx"));
  EXPECT_TRUE(GlobMatch("v[0-9]", "v7"));
  EXPECT_TRUE(GlobMatch("[!a]x", "bx"));
  EXPECT_FALSE(GlobMatch("[^a]x", "ax"));
  EXPECT_TRUE(GlobMatch("*.{c,h}", "x.h"));
  EXPECT_FALSE(GlobMatch("*.{c,h}", "x.o"));
  EXPECT_TRUE(GlobMatch("{bin,lib/{a,b}}/*", "lib/b/z"));
  EXPECT_TRUE(GlobMatch("\\*.txt", "*.txt"));
  EXPECT_FALSE(GlobMatch("\\*.txt", "a.txt"));
  EXPECT_TRUE(GlobMatch("[unclosed", "[unclosed"));
  EXPECT_TRUE(GlobMatch("{unclosed", "{unclosed"));
}

// artifacts:paths and cache:paths come from the pipeline file and are
// matched in the server's process: 30 groups of two expanded to 2^30
// patterns, and `**` backtracked once per star (exponential), with
// recursion as deep as the pattern is long.
TEST(GlobTest, HostilePatternsStayBounded) {
  std::string doubling;
  for (int i = 0; i < 30; ++i) doubling += "{a,b}";
  EXPECT_FALSE(GlobMatch(doubling, std::string(30, 'a')));
  std::string twelve;
  for (int i = 0; i < 12; ++i) twelve += "{a,b}";
  EXPECT_TRUE(GlobMatch(twelve, "abababababab"));  // 4096 patterns: within the bound.
  EXPECT_FALSE(GlobMatch(std::string(100000, '{') + "a" + std::string(100000, '}'), "a"));
  std::string stars;
  for (int i = 0; i < 40; ++i) stars += "**/a/";
  std::string path;
  for (int i = 0; i < 60; ++i) path += "a/";
  EXPECT_FALSE(GlobMatch(stars + "b", path + "c"));
  EXPECT_TRUE(GlobMatch(stars + "b", path + "b"));
  std::string long_pattern;
  for (int i = 0; i < 100000; ++i) long_pattern += "**/x/";
  EXPECT_FALSE(GlobMatch(long_pattern + "y", "x/y"));
}

TEST(GlobTest, CleansPaths) {
  EXPECT_EQ(CleanRelativePath("./build//"), "build");
  EXPECT_EQ(CleanRelativePath("."), "");
  EXPECT_EQ(CleanRelativePath("a/./b/../c"), "a/c");
  EXPECT_EQ(CleanRelativePath("../x"), "../x");
  EXPECT_EQ(CleanRelativePath("/abs/path/"), "/abs/path");
  EXPECT_TRUE(EscapesRoot(CleanRelativePath("a/../../x")));
  EXPECT_TRUE(EscapesRoot(CleanRelativePath("/etc/passwd")));
  EXPECT_FALSE(EscapesRoot(CleanRelativePath("a/../x")));
  EXPECT_FALSE(EscapesRoot(CleanRelativePath("..x")));
}

}  // namespace
}  // namespace slipway
