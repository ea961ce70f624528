#include "util/glob.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

namespace slipway {
namespace {

struct GlobCase {
  const char* pattern;
  const char* path;
  bool expected;
};

void PrintTo(const GlobCase& c, std::ostream* os) { *os << c.pattern << " ~ " << c.path; }

// Facts about Ruby's File.fnmatch?(p, s, FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB).
class FnmatchTest : public testing::TestWithParam<GlobCase> {};

TEST_P(FnmatchTest, Matches) {
  EXPECT_EQ(GlobMatch(GetParam().pattern, GetParam().path), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FnmatchTest,
    testing::Values(
        GlobCase{"README.md", "README.md", true}, GlobCase{"README.md", "readme.md", false},
        GlobCase{"*", "a", true}, GlobCase{"*", "a/b", false}, GlobCase{"*", ".hidden", true},
        GlobCase{"*.md", "README.md", true}, GlobCase{"*.md", "docs/README.md", false},
        GlobCase{"src/*.c", "src/a.c", true}, GlobCase{"src/*.c", "src/sub/a.c", false},
        GlobCase{"a/*/c", "a/b/c", true}, GlobCase{"a/*/c", "a/b/x/c", false},
        GlobCase{"**/*.rb", "a.rb", true}, GlobCase{"**/*.rb", "a/b/c.rb", true},
        GlobCase{"**/*.rb", "a/b/c.py", false}, GlobCase{"**/*.rb", ".x/y.rb", true},
        GlobCase{"a/**/c", "a/c", true}, GlobCase{"a/**/c", "a/b/x/c", true},
        GlobCase{"a/**/c", "b/c", false}, GlobCase{"docs/**/*", "docs/a", true},
        GlobCase{"docs/**/*", "docs/x/y/z.md", true}, GlobCase{"docs/**/*", "docs", false},
        GlobCase{"docs/**", "docs/a", true},  // ** not before '/' is a plain *.
        GlobCase{"docs/**", "docs/a/b", false}, GlobCase{"**.js", "a.js", true},
        GlobCase{"**.js", "x/a.js", false}, GlobCase{"**/.gitlab-ci.yml", ".gitlab-ci.yml", true},
        GlobCase{"**/**/x", "x", true}, GlobCase{"**/**/x", "a/b/x", true},
        GlobCase{"**/a/**/b", "a/b", true}, GlobCase{"**/a/**/b", "z/a/y/b", true},
        GlobCase{"**/a/**/b", "z/a/y/c", false}, GlobCase{"**/a/**/b", "a/x/a/y/c/b", true},
        GlobCase{"**/*", ".git/config", true}, GlobCase{"*/", "a", false},
        GlobCase{"?.txt", "a.txt", true}, GlobCase{"?.txt", "ab.txt", false},
        GlobCase{"?.txt", "\xC3\xA9.txt", true}, GlobCase{"a?b", "a/b", false},
        GlobCase{"[abc].txt", "b.txt", true}, GlobCase{"[abc].txt", "d.txt", false},
        GlobCase{"[!abc].txt", "b.txt", false}, GlobCase{"[!abc].txt", "d.txt", true},
        GlobCase{"[^abc].txt", "d.txt", true}, GlobCase{"[a-c].txt", "b.txt", true},
        GlobCase{"[a-c].txt", "d.txt", false}, GlobCase{"[a-].txt", "-.txt", true},
        GlobCase{"[\\]].txt", "].txt", true}, GlobCase{"[abc", "a", false},
        GlobCase{"[abc", "[abc", false}, GlobCase{"\\*.txt", "*.txt", true},
        GlobCase{"\\*.txt", "a.txt", false}, GlobCase{"*.{js,ts}", "a.ts", true},
        GlobCase{"*.{js,ts}", "a.rb", false}, GlobCase{"{a,b}/**/*.c", "b/x/y.c", true},
        GlobCase{"{a,b}/**/*.c", "c/x/y.c", false}, GlobCase{"{a,{b,c}}.txt", "c.txt", true},
        GlobCase{"{,x}a", "a", true}, GlobCase{"{a,}.txt", ".txt", true},
        GlobCase{"{}x", "x", true}, GlobCase{"{a", "{a", true}, GlobCase{"\\{a,b}", "{a,b}", true},
        GlobCase{"\\{a,b}", "a", false}, GlobCase{"*a*b*c", "xaybzc", true},
        GlobCase{"*a*b*c", "xaybz", false}, GlobCase{"*", "", true}, GlobCase{"", "", true},
        GlobCase{"", "a", false}));

TEST(FnmatchTest, BraceExplosionMatchesNothingInsteadOfHanging) {
  std::string pattern;
  for (int i = 0; i < 20; ++i) pattern += "{a,b}";
  EXPECT_FALSE(GlobMatch(pattern, std::string(20, 'a')));
  EXPECT_TRUE(GlobMatch("{a,b}{a,b}{a,b}", "bab"));
}

// Groups with one alternative each do not multiply the expansions, but each
// is one level of recursion with a copy of the pattern: 100,000 of them
// (nested or in a row) overflowed the stack. Past 64 the pattern matches
// nothing, and CheckGlob says why.
TEST(FnmatchTest, ManyBraceGroupsAreBounded) {
  std::string nested = std::string(100000, '{') + "a" + std::string(100000, '}');
  std::string in_a_row;
  for (int i = 0; i < 100000; ++i) in_a_row += "{a}";
  for (const std::string& pattern : {nested, in_a_row}) {
    EXPECT_FALSE(GlobMatch(pattern, "a"));
    Status check = CheckGlob(pattern);
    EXPECT_FALSE(check.ok());
    EXPECT_TRUE(check.message().ends_with(
        "\xe2\x80\xa6' expand to more than 4096 patterns or 64 nested groups"))
        << check.message();
  }
  std::string sixty_four = std::string(64, '{') + "a" + std::string(64, '}');
  EXPECT_TRUE(GlobMatch(sixty_four, "a"));
  EXPECT_TRUE(CheckGlob(sixty_four).ok());
  EXPECT_FALSE(CheckGlob("{" + sixty_four + "}").ok());
  std::string many;
  for (int i = 0; i < 13; ++i) many += "{a,b}";
  EXPECT_EQ(CheckGlob(many).message(),
            "the braces of '" + many + "' expand to more than 4096 patterns or 64 nested groups");
  EXPECT_TRUE(CheckGlob(many, GlobSyntax::kIncludeWildcard).ok());
}

TEST(FnmatchTest, ManyStarsStayFast) {
  std::string pattern = "**/" + std::string(50, '*') + "x";
  std::string path;
  for (int i = 0; i < 30; ++i) path += "dir/";
  path += std::string(200, 'a');
  EXPECT_FALSE(GlobMatch(pattern, path));
  EXPECT_TRUE(GlobMatch(pattern, path + "x"));
}

// GitLab's `include: local` wildcards: only * and ** are special.
class IncludeWildcardTest : public testing::TestWithParam<GlobCase> {};

TEST_P(IncludeWildcardTest, Matches) {
  EXPECT_EQ(GlobMatch(GetParam().pattern, GetParam().path, GlobSyntax::kIncludeWildcard),
            GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Table, IncludeWildcardTest,
                         testing::Values(GlobCase{"configs/*.yml", "configs/a.yml", true},
                                         GlobCase{"configs/*.yml", "configs/sub/a.yml", false},
                                         GlobCase{"configs/**.yml", "configs/a.yml", true},
                                         GlobCase{"configs/**.yml", "configs/sub/deep/a.yml", true},
                                         GlobCase{"configs/**/*.yml", "configs/a.yml", false},
                                         GlobCase{"configs/**/*.yml", "configs/sub/a.yml", true},
                                         GlobCase{"configs/?.yml", "configs/?.yml", true},
                                         GlobCase{"configs/?.yml", "configs/a.yml", false},
                                         GlobCase{"configs/{a,b}.yml", "configs/a.yml", false},
                                         GlobCase{"a+b/[x].yml", "a+b/[x].yml", true},
                                         GlobCase{"*.yml", "a.yml.bak", false},
                                         GlobCase{"*.yml", "x/a.yml", false}));

class TempTree : public testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/slipway-glob-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Touch(const std::string& relative) {
    std::filesystem::path p = root_ / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << "x";
  }
  std::filesystem::path root_;
};

TEST_F(TempTree, ListFilesSkipsGitAndSorts) {
  for (const char* f : {"b.yml", "a.yml", ".hidden.yml", "sub/b.yml", "sub/deep/c.yml",
                        ".git/config", "sub/.git/x.yml", "other/d.txt"}) {
    Touch(f);
  }
  std::filesystem::create_directories(root_ / "empty");
  std::filesystem::create_symlink("a.yml", root_ / "link.yml");
  StatusOr<std::vector<std::string>> files = ListFiles(root_);
  ASSERT_TRUE(files.ok()) << files.status().message();
  EXPECT_EQ(*files, (std::vector<std::string>{".hidden.yml", "a.yml", "b.yml", "link.yml",
                                              "other/d.txt", "sub/b.yml", "sub/deep/c.yml"}));

  auto find = [&](const char* pattern, GlobSyntax syntax) {
    StatusOr<std::vector<std::string>> r = FindFiles(root_, pattern, syntax);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<std::string>{};
  };
  EXPECT_EQ(find("**/*.yml", GlobSyntax::kFnmatch),
            (std::vector<std::string>{".hidden.yml", "a.yml", "b.yml", "link.yml", "sub/b.yml",
                                      "sub/deep/c.yml"}));
  EXPECT_EQ(find("sub/*.yml", GlobSyntax::kFnmatch), (std::vector<std::string>{"sub/b.yml"}));
  EXPECT_EQ(find("sub/deep/c.yml", GlobSyntax::kFnmatch),
            (std::vector<std::string>{"sub/deep/c.yml"}));
  EXPECT_EQ(find("missing/*.yml", GlobSyntax::kFnmatch), (std::vector<std::string>{}));
  EXPECT_EQ(find("{a,b}.yml", GlobSyntax::kFnmatch), (std::vector<std::string>{"a.yml", "b.yml"}));
  EXPECT_EQ(find("sub/**.yml", GlobSyntax::kIncludeWildcard),
            (std::vector<std::string>{"sub/b.yml", "sub/deep/c.yml"}));
  EXPECT_EQ(find("*.yml", GlobSyntax::kIncludeWildcard),
            (std::vector<std::string>{".hidden.yml", "a.yml", "b.yml", "link.yml"}));
}

TEST_F(TempTree, ListFilesOfAMissingDirectoryIsAnError) {
  StatusOr<std::vector<std::string>> files = ListFiles(root_ / "nope");
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().message(),
            (root_ / "nope").string() + ": cannot list directory: No such file or directory");
}

TEST(GlobTest, IsLiteralGlob) {
  EXPECT_TRUE(IsLiteralGlob("Dockerfile"));
  EXPECT_TRUE(IsLiteralGlob("a/b.c"));
  EXPECT_FALSE(IsLiteralGlob("*.c"));
  EXPECT_FALSE(IsLiteralGlob("a?"));
  EXPECT_FALSE(IsLiteralGlob("[ab]"));
  EXPECT_FALSE(IsLiteralGlob("{a,b}"));
}

}  // namespace
}  // namespace slipway
