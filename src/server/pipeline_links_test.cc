// A pushed symbolic link must not let a server pipeline read a file outside
// the repository: the server reads the pipeline's files from the commit's
// git objects, where a link is only the name of its target. Real git
// repositories, real files outside them, the real PipelineService and store.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/pipeline_service.h"
#include "store/store_test_backend.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

class PipelineLinksTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ServiceOptions options;
    options.data_dir = data_.dir();
    auto service = PipelineService::Create(store_.get(), &hub_, options);
    ASSERT_TRUE(service.ok()) << service.status().message();
    service_ = std::move(*service);  // Not started: creating needs no worker.
    ProjectRecord project;
    project.name = "app";
    project.path_with_namespace = "group/app";
    project.repo_url = repo_.dir();
    auto created = store_->CreateProject(project);
    ASSERT_TRUE(created.ok()) << created.status().message();
    project_id_ = created->id;
  }
  void TearDown() override {
    service_.reset();
    StoreTest::TearDown();
  }

  PipelineRecord Create() {
    CreatePipelineRequest request;
    request.project_id = project_id_;
    auto created = service_->CreatePipeline(request);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : PipelineRecord{};
  }

  std::vector<std::string> JobNames(int64_t pipeline_id) {
    JobFilter filter;
    filter.pipeline_id = pipeline_id;
    auto page = store_->ListJobs(filter);
    EXPECT_TRUE(page.ok());
    std::vector<std::string> names;
    if (page.ok()) {
      for (const JobRecord& job : page->items) names.push_back(job.name);
    }
    return names;
  }

  TestRepo data_{false};
  TestRepo outside_{false};
  TestRepo repo_;
  LogHub hub_;
  std::unique_ptr<PipelineService> service_;
  int64_t project_id_ = 0;
};

TEST_P(PipelineLinksTest, CommittedLinksPutNothingFromOutsideInYamlErrors) {
  // Read through a link, this would fail with errors that name its keys.
  std::ofstream(outside_.dir() + "/secret.yml") << "server_secret_key:\n  image: leaked_value\n";
  fs::create_directories(repo_.dir() + "/ci");
  fs::create_directories(repo_.dir() + "/wild");
  fs::create_symlink(outside_.dir() + "/secret.yml", repo_.dir() + "/ci/evil.yml");
  fs::create_symlink(outside_.dir(), repo_.dir() + "/linked");
  fs::create_symlink(outside_.dir(), repo_.dir() + "/wild/sub");
  repo_.Write(".gitlab-ci.yml",
              "include:\n"
              "  - local: ci/evil.yml\n"
              "  - local: linked/secret.yml\n"
              "  - local: 'wild/**.yml'\n"
              "job:\n  script: x\n");
  repo_.Commit("links");
  PipelineRecord created = Create();
  EXPECT_EQ(created.status, CiStatus::kFailed);
  EXPECT_EQ(created.yaml_errors.find("server_secret_key"), std::string::npos)
      << created.yaml_errors;
  EXPECT_EQ(created.yaml_errors.find("leaked_value"), std::string::npos) << created.yaml_errors;
  EXPECT_EQ(created.yaml_errors,
            ".gitlab-ci.yml:2:5: error: `ci/evil.yml`: Invalid configuration format "
            "(`ci/evil.yml` is a symbolic link to `" +
                outside_.dir() +
                "/secret.yml`: GitLab "
                "does not follow symbolic links in the repository)\n"
                ".gitlab-ci.yml:3:5: error: Local file `linked/secret.yml` does not exist! "
                "(`linked` is a symbolic link to `" +
                outside_.dir() +
                "`: GitLab does not follow "
                "symbolic links in the repository)");
  EXPECT_TRUE(JobNames(created.id).empty());
}

// The checkout's files are not what is read: git's `ident` attribute
// rewrites `$Id$` when checking out, and the commit's blob keeps it.
TEST_P(PipelineLinksTest, ThePipelineFileIsReadFromTheCommitsObjects) {
  repo_.Write(".gitattributes", "*.yml ident\n");
  repo_.Write(".gitlab-ci.yml", "'$Id$':\n  script: x\n");
  repo_.Commit("ident");
  PipelineRecord created = Create();
  EXPECT_EQ(created.yaml_errors, "");
  EXPECT_EQ(JobNames(created.id), std::vector<std::string>{"$Id$"});
}

SLIPWAY_STORE_TEST_SUITE(PipelineLinksTest);

}  // namespace
}  // namespace slipway
