#include "exec/artifacts.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "util/test_dir.h"

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
  EXPECT_EQ(Select({{}, {"*.log"}, true}), "build/a.bin build/link build/sub/c.bin build/tmp/t.o");
  EXPECT_EQ(log_, "untracked: found 5 files|*.log: excluded 1 files|");
}

TEST_F(ArtifactsTest, AbsolutePathsInsideTheWorkspaceAreRelative) {
  EXPECT_EQ(Select({{ws() + "/build/sub/"}, {ws() + "/build/sub/c.bin"}, false}), "build/sub");
  EXPECT_EQ(log_,
            "build/sub: found 2 matching artifact files and directories|"
            "build/sub/c.bin: excluded 1 files|");
}

TEST_F(ArtifactsTest, MissingAndOutsidePathsWarn) {
  EXPECT_EQ(Select({{"nothing/here", "../etc"}, {}, false}), "");
  EXPECT_EQ(log_,
            "WARNING: nothing/here: no matching files. Ensure that the artifact path is "
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
  ASSERT_TRUE(
      CollectArtifacts(artifacts, vars, ws(), source_files_, job_dir, [](const std::string&) {
      }).ok());
  EXPECT_EQ(Slurp(job_dir + "/artifacts/build/sub/c.bin"), "c\n");
  EXPECT_EQ(Slurp(job_dir + "/artifacts/src/main.c"), "s\n");
  EXPECT_FALSE(PathExists(job_dir + "/artifacts/build/tmp/t.o"));
  EXPECT_FALSE(PathExists(job_dir + "/artifacts/out.log"));

  std::string next = tmp_.Sub("next");
  ASSERT_EQ(Sh(tmp_.path(), "mkdir -p next/build && echo old > next/build/a.bin"), 0);
  ASSERT_TRUE(RestoreArtifacts(ArtifactsDirIn(job_dir), next).ok());
  EXPECT_EQ(Slurp(next + "/build/a.bin"), "b\n");
  EXPECT_EQ(Slurp(next + "/build/link"), "b\n");  // The symlink survived as a link.
  // A job without artifacts has nothing to fetch.
  JobDirArtifacts jobs;
  jobs.Add(1, job_dir);
  jobs.Add(2, tmp_.Sub("job-without-artifacts"));
  EXPECT_EQ(*jobs.Fetch({1, "with"}), ArtifactsDirIn(job_dir));
  EXPECT_EQ(*jobs.Fetch({2, "without"}), "");
  EXPECT_EQ(*jobs.Fetch({3, "unknown"}), "");
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

// A JUnit file that does not parse fails no job (GitLab parses reports
// after the upload and shows the error in the test report): it is kept,
// said in the log, and counts nothing.
TEST_F(ArtifactsTest, AJunitReportThatDoesNotParseIsAWarning) {
  ASSERT_EQ(Sh(ws(), R"(
    printf "<testsuite><testcase name=\"a\"/></testsuite>" > a.xml
    printf "<testsuite><testcase name=\"b" > b.xml
  )"),
            0);
  Artifacts artifacts;
  artifacts.present = true;
  artifacts.reports["junit"] = {"*.xml"};
  std::string job_dir = tmp_.Sub("job");
  std::vector<std::string> lines;
  StatusOr<Reports> reports = CollectReports(artifacts, {}, ws(), job_dir,
                                             [&](const std::string& l) { lines.push_back(l); });
  ASSERT_TRUE(reports.ok()) << reports.status().message();
  EXPECT_EQ(reports->summary, "junit: 1 total, 1 success, 0 failed, 0 skipped, 0 error");
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "WARNING: junit report b.xml: JUnit XML: unterminated tag"),
            lines.end());
  EXPECT_EQ(Slurp(job_dir + "/reports/junit/b.xml"), "<testsuite><testcase name=\"b");
}

// Artifacts may hold symlinks anywhere. Restoring a later job's artifacts
// over an earlier one's must replace a link in the way, never write through
// it: otherwise job A's `d -> /victim` and job B's `d/pwned.txt` make a
// third job's restore create /victim/pwned.txt, wherever slipway can write.
class ArtifactSymlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Sh(tmp_.path(),
                 "mkdir ws victim secret && echo original > victim/target && "
                 "echo s3cret > secret/db"),
              0);
  }
  // A finished job whose artifacts script makes (run in its artifacts/).
  std::string Job(const std::string& name, const std::string& script) {
    EXPECT_EQ(
        Sh(tmp_.path(), "mkdir -p " + name + "/artifacts && cd " + name + "/artifacts\n" + script),
        0);
    return tmp_.Sub(name);
  }
  // What the victim directory holds: it must stay as SetUp left it.
  std::string Victim() {
    StatusOr<std::vector<TreeEntry>> entries = ListTree(victim());
    std::string out;
    for (const TreeEntry& e : *entries) out += (out.empty() ? "" : " ") + e.path;
    return out + ": " + Slurp(victim() + "/target");
  }
  bool IsRealDirectory(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  std::string ws() const { return tmp_.Sub("ws"); }
  std::string victim() const { return tmp_.Sub("victim"); }

  TempDir tmp_;
};

