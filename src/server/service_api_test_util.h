// Test helper (header-only, tests only): the API over a real
// PipelineService that runs the project's jobs with bash, real git and a
// real SQLite store, in a temporary data directory holding a stand-in for
// the server's database that jobs try to reach through their artifacts.
#ifndef SLIPWAY_SERVER_SERVICE_API_TEST_UTIL_H_
#define SLIPWAY_SERVER_SERVICE_API_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "server/api_test_util.h"
#include "server/pipeline_service.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {

class ServiceApiTest : public ApiTestBase {
 protected:
  void SetUp() override {
    ApiTestBase::SetUp();
    char tmpl[] = "/tmp/slipway-artifacts-api-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    work_dir_ = tmpl;
    data_dir_ = work_dir_ + "/data";
    ServiceOptions options;
    options.data_dir = data_dir_;
    options.jobs_per_pipeline = 2;
    auto service = PipelineService::Create(store_.get(), &hub_, options);
    ASSERT_TRUE(service.ok()) << service.status().message();
    service_ = std::move(*service);
    ASSERT_TRUE(service_->Start().ok());
    api_ = std::make_unique<Api>(store_.get(), service_.get(), &hub_);
    // What a job must never read through the API: the server's database.
    db_ = data_dir_ + "/slipway.db";
    std::ofstream(db_) << "SQLite format 3 secret rows";
    repo_.Write(".gitlab-ci.yml", CiYaml());
    repo_.Commit("artifacts");
    ProjectRecord project;
    project.name = "arts";
    project.path_with_namespace = "group/arts";
    project.repo_url = repo_.dir();
    auto created = store_->CreateProject(project);
    ASSERT_TRUE(created.ok()) << created.status().message();
    arts_ = created->id;
  }
  // The project's .gitlab-ci.yml; its jobs see $DB (the server's database
  // file, to try to reach) and $FAIL (set when Run is asked to fail).
  virtual std::string CiYaml() = 0;
  void TearDown() override {
    api_.reset();
    service_.reset();
    std::error_code ec;
    std::filesystem::remove_all(work_dir_, ec);
  }

  // Runs a pipeline of the project on main; returns its first job.
  JobRecord Run(bool fail = false) {
    CreatePipelineRequest request;
    request.project_id = arts_;
    request.variables = {{"DB", db_}};
    if (fail) request.variables.push_back({"FAIL", "1"});
    auto created = service_->CreatePipeline(request);
    EXPECT_TRUE(created.ok()) << created.status().message();
    if (!created.ok()) return {};
    EXPECT_TRUE(WaitFor([&] {
      auto p = store_->GetPipeline(created->id);
      return p.ok() && *p && !IsActive((*p)->status) && service_->Stats().running_pipelines == 0;
    }));
    JobFilter filter;
    filter.pipeline_id = created->id;
    auto jobs = store_->ListJobs(filter);
    EXPECT_TRUE(jobs.ok() && !jobs->items.empty());
    return jobs.ok() && !jobs->items.empty() ? jobs->items[0] : JobRecord();
  }
  std::string Project() { return "/api/v4/projects/" + std::to_string(arts_); }
  std::string Job(const JobRecord& job) { return Project() + "/jobs/" + std::to_string(job.id); }
  // The bytes a response serves (a single file is served from its path).
  std::string Served(const HttpResponse& r) {
    if (r.file_path.empty()) return r.body;
    std::ifstream in(r.file_path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string work_dir_, data_dir_, db_;
  int64_t arts_ = 0;
  TestRepo repo_;
  std::unique_ptr<PipelineService> service_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_SERVICE_API_TEST_UTIL_H_
