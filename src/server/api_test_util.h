// A real in-memory SQLite store with a project, tokens of each role, and
// pipelines built directly in the store, for the API's handler tests.
#ifndef SLIPWAY_SERVER_API_TEST_UTIL_H_
#define SLIPWAY_SERVER_API_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/api.h"
#include "server/log_hub.h"
#include "store/store.h"

namespace slipway {

class ApiTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.clock = &clock_;
    auto store = OpenStore("sqlite::memory:", options);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    admin_ = store_->CreateToken("admin-bot", TokenRole::kAdmin)->raw;
    run_ = store_->CreateToken("run-bot", TokenRole::kRun)->raw;
    read_ = store_->CreateToken("read-bot", TokenRole::kRead)->raw;
    ProjectRecord project;
    project.name = "app";
    project.path_with_namespace = "group/app";
    project.repo_url = "/srv/app.git";
    auto created = store_->CreateProject(project);
    ASSERT_TRUE(created.ok()) << created.status().message();
    project_id_ = created->id;
    ApiOptions api_options;
    api_options.clock = &clock_;
    api_ = std::make_unique<Api>(store_.get(), nullptr, &hub_, api_options);
  }

  HttpResponse Call(const std::string& method, const std::string& target, const std::string& token,
                    const std::string& body = "", std::map<std::string, std::string> headers = {}) {
    HttpRequest req;
    req.method = method;
    ParseTarget(target, &req);
    req.headers = std::move(headers);
    req.headers["host"] = "ci.example:8080";
    if (!token.empty()) req.headers["private-token"] = token;
    req.body = body;
    return api_->Handle(req);
  }

  nlohmann::json Json(const HttpResponse& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }

  std::string Header(const HttpResponse& r, const std::string& name) {
    const std::string* v = r.FindHeader(name);
    return v != nullptr ? *v : "<none>";
  }

  // A pipeline with jobs (name, stage, status), its status set as given.
  PipelineRecord AddPipeline(
      const std::string& ref, CiStatus status,
      const std::vector<std::tuple<std::string, std::string, CiStatus>>& jobs, bool tag = false) {
    PipelineRecord p;
    p.project_id = project_id_;
    p.ref = ref;
    p.tag = tag;
    p.sha = std::string(40, 'a');
    p.source = "push";
    std::vector<JobRecord> records;
    int stage_idx = 0;
    for (const auto& [name, stage, _] : jobs) {
      JobRecord j;
      j.name = name;
      j.stage = stage;
      j.stage_idx = stage_idx++;
      if (!records.empty()) j.needs = {records.back().name};
      records.push_back(j);
    }
    auto created = store_->CreatePipeline(p, records);
    EXPECT_TRUE(created.ok()) << created.status().message();
    JobFilter filter;
    filter.pipeline_id = created->id;
    filter.per_page = 100;
    auto listed = store_->ListJobs(filter);
    for (size_t i = 0; i < jobs.size(); ++i)
      SetJobStatus(listed->items[i].id, std::get<2>(jobs[i]));
    clock_.Advance(std::chrono::milliseconds(1000));
    if (status != CiStatus::kCreated) {
      if (IsFinished(status)) {
        EXPECT_TRUE(store_->UpdatePipelineStatus(created->id, CiStatus::kRunning).ok());
      }
      clock_.Advance(std::chrono::milliseconds(2000));
      EXPECT_TRUE(store_->UpdatePipelineStatus(created->id, status).ok());
    }
    return *store_->GetPipeline(created->id).value();
  }

  void SetJobStatus(int64_t id, CiStatus status) {
    std::vector<CiStatus> path;
    if (status == CiStatus::kPending) path = {CiStatus::kPending};
    if (status == CiStatus::kRunning) path = {CiStatus::kPending, CiStatus::kRunning};
    if (IsFinished(status)) path = {CiStatus::kPending, CiStatus::kRunning, status};
    if (status == CiStatus::kManual || status == CiStatus::kSkipped) path = {status};
    // Steps the job already took are skipped.
    CiStatus current = (*store_->GetJob(id))->status;
    auto at = std::find(path.begin(), path.end(), current);
    if (at != path.end()) path.erase(path.begin(), at + 1);
    for (CiStatus s : path) {
      JobUpdate update;
      update.status = s;
      if (s == CiStatus::kFailed) {
        update.exit_code = 1;
        update.failure_reason = "script_failure";
      }
      clock_.Advance(std::chrono::milliseconds(500));
      auto updated = store_->UpdateJob(id, update);
      EXPECT_TRUE(updated.ok()) << updated.status().message();
    }
  }

  std::vector<JobRecord> Jobs(int64_t pipeline_id) {
    JobFilter filter;
    filter.pipeline_id = pipeline_id;
    filter.include_retried = true;
    filter.per_page = 100;
    return store_->ListJobs(filter)->items;
  }

  // 2026-12-05T13:45:00.123Z
  FakeClock clock_{Clock::WallTime(std::chrono::milliseconds(1796478300123))};
  std::unique_ptr<Store> store_;
  LogHub hub_;
  std::unique_ptr<Api> api_;
  std::string admin_, run_, read_;
  int64_t project_id_ = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_API_TEST_UTIL_H_
