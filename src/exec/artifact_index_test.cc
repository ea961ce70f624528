#include "exec/artifact_index.h"

#include <gtest/gtest.h>

#include "util/test_dir.h"

namespace slipway {
namespace {

std::string Describe(const std::vector<JobArtifact>& list) {
  std::string out;
  for (const JobArtifact& a : list) {
    out += a.file_type + " " + a.path + " " + std::to_string(a.size) + " " + a.filename + " " +
           a.file_format + "\n";
  }
  return out;
}

TEST(ArtifactIndexTest, ListsTheArchiveAndEachReportAsGitLabDoes) {
  TempDir tmp;
  ASSERT_EQ(Sh(tmp.path(), R"(
    mkdir -p job/artifacts/out/sub job/reports/junit job/reports/dotenv job/reports/sast
    mkdir -p job/reports/empty outside
    printf 1234 > job/artifacts/out/a.bin; printf 123456 > job/artifacts/out/sub/b.bin
    printf 12345678901234567890 > outside/big
    ln -s ../../../outside/big job/artifacts/out/link
    ln -s ../../outside job/artifacts/dir-link
    printf '<testsuite/>' > job/reports/junit/report.xml; printf x > job/reports/junit/more.xml
    printf 'A=1\n' > job/reports/dotenv/build.env
    printf '{}' > job/reports/sast/gl-sast-report.json
    printf log > job/log
  )"),
            0);
  EXPECT_EQ(Describe(IndexJobArtifacts(tmp.Sub("job"), "artifacts")),
            "archive artifacts 10 artifacts.zip zip\n"
            "dotenv reports/dotenv 4 .env.gz gzip\n"
            "junit reports/junit 13 junit.xml.gz gzip\n"
            "sast reports/sast 2 gl-sast-report.json raw\n");
}

TEST(ArtifactIndexTest, NamesTheArchiveAsGitLabRunnerUploadsIt) {
  TempDir tmp;
  ASSERT_EQ(Sh(tmp.path(), "mkdir -p job/artifacts && touch job/artifacts/empty-file"), 0);
  auto name = [&](std::string_view archive_name) {
    std::vector<JobArtifact> list = IndexJobArtifacts(tmp.Sub("job"), archive_name);
    return list.size() == 1 ? list[0].filename + " " + std::to_string(list[0].size) : "?";
  };
  EXPECT_EQ(name("build-linux"), "build-linux.zip 0");
  EXPECT_EQ(name("dist/release/"), "release.zip 0");
  EXPECT_EQ(name(""), "default.zip 0");
}

TEST(ArtifactIndexTest, NothingCollectedListsNothing) {
  TempDir tmp;
  ASSERT_EQ(Sh(tmp.path(), "mkdir -p job/artifacts job/reports/junit && printf log > job/log"), 0);
  EXPECT_TRUE(IndexJobArtifacts(tmp.Sub("job"), "artifacts").empty());
  EXPECT_TRUE(IndexJobArtifacts(tmp.Sub("missing"), "artifacts").empty());
}

}  // namespace
}  // namespace slipway
