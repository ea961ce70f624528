// Symbolic links in a project must not make LoadConfig read a file outside
// it: a linked include, a linked directory on an include's path, wildcards
// and include:rules:exists through links, and the pipeline file itself.
// Every case runs on a real git repository with real files outside it, both
// on disk and at the commit, which must give the same diagnostics.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/emit.h"
#include "config/loader.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNoLinks = "GitLab does not follow symbolic links in the repository";

struct Result {
  std::string yaml;         // EmitYaml of the configuration, "" on failure.
  std::string diagnostics;  // All of them, formatted.
};

class LoaderLinksTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    outside_ = outside_dir_.dir();
    fs::create_directories(outside_ + "/sub");
    // What must never show: a job name and a key only the outside has.
    std::ofstream(outside_ + "/secret.yml") << "leaked_job:\n  script: echo leaked_value\n";
    std::ofstream(outside_ + "/sub/more.yml") << "leaked_too:\n  script: echo x\n";
    repo_.Write("ci/real.yml", "real:\n  script: echo real\n");
    repo_.Write("wild/ok.yml", "ok:\n  script: echo ok\n");
    fs::create_symlink(outside_ + "/secret.yml", repo_.dir() + "/ci/evil.yml");
    fs::create_symlink(outside_, repo_.dir() + "/linked");
    fs::create_symlink("../ci/real.yml", repo_.dir() + "/wild/inside.yml");
    fs::create_symlink(outside_, repo_.dir() + "/wild/sub");
  }

  bool AtCommit() const { return GetParam(); }

  // Commits the project with this pipeline file, then loads it from the
  // disk or from the commit (unlabelled, so names are the same).
  Result Load(const std::string& pipeline, const std::string& file = ".gitlab-ci.yml") {
    repo_.Write(".gitlab-ci.yml", pipeline);
    std::string commit = repo_.Commit("pipeline " + std::to_string(++commits_), "top.txt");
    LoadOptions options;
    options.project_dir = repo_.dir();
    options.file = file;
    if (AtCommit()) options.commit = commit;
    Diagnostics diags;
    std::optional<Node> config = LoadConfig(options, &diags);
    Result out{config ? EmitYaml(*config) : "", diags.FormatAll()};
    EXPECT_EQ(out.diagnostics.find("leaked"), std::string::npos) << out.diagnostics;
    EXPECT_EQ(out.yaml.find("leaked"), std::string::npos) << out.yaml;
    return out;
  }

  std::string Secret() const { return outside_ + "/secret.yml"; }

  TestRepo outside_dir_{false};
  std::string outside_;
  TestRepo repo_;
  int commits_ = 0;
};

TEST_P(LoaderLinksTest, IncludeOfALinkToAFileOutside) {
  Result r = Load("include: ci/evil.yml\nreal:\n  script: x\n");
  EXPECT_EQ(r.diagnostics,
            ".gitlab-ci.yml:1:10: error: `ci/evil.yml`: Invalid configuration "
            "format (`ci/evil.yml` is a symbolic link to `" +
                Secret() + "`: " + kNoLinks + ")\n");
  r = Load("include:\n  - local: /ci/evil.yml\n");
  EXPECT_NE(r.diagnostics.find(".gitlab-ci.yml:2:5: error: `ci/evil.yml`: Invalid"),
            std::string::npos)
      << r.diagnostics;
}

TEST_P(LoaderLinksTest, IncludeThroughALinkedDirectory) {
  Result r = Load("include: linked/secret.yml\n");
  EXPECT_EQ(r.diagnostics,
            ".gitlab-ci.yml:1:10: error: Local file `linked/secret.yml` does not "
            "exist! (`linked` is a symbolic link to `" +
                outside_ + "`: " + kNoLinks + ")\n");
  r = Load("include: linked/sub/../secret.yml\n");
  EXPECT_NE(r.diagnostics.find("does not exist!"), std::string::npos) << r.diagnostics;
}

TEST_P(LoaderLinksTest, WildcardsMatchLinksAsFilesAndNeverEnterThem) {
  // wild/sub/more.yml is only reachable through the link wild/sub.
  Result r = Load("include: 'wild/**.yml'\n");
  EXPECT_EQ(r.diagnostics,
            ".gitlab-ci.yml:1:10: error: `wild/inside.yml`: Invalid configuration format "
            "(`wild/inside.yml` is a symbolic link to `../ci/real.yml`: " +
                std::string(kNoLinks) + ")\n");
  r = Load("include: 'linked/*.yml'\njob:\n  script: x\n");
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml, "job:\n  script: x\n");
  r = Load("include: 'ci/*.yml'\n");
  EXPECT_NE(r.diagnostics.find("`ci/evil.yml`: Invalid configuration format"), std::string::npos)
      << r.diagnostics;
}

TEST_P(LoaderLinksTest, RulesExistsDoesNotLookThroughLinks) {
  std::string outside_name = fs::path(outside_).filename().string();
  Result r = Load(
      "include:\n"
      "  - local: ci/real.yml\n"
      "    rules:\n"
      "      - exists: [linked/secret.yml]\n"
      "      - exists: ['linked/*.yml']\n"
      "      - exists: ['wild/sub/**/*.yml']\n"
      "      - exists: ['../" +
      outside_name +
      "/secret.yml']\n"
      "job:\n  script: x\n");
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml, "job:\n  script: x\n");
  // A link is a file that exists, whatever it points to (GitLab lists the
  // commit's tree, where it is a blob).
  r = Load("include:\n  - local: ci/real.yml\n    rules:\n      - exists: [linked]\n");
  EXPECT_EQ(r.yaml, "real:\n  script: echo real\n");
}

TEST_P(LoaderLinksTest, ThePipelineFileIsNotReadThroughALink) {
  fs::create_symlink("ci/real.yml", repo_.dir() + "/linked-ci.yml");
  Result r = Load("job:\n  script: x\n", "linked-ci.yml");
  EXPECT_EQ(r.diagnostics,
            "linked-ci.yml: error: Invalid configuration format "
            "(`linked-ci.yml` is a symbolic link to `ci/real.yml`: " +
                std::string(kNoLinks) + ")\n");
  r = Load("job:\n  script: x\n", "linked/secret.yml");
  if (AtCommit()) {
    EXPECT_EQ(r.diagnostics,
              "linked/secret.yml: error: cannot read the pipeline file: no such "
              "file (`linked` is a symbolic link to `" +
                  outside_ + "`: " + kNoLinks + ")\n");
  } else {
    EXPECT_NE(r.diagnostics.find("linked/secret.yml: error: the pipeline file must be inside "
                                 "the project directory"),
              std::string::npos)
        << r.diagnostics;
  }
  r = Load("job:\n  script: x\n", "../" + fs::path(outside_).filename().string() + "/secret.yml");
  EXPECT_NE(r.diagnostics.find("error: the pipeline file must be inside the project directory"),
            std::string::npos)
      << r.diagnostics;
}

INSTANTIATE_TEST_SUITE_P(DiskAndCommit, LoaderLinksTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "AtCommit" : "OnDisk";
                         });

}  // namespace
}  // namespace slipway
