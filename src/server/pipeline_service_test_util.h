// The fixture of the PipelineService tests (pipeline_service_test.cc,
// pipeline_service_actions_test.cc): a service on real git repositories, real
// SQLite/PostgreSQL and real bash jobs. Tests wait for the service's worker
// threads by polling the store (the condition, not the time, decides; the
// bound only stops a hung test).
#ifndef SLIPWAY_SERVER_PIPELINE_SERVICE_TEST_UTIL_H_
#define SLIPWAY_SERVER_PIPELINE_SERVICE_TEST_UTIL_H_

#include "server/pipeline_service.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "server/gitlab_json.h"
#include "store/store_test_backend.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs against SQLite and, when SLIPWAY_TEST_POSTGRES_URL is set, PostgreSQL
// (the store's clock is the fixture's fixed one; the service's is real).
class PipelineServiceTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string tmpl = (std::filesystem::temp_directory_path() / "slipway-service-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    work_dir_ = tmpl;
    data_dir_ = work_dir_ + "/data";
    OpenService();
  }
  void TearDown() override {
    service_.reset();
    std::error_code ec;
    if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_, ec);
    StoreTest::TearDown();
  }

  // A new service on a new connection to the same database (a restart).
  void OpenService(bool start = true) {
    service_.reset();
    Reopen();
    ServiceOptions options;
    options.data_dir = data_dir_;
    options.jobs_per_pipeline = 2;
    if (configure_) configure_(&options);
    auto service = PipelineService::Create(store_.get(), &hub_, options);
    ASSERT_TRUE(service.ok()) << service.status().message();
    service_ = std::move(*service);
    if (start) {
      Status s = service_->Start();
      ASSERT_TRUE(s.ok()) << s.message();
    }
  }

  int64_t AddProject(const std::string& path = "group/app") {
    ProjectRecord p;
    p.name = "app";
    p.path_with_namespace = path;
    p.repo_url = repo_.dir();
    auto created = store_->CreateProject(p);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }

  PipelineRecord WaitDone(int64_t pipeline_id) {
    PipelineRecord last;
    bool done = WaitFor([&] {
      auto p = store_->GetPipeline(pipeline_id);
      if (!p.ok() || !*p) return false;
      last = **p;
      return !IsActive(last.status);
    });
    EXPECT_TRUE(done) << "pipeline " << pipeline_id << " still " << CiStatusName(last.status);
    // The worker may still be writing the last rows; wait until it let go.
    WaitFor([&] { return service_->Stats().running_pipelines == 0; });
    auto p = store_->GetPipeline(pipeline_id);
    return p.ok() && *p ? **p : last;
  }

  // Creates a pipeline of the project's default branch and waits for it.
  PipelineRecord RunPipeline(int64_t project) {
    CreatePipelineRequest request;
    request.project_id = project;
    auto created = service_->CreatePipeline(request);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? WaitDone(created->id) : PipelineRecord();
  }

  std::map<std::string, JobRecord> Jobs(int64_t pipeline_id, bool include_retried = false) {
    JobFilter filter;
    filter.pipeline_id = pipeline_id;
    filter.include_retried = include_retried;
    filter.per_page = 100;
    auto page = store_->ListJobs(filter);
    EXPECT_TRUE(page.ok());
    std::map<std::string, JobRecord> out;
    for (const JobRecord& j : page->items) {
      std::string key = j.name;
      if (include_retried) key += "#" + std::to_string(j.retry_count);
      out[key] = j;
    }
    return out;
  }

  std::string Log(int64_t job_id) {
    auto slice = store_->ReadLog(job_id, 0, 1 << 20);
    EXPECT_TRUE(slice.ok());
    return slice.ok() ? slice->bytes : "";
  }

  std::string work_dir_;  // Work directory: data dir, gates, marks.
  std::string data_dir_;
  TestRepo repo_;
  LogHub hub_;
  std::unique_ptr<PipelineService> service_;
  // Changes the options of the services OpenService makes.
  std::function<void(ServiceOptions*)> configure_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_PIPELINE_SERVICE_TEST_UTIL_H_
