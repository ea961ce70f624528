// Includes that are not local in the server, with a real HTTPS server and
// real git mirrors: remote includes reach only what the operator allows,
// project includes only the server's projects of the same top-level group,
// and a pipeline's run reads what its creation fetched.
#include <gtest/gtest.h>

#include "server/pipeline_service_test_util.h"
#include "util/test_https_server.h"

namespace slipway {
namespace {

class ServiceIncludesTest : public PipelineServiceTest {
 protected:
  void SetUp() override {
    configure_ = [this](ServiceOptions* options) {
      options->includes.http.ca_file = https_.ca_file();
      options->include_networks = networks_;
    };
    PipelineServiceTest::SetUp();
  }

  PipelineRecord CreateAndWait(int64_t project) {
    CreatePipelineRequest request;
    request.project_id = project;
    auto created = service_->CreatePipeline(request);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? WaitDone(created->id) : PipelineRecord();
  }

  TestHttpsServer https_;
  std::vector<std::string> networks_;
};

// A remote include that resolves to the server's own loopback is refused
// (it could reach the server's API, a database, a cloud metadata service);
// the operator can allow a network by name.
TEST_P(ServiceIncludesTest, RemoteIncludesReachInternalAddressesOnlyWhereAllowed) {
  https_.Write("ci.yml", "remote-job:\n  script: echo from-remote\n");
  repo_.Write(".gitlab-ci.yml", "include:\n  - remote: " + https_.Url("/ci.yml") + "\n");
  repo_.Commit("remote include");
  int64_t project = AddProject();
  PipelineRecord refused = CreateAndWait(project);
  EXPECT_EQ(refused.status, CiStatus::kFailed);
  EXPECT_NE(refused.yaml_errors.find("127.0.0.1, an address this server does not fetch from"),
            std::string::npos)
      << refused.yaml_errors;
  EXPECT_EQ(https_.Requests(), "");

  networks_ = {"127.0.0.0/8"};
  OpenService();
  PipelineRecord allowed = CreateAndWait(project);
  EXPECT_EQ(allowed.status, CiStatus::kSuccess) << allowed.yaml_errors;
  std::map<std::string, JobRecord> jobs = Jobs(allowed.id);
  ASSERT_EQ(jobs.count("remote-job"), 1u);
  EXPECT_NE(Log(jobs.at("remote-job").id).find("from-remote"), std::string::npos);

  // The file changes on the server; the pipeline's retry still runs what
  // its creation read.
  https_.Write("ci.yml", "remote-job:\n  script: echo changed\n");
  auto retried = service_->RetryJob(jobs.at("remote-job").id);
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  WaitDone(allowed.id);
  std::string log = Log(Jobs(allowed.id).at("remote-job").id);
  EXPECT_NE(log.find("from-remote"), std::string::npos) << log;
  EXPECT_EQ(log.find("changed"), std::string::npos) << log;
}

// include:project reads the server's own projects of the same top-level
// group, from their mirrors; any other project is "not found or access
// denied", as GitLab words a project the pipeline may not read.
TEST_P(ServiceIncludesTest, ProjectIncludesReadTheServersProjectsOfTheSameGroup) {
  TestRepo templates;
  templates.Write("build.yml", "shared-build:\n  script: echo shared-template\n");
  templates.Commit("templates", "README");
  ProjectRecord ci;
  ci.name = "ci";
  ci.path_with_namespace = "group/ci";
  ci.repo_url = templates.dir();
  ASSERT_TRUE(store_->CreateProject(ci).ok());
  ProjectRecord other = ci;
  other.name = "other";
  other.path_with_namespace = "elsewhere/ci";
  ASSERT_TRUE(store_->CreateProject(other).ok());

  repo_.Write(".gitlab-ci.yml",
              "include:\n  - project: group/ci\n    ref: main\n    file: build.yml\n");
  repo_.Commit("project include");
  int64_t app = AddProject("group/app");
  PipelineRecord same_group = CreateAndWait(app);
  EXPECT_EQ(same_group.status, CiStatus::kSuccess) << same_group.yaml_errors;
  std::map<std::string, JobRecord> jobs = Jobs(same_group.id);
  ASSERT_EQ(jobs.count("shared-build"), 1u);
  EXPECT_NE(Log(jobs.at("shared-build").id).find("shared-template"), std::string::npos);

  repo_.Write(".gitlab-ci.yml",
              "include:\n  - project: elsewhere/ci\n    ref: main\n    file: build.yml\n");
  repo_.Commit("other group");
  PipelineRecord other_group = CreateAndWait(app);
  EXPECT_EQ(other_group.status, CiStatus::kFailed);
  EXPECT_NE(other_group.yaml_errors.find("not found or access denied"), std::string::npos)
      << other_group.yaml_errors;
  repo_.Write(".gitlab-ci.yml",
              "include:\n  - project: group/nothing\n    ref: main\n    file: build.yml\n");
  repo_.Commit("unknown project");
  PipelineRecord unknown = CreateAndWait(app);
  EXPECT_EQ(unknown.status, CiStatus::kFailed);
  EXPECT_NE(unknown.yaml_errors.find("not found or access denied"), std::string::npos)
      << unknown.yaml_errors;
}

SLIPWAY_STORE_TEST_SUITE(ServiceIncludesTest);

}  // namespace
}  // namespace slipway
