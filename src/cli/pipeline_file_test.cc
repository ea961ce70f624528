// `-f FILE` as lint, list, config and run load it (LoadPipelineFromOptions): the file
// must be inside the project directory once links are resolved, with and
// without --ref; and a job's rules:exists does not look through links.
// Real git repositories, real files outside them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/common.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

class PipelineFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    outside_ = fs::canonical(outside_dir_.dir()).string();
    root_ = fs::canonical(repo_.dir()).string();
    std::ofstream(outside_ + "/outside.yml") << "leaked_job:\n  script: echo leaked\n";
    repo_.Write(".gitlab-ci.yml", "job:\n  script: x\n");
    fs::create_symlink(outside_ + "/outside.yml", repo_.dir() + "/link.yml");
    fs::create_symlink(outside_, repo_.dir() + "/linked");
    repo_.Commit("links", "top.txt");
  }

  // Loads with -C repo -f file [--ref ref]; returns the diagnostics.
  std::string Load(const std::string& file, const std::string& ref = "") {
    PipelineOptions options;
    options.project_dir = repo_.dir();
    options.file = file;
    options.ref = ref;
    Diagnostics diags;
    std::optional<LoadedPipeline> loaded = LoadPipelineFromOptions(options, &diags);
    std::string text = diags.FormatAll();
    EXPECT_EQ(text.find("leaked"), std::string::npos) << text;
    if (loaded) {
      EXPECT_EQ(loaded->root.Find("leaked_job"), nullptr) << file;
      EXPECT_NE(loaded->root.Find("job"), nullptr) << file;
    }
    return text;
  }

  std::string Outside(const std::string& file) const {
    return "error: the pipeline file must be inside the project directory " + root_ +
           ", and this one leads to " + outside_ + "/" + file + "\n";
  }

  TestRepo outside_dir_{false};
  std::string outside_;
  TestRepo repo_;
  std::string root_;
};

TEST_F(PipelineFileTest, FileOutsideTheProjectIsAnError) {
  std::string up = "../" + fs::path(outside_).filename().string() + "/outside.yml";
  EXPECT_EQ(Load(up), up + ": " + Outside("outside.yml"));
  EXPECT_EQ(Load(outside_ + "/outside.yml"), outside_ + "/outside.yml: " + Outside("outside.yml"));
  EXPECT_EQ(Load(up, "HEAD"), "HEAD:" + up +
                                  ": error: the pipeline file must be inside the project "
                                  "directory " +
                                  repo_.dir() + "\n");
}

TEST_F(PipelineFileTest, FileThroughALinkToOutsideIsAnError) {
  EXPECT_EQ(Load("link.yml"), "link.yml: " + Outside("outside.yml"));
  EXPECT_EQ(Load("linked/outside.yml"), "linked/outside.yml: " + Outside("outside.yml"));
  // In the commit the link is a link, and is not followed either.
  EXPECT_EQ(
      Load("link.yml", "HEAD"),
      "HEAD:link.yml: error: Invalid configuration format (`link.yml` is a symbolic link to `" +
          outside_ +
          "/outside.yml`: GitLab does not follow symbolic links in the "
          "repository)\n");
}

TEST_F(PipelineFileTest, FileInsideLoads) {
  EXPECT_EQ(Load(".gitlab-ci.yml"), "");
  EXPECT_EQ(Load(repo_.dir() + "/.gitlab-ci.yml"), "");
  EXPECT_EQ(Load(".gitlab-ci.yml", "HEAD"), "");
}

TEST_F(PipelineFileTest, JobRulesExistsDoesNotLookThroughLinks) {
  repo_.Write(".gitlab-ci.yml",
              "leak:\n  script: x\n  rules:\n    - exists: [linked/outside.yml, 'linked/*']\n"
              "job:\n  script: x\n");
  repo_.Commit("exists");
  for (const std::string& ref : {std::string(), std::string("HEAD")}) {
    PipelineOptions options;
    options.project_dir = repo_.dir();
    options.ref = ref;
    Diagnostics diags;
    std::optional<LoadedPipeline> loaded = LoadPipelineFromOptions(options, &diags);
    ASSERT_TRUE(loaded) << diags.FormatAll();
    std::optional<Pipeline> pipeline = InstantiatePipeline(loaded->config, loaded->context, &diags);
    ASSERT_TRUE(pipeline) << diags.FormatAll();
    EXPECT_EQ(pipeline->FindJob("leak"), nullptr) << ref;
    EXPECT_NE(pipeline->FindJob("job"), nullptr) << ref;
  }
}

}  // namespace
}  // namespace slipway
