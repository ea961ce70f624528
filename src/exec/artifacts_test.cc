#include "exec/artifacts.h"

#include <gtest/gtest.h>

#include "exec/exec_test_util.h"

namespace slipway {
namespace {

class ArtifactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Sh(tmp_.path(), R"(
      mkdir -p ws/build/sub ws/build/tmp ws/src ws/.git
      echo b > ws/build/a.bin; echo c > ws/build/sub/c.bin; echo t > ws/build/tmp/t.o
      echo s > ws/src/main.c; echo l > ws/out.log; echo h > ws/.git/HEAD
      ln -s a.bin ws/build/link
    )"),
              0);
    source_files_ = {"src/main.c"};
  }

  // The selected paths, and the log lines, joined with spaces.
  std::string Select(const PathSelection& selection) {
    StatusOr<std::vector<TreeEntry>> entries = ListTree(ws(), {".git"});
    EXPECT_TRUE(entries.ok());
    log_.clear();
    std::vector<TreeEntry> chosen =
        SelectEntries(*entries, selection, source_files_, ws(),
                      [this](const std::string& line) { log_ += line + "|"; });
    std::string out;
    for (const TreeEntry& e : chosen) out += (out.empty() ? "" : " ") + e.path;
    return out;
  }
  std::string ws() const { return tmp_.Sub("ws"); }

  TempDir tmp_;
  std::unordered_set<std::string> source_files_;
  std::string log_;
};

TEST_F(ArtifactsTest, DirectoryPathsAreRecursive) {
  EXPECT_EQ(Select({{"build"}, {}, false}),
            "build build/a.bin build/link build/sub build/sub/c.bin build/tmp build/tmp/t.o");
  EXPECT_EQ(log_, "build: found 7 matching artifact files and directories|");
}

TEST_F(ArtifactsTest, GlobsAndExcludeWhichIsNotRecursive) {
  EXPECT_EQ(Select({{"**/*.bin", "*.log"}, {}, false}), "build/a.bin build/sub/c.bin out.log");
  EXPECT_EQ(Select({{"build"}, {"build/tmp/**", "build/link"}, false}),
            "build build/a.bin build/sub build/sub/c.bin");
  EXPECT_EQ(log_,
            "build: found 7 matching artifact files and directories|"
            "build/tmp/**: excluded 2 files|build/link: excluded 1 files|");
  // Excluding a directory itself leaves its content in.
  EXPECT_EQ(Select({{"build/sub"}, {"build/sub"}, false}), "build/sub/c.bin");
}

TEST_F(ArtifactsTest, UntrackedIsEverythingTheJobStartedWithout) {
  EXPECT_EQ(Select({{}, {"*.log"}, true}),
            "build/a.bin build/link build/sub/c.bin build/tmp/t.o");
  EXPECT_EQ(log_, "untracked: found 5 files|*.log: excluded 1 files|");
}

TEST_F(ArtifactsTest, AbsolutePathsInsideTheWorkspaceAreRelative) {
  EXPECT_EQ(Select({{ws() + "/build/sub/"}, {ws() + "/build/sub/c.bin"}, false}), "build/sub");
  EXPECT_EQ(log_, "build/sub: found 2 matching artifact files and directories|"
                  "build/sub/c.bin: excluded 1 files|");
}

TEST_F(ArtifactsTest, MissingAndOutsidePathsWarn) {
  EXPECT_EQ(Select({{"nothing/here", "../etc"}, {}, false}), "");
  EXPECT_EQ(log_, "WARNING: nothing/here: no matching files. Ensure that the artifact path is "
                  "relative to the working directory (" +
                      ws() + ")|WARNING: ../etc: not in the project directory (" + ws() + ")|");
}

TEST_F(ArtifactsTest, CollectThenRestoreKeepsRelativePaths) {
  Artifacts artifacts;
  artifacts.present = true;
  artifacts.paths = {"./build/", "$OUT_DIR/*.c"};
  artifacts.exclude = {"build/tmp/**"};
  VariableList vars;
  vars.Set("OUT_DIR", "src");
  std::string job_dir = tmp_.Sub("job");
  ASSERT_TRUE(CollectArtifacts(artifacts, vars, ws(), source_files_, job_dir,
                               [](const std::string&) {})
                  .ok());
  EXPECT_EQ(Slurp(job_dir + "/artifacts/build/sub/c.bin"), "c\n");
  EXPECT_EQ(Slurp(job_dir + "/artifacts/src/main.c"), "s\n");
  EXPECT_FALSE(PathExists(job_dir + "/artifacts/build/tmp/t.o"));
  EXPECT_FALSE(PathExists(job_dir + "/artifacts/out.log"));

  std::string next = tmp_.Sub("next");
  ASSERT_EQ(Sh(tmp_.path(), "mkdir -p next/build && echo old > next/build/a.bin"), 0);
  ASSERT_TRUE(RestoreArtifacts(job_dir, next).ok());
  EXPECT_EQ(Slurp(next + "/build/a.bin"), "b\n");
  EXPECT_EQ(Slurp(next + "/build/link"), "b\n");  // The symlink survived as a link.
  EXPECT_TRUE(RestoreArtifacts(tmp_.Sub("job-without-artifacts"), next).ok());
}

TEST_F(ArtifactsTest, ReportsAreParsed) {
  ASSERT_EQ(Sh(ws(), R"(
    printf "VERSION=1.2\nURL = http://x \n" > build.env
    printf "<testsuite><testcase name=\"a\"/><testcase name=\"b\"><failure/></testcase></testsuite>" > a.xml
    printf "<testsuite><testcase name=\"c\"><skipped/></testcase></testsuite>" > b.xml
  )"),
            0);
  Artifacts artifacts;
  artifacts.present = true;
  artifacts.reports["dotenv"] = {"build.env"};
  artifacts.reports["junit"] = {"*.xml"};
  std::string job_dir = tmp_.Sub("job");
  StatusOr<Reports> reports =
      CollectReports(artifacts, {}, ws(), job_dir, [](const std::string&) {});
  ASSERT_TRUE(reports.ok()) << reports.status().message();
  ASSERT_NE(reports->dotenv.Get("URL"), nullptr);
  EXPECT_EQ(*reports->dotenv.Get("URL"), "http://x");
  EXPECT_EQ(*reports->dotenv.Get("VERSION"), "1.2");
  EXPECT_EQ(reports->summary, "junit: 3 total, 1 success, 1 failed, 1 skipped, 0 error");
  EXPECT_EQ(Slurp(job_dir + "/reports/dotenv/build.env"), "VERSION=1.2\nURL = http://x \n");

  ASSERT_EQ(Sh(ws(), "printf \"A=1\\n\\nB=2\\n\" > build.env"), 0);
  StatusOr<Reports> bad = CollectReports(artifacts, {}, ws(), job_dir, [](const std::string&) {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "dotenv report build.env: Invalid Format");
}

}  // namespace
}  // namespace slipway
