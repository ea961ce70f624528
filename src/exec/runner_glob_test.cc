#include "exec/runner_glob.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(RunnerGlobTest, StarStaysInsideOneSegment) {
  EXPECT_TRUE(RunnerGlobMatch("*.txt", "a.txt"));
  EXPECT_FALSE(RunnerGlobMatch("*.txt", "dir/a.txt"));
  EXPECT_TRUE(RunnerGlobMatch("dir/*", "dir/a.txt"));
  EXPECT_FALSE(RunnerGlobMatch("dir/*", "dir/sub/a.txt"));
  EXPECT_TRUE(RunnerGlobMatch("path/*xyz/*", "path/abcxyz/file"));
  EXPECT_TRUE(RunnerGlobMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(RunnerGlobMatch("a*b*c", "aXXbYY"));
}

TEST(RunnerGlobTest, DoubleStarSpansDirectories) {
  EXPECT_TRUE(RunnerGlobMatch("**/*.log", "x.log"));
  EXPECT_TRUE(RunnerGlobMatch("**/*.log", "a/b/c/x.log"));
  EXPECT_TRUE(RunnerGlobMatch("build/**", "build/a/b"));
  EXPECT_TRUE(RunnerGlobMatch("build/**", "build"));
  EXPECT_TRUE(RunnerGlobMatch("some/**/directories", "some/directories"));
  EXPECT_TRUE(RunnerGlobMatch("some/**/directories", "some/x/y/directories"));
  EXPECT_FALSE(RunnerGlobMatch("some/**/directories", "other/x/directories"));
  EXPECT_TRUE(RunnerGlobMatch("**/**/a", "a"));
}

TEST(RunnerGlobTest, QuestionClassesBracesAndEscapes) {
  EXPECT_TRUE(RunnerGlobMatch("file?.c", "file1.c"));
  EXPECT_FALSE(RunnerGlobMatch("file?.c", "file.c"));
  EXPECT_FALSE(RunnerGlobMatch("a?b", "a/b"));
  EXPECT_TRUE(RunnerGlobMatch("[ab]x", "bx"));
  EXPECT_FALSE(RunnerGlobMatch("[ab]x", "cx"));
  EXPECT_TRUE(RunnerGlobMatch("v[0-9]", "v7"));
  EXPECT_TRUE(RunnerGlobMatch("[!a]x", "bx"));
  EXPECT_FALSE(RunnerGlobMatch("[^a]x", "ax"));
  EXPECT_TRUE(RunnerGlobMatch("*.{c,h}", "x.h"));
  EXPECT_FALSE(RunnerGlobMatch("*.{c,h}", "x.o"));
  EXPECT_TRUE(RunnerGlobMatch("{bin,lib/{a,b}}/*", "lib/b/z"));
  EXPECT_TRUE(RunnerGlobMatch("\\*.txt", "*.txt"));
  EXPECT_FALSE(RunnerGlobMatch("\\*.txt", "a.txt"));
  EXPECT_TRUE(RunnerGlobMatch("[unclosed", "[unclosed"));
  EXPECT_TRUE(RunnerGlobMatch("{unclosed", "{unclosed"));
}

// artifacts:paths and cache:paths come from the pipeline file and are
// matched in the server's process: 30 groups of two expanded to 2^30
// patterns, and `**` backtracked once per star (exponential), with
// recursion as deep as the pattern is long.
TEST(RunnerGlobTest, HostilePatternsStayBounded) {
  std::string doubling;
  for (int i = 0; i < 30; ++i) doubling += "{a,b}";
  EXPECT_FALSE(RunnerGlobMatch(doubling, std::string(30, 'a')));
  std::string twelve;
  for (int i = 0; i < 12; ++i) twelve += "{a,b}";
  EXPECT_TRUE(RunnerGlobMatch(twelve, "abababababab"));  // 4096 patterns: within the bound.
  EXPECT_FALSE(RunnerGlobMatch(std::string(100000, '{') + "a" + std::string(100000, '}'), "a"));
  std::string stars;
  for (int i = 0; i < 40; ++i) stars += "**/a/";
  std::string path;
  for (int i = 0; i < 60; ++i) path += "a/";
  EXPECT_FALSE(RunnerGlobMatch(stars + "b", path + "c"));
  EXPECT_TRUE(RunnerGlobMatch(stars + "b", path + "b"));
  std::string long_pattern;
  for (int i = 0; i < 100000; ++i) long_pattern += "**/x/";
  EXPECT_FALSE(RunnerGlobMatch(long_pattern + "y", "x/y"));
}

TEST(RunnerGlobTest, CleansPaths) {
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