TEST_F(ArtifactSymlinkTest, ALinkFromOneJobIsNotFollowedByTheNextJobsFiles) {
  std::string a = Job("a", "ln -s " + victim() + " d");
  std::string b = Job("b", "mkdir d && echo pwned > d/pwned.txt");
  ASSERT_TRUE(RestoreArtifacts(ArtifactsDirIn(a), ws()).ok());
  Status s = RestoreArtifacts(ArtifactsDirIn(b), ws());
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Victim(), "target: original\n");
  EXPECT_TRUE(IsRealDirectory(ws() + "/d"));  // B's directory replaced A's link.
  EXPECT_EQ(Slurp(ws() + "/d/pwned.txt"), "pwned\n");
}

TEST_F(ArtifactSymlinkTest, ALinkInTheMiddleOfAPathIsReplaced) {
  std::string a = Job("a", "mkdir a && ln -s " + victim() + " a/b");
  std::string b = Job("b", "mkdir -p a/b/c && echo x > a/b/c/x");
  ASSERT_TRUE(RestoreArtifacts(ArtifactsDirIn(a), ws()).ok());
  ASSERT_TRUE(RestoreArtifacts(ArtifactsDirIn(b), ws()).ok());
  EXPECT_EQ(Victim(), "target: original\n");
  EXPECT_TRUE(IsRealDirectory(ws() + "/a/b"));
  EXPECT_EQ(Slurp(ws() + "/a/b/c/x"), "x\n");
}

TEST_F(ArtifactSymlinkTest, AFileReplacesALinkAtItsPlace) {
  std::string a = Job("a", "ln -s " + victim() + "/target f && ln -s " + victim() + "/new g");
  std::string b = Job("b", "echo mine > f && echo mine > g");
  ASSERT_TRUE(RestoreArtifacts(ArtifactsDirIn(a), ws()).ok());
  ASSERT_TRUE(RestoreArtifacts(ArtifactsDirIn(b), ws()).ok());
  EXPECT_EQ(Victim(), "target: original\n");  // Neither written nor created.
  struct stat st;
  ASSERT_EQ(lstat((ws() + "/f").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(Slurp(ws() + "/f"), "mine\n");
  EXPECT_EQ(Slurp(ws() + "/g"), "mine\n");
}

TEST_F(ArtifactSymlinkTest, AWorkspaceThatIsALinkIsNeitherWrittenNorRead) {
  std::string a = Job("a", "echo pwned > pwned.txt");
  ASSERT_EQ(Sh(tmp_.path(), "rmdir ws && ln -s victim ws"), 0);
  Status restored = RestoreArtifacts(ArtifactsDirIn(a), ws());
  EXPECT_FALSE(restored.ok());
  EXPECT_EQ(restored.message(), ws() + " is a symbolic link, not a directory: it is not followed");
  EXPECT_EQ(Victim(), "target: original\n");

  // Collecting from it (a job may swap its workspace for a link to the
  // server's data) copies nothing.
  Artifacts artifacts;
  artifacts.present = true;
  artifacts.untracked = true;
  std::string job_dir = tmp_.Sub("collector");
  Status collected = CollectArtifacts(artifacts, {}, ws(), {}, job_dir, [](const std::string&) {});
  EXPECT_FALSE(collected.ok());
  EXPECT_FALSE(PathExists(job_dir + "/artifacts/target"));
}

TEST_F(ArtifactSymlinkTest, CollectionStoresLinksAndNeverReadsThroughThem) {
  // The static form of a job swapping a directory for a link while its
  // artifacts are collected: the link is there when collection starts...
  ASSERT_EQ(Sh(ws(), "ln -s " + tmp_.Sub("secret") + " data"), 0);
  Artifacts artifacts;
  artifacts.present = true;
  artifacts.paths = {"data", "data/*"};
  std::string job_dir = tmp_.Sub("collector");
  ASSERT_TRUE(CollectArtifacts(artifacts, {}, ws(), {}, job_dir, [](const std::string&) {}).ok());
  struct stat st;
  ASSERT_EQ(lstat((job_dir + "/artifacts/data").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));

  // ...and after the listing saw a directory there: the copy reads what is
  // there when it copies, through no link, and writes through none either.
  struct stat secret_before;
  ASSERT_EQ(stat(tmp_.Sub("secret/db").c_str(), &secret_before), 0);
  std::string dest = tmp_.Sub("copy");
  ASSERT_TRUE(CopyEntries(ws(), {{"data/db", EntryType::kFile}}, dest).ok());
  EXPECT_FALSE(PathExists(dest + "/data/db"));  // Not read through the link.
  std::vector<TreeEntry> listed = {{"data", EntryType::kDirectory}, {"data/db", EntryType::kFile}};
  Status s = CopyEntries(ws(), listed, dest);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(lstat((dest + "/data").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));  // Copied as what it is now.
  struct stat secret_after;
  ASSERT_EQ(stat(tmp_.Sub("secret/db").c_str(), &secret_after), 0);
  EXPECT_EQ(secret_after.st_ino, secret_before.st_ino);  // Not replaced through dest's link.
}

}  // namespace
}  // namespace slipway
