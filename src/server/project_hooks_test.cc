// Outgoing project hooks below the server: pipeline and job status changes
// in a real store (SQLite, PostgreSQL) reach a local HTTP server (a python
// script standing in for the receiver) as GitLab's "Pipeline Hook" and "Job
// Hook" deliveries; a hook gets only the events it asked for, with its
// token in X-Gitlab-Token. Also the badge and the hooks API.
#include "server/project_hooks.h"

#include <gtest/gtest.h>

#include "server/api.h"
#include "server/test_http_recorder.h"
#include "store/delivery_claims.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

using nlohmann::json;

class ProjectHooksTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    // The first request to /flaky is answered 502.
    receiver_ = std::make_unique<TestHttpRecorder>("", "/flaky");
    project_ = AddTestProject(store_.get(), "group/app");
  }
  void AddHook(const std::string& path, const std::string& token, bool pipeline, bool job) {
    ProjectHookRecord h;
    h.project_id = project_;
    h.url = receiver_->Url(path);
    h.token = token;
    h.pipeline_events = pipeline;
    h.job_events = job;
    ASSERT_TRUE(store_->CreateProjectHook(h).ok());
  }
  std::vector<json> Received(const std::string& path, const std::string& event) {
    std::vector<json> out;
    for (json r : receiver_->Requests()) {
      if (r["path"] == path && r["headers"].value("x-gitlab-event", "") == event) {
        r["payload"] = json::parse(r["body"].get<std::string>());
        out.push_back(r);
      }
    }
    return out;
  }
  bool HasPipelineStatus(const std::string& path, const std::string& status) {
    for (const json& r : Received(path, "Pipeline Hook")) {
      if (r["payload"]["object_attributes"]["status"] == status) return true;
    }
    return false;
  }

  std::unique_ptr<TestHttpRecorder> receiver_;
  int64_t project_ = 0;
};

TEST_P(ProjectHooksTest, PipelineAndJobHooksInGitLabsShape) {
  AddHook("/both", "hook-secret", true, true);
  AddHook("/flaky", "", true, false);
  ProjectHookOptions options;
  options.base_url = "http://ci.example";
  options.scan_interval = std::chrono::milliseconds(20);
  options.retry.first_retry = std::chrono::milliseconds(10);
  options.clock = &clock_;
  ProjectHookPublisher publisher(store_.get(), options, NowMs());

  PipelineRecord p;
  p.project_id = project_;
  p.ref = "main";
  p.sha = std::string(40, 'a');
  p.source = "push";
  JobRecord build;
  build.name = "build";
  build.stage = "build";
  auto created = store_->CreatePipeline(p, {build});
  ASSERT_TRUE(created.ok()) << created.status().message();
  ASSERT_TRUE(WaitFor([&] { return HasPipelineStatus("/both", "created"); }));
  JobFilter filter;
  filter.pipeline_id = created->id;
  auto jobs = store_->ListJobs(filter);
  ASSERT_TRUE(jobs.ok() && jobs->items.size() == 1);
  int64_t job_id = jobs->items[0].id;
  JobUpdate pending;
  pending.status = CiStatus::kPending;
  ASSERT_TRUE(store_->UpdateJob(job_id, pending).ok());
  JobUpdate running;
  running.status = CiStatus::kRunning;
  auto started = store_->UpdateJob(job_id, running);
  ASSERT_TRUE(started.ok()) << started.status().message();
  ASSERT_TRUE(store_->UpdatePipelineStatus(created->id, CiStatus::kRunning).ok());
  JobUpdate failed;
  failed.status = CiStatus::kFailed;
  failed.failure_reason = "script_failure";
  ASSERT_TRUE(WaitFor([&] { return HasPipelineStatus("/both", "running"); }));
  ASSERT_TRUE(store_->UpdateJob(job_id, failed).ok());
  ASSERT_TRUE(store_->UpdatePipelineStatus(created->id, CiStatus::kFailed).ok());
  // Pipeline and job hooks are delivered independently: wait for both.
  auto last_job_status = [&] {
    std::vector<json> hooks = Received("/both", "Job Hook");
    return hooks.empty() ? json() : hooks.back()["payload"]["build_status"];
  };
  ASSERT_TRUE(WaitFor([&] {
    return HasPipelineStatus("/both", "failed") && HasPipelineStatus("/flaky", "failed") &&
           last_job_status() == "failed";
  }));

  std::vector<json> pipelines = Received("/both", "Pipeline Hook");
  const json& last = pipelines.back();
  EXPECT_EQ(last["headers"]["x-gitlab-token"], "hook-secret");
  EXPECT_EQ(last["headers"]["content-type"], "application/json");
  EXPECT_FALSE(last["headers"].value("x-gitlab-event-uuid", "").empty());
  const json& payload = last["payload"];
  EXPECT_EQ(payload["object_kind"], "pipeline");
  EXPECT_EQ(payload["object_attributes"]["id"], created->id);
  EXPECT_EQ(payload["object_attributes"]["ref"], "main");
  EXPECT_EQ(payload["object_attributes"]["sha"], p.sha);
  EXPECT_EQ(payload["object_attributes"]["source"], "push");
  EXPECT_EQ(payload["object_attributes"]["stages"], json::array({"build"}));
  EXPECT_EQ(payload["object_attributes"]["url"],
            "http://ci.example/group/app/-/pipelines/" + std::to_string(created->id));
  EXPECT_EQ(payload["project"]["path_with_namespace"], "group/app");
  ASSERT_EQ(payload["builds"].size(), 1u);
  EXPECT_EQ(payload["builds"][0]["name"], "build");
  EXPECT_EQ(payload["builds"][0]["status"], "failed");
  EXPECT_EQ(payload["builds"][0]["failure_reason"], "script_failure");

  std::vector<json> job_hooks = Received("/both", "Job Hook");
  ASSERT_FALSE(job_hooks.empty());
  std::vector<std::string> job_statuses;
  for (const json& r : job_hooks) job_statuses.push_back(r["payload"]["build_status"]);
  EXPECT_EQ(job_statuses.back(), "failed");
  const json& job = job_hooks.back()["payload"];
  EXPECT_EQ(job["object_kind"], "build");
  EXPECT_EQ(job["build_id"], job_id);
  EXPECT_EQ(job["build_name"], "build");
  EXPECT_EQ(job["build_stage"], "build");
  EXPECT_EQ(job["build_failure_reason"], "script_failure");
  EXPECT_EQ(job["pipeline_id"], created->id);
  EXPECT_EQ(job["project_id"], project_);
  // The hook without job_events gets none, and no token header without a
  // token; its first delivery failed and came again.
  EXPECT_TRUE(Received("/flaky", "Job Hook").empty());
  for (const json& r : Received("/flaky", "Pipeline Hook")) {
    EXPECT_FALSE(r["headers"].contains("x-gitlab-token"));
  }
  EXPECT_GE(publisher.counts().retried, 1);
}

// A server claimed an event (store/delivery_claims.h) and died before
// sending it: once its claim's lease ended, a publisher on another server
// sends it, with the payload it was claimed with, once.
TEST_P(ProjectHooksTest, AnEventADeadServerClaimedIsSentByAnother) {
  AddHook("/both", "hook-secret", true, true);
  DeliveryClaim claim;
  claim.publisher = "project_hook";
  claim.subject = "job:40";
  claim.state = "success";
  claim.version = 1;
  claim.project_id = project_;
  claim.payload = R"({"object_kind":"build","build_id":40,"build_status":"success"})";
  ASSERT_TRUE(*DeliveryClaimsOf(store_.get())->ClaimDelivery(claim, "dead/1", NowMs() - 1));
  ProjectHookOptions options;
  options.scan_interval = std::chrono::milliseconds(20);
  options.clock = &clock_;
  ProjectHookPublisher publisher(store_.get(), options, NowMs());
  auto sent = [&] {
    int n = 0;
    for (const json& r : Received("/both", "Job Hook")) n += r["payload"]["build_id"] == 40;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return sent() > 0; }));
  // Later events pass through while the publisher scans on: the taken-over
  // one is not sent again.
  PipelineRecord p;
  p.project_id = project_;
  p.ref = "main";
  p.sha = std::string(40, 'b');
  JobRecord build;
  build.name = "build";
  ASSERT_TRUE(store_->CreatePipeline(p, {build}).ok());
  ASSERT_TRUE(WaitFor([&] { return HasPipelineStatus("/both", "created"); }));
  EXPECT_EQ(sent(), 1);
  std::vector<json> hooks = Received("/both", "Job Hook");
  EXPECT_EQ(hooks[0]["headers"]["x-gitlab-token"], "hook-secret");
  EXPECT_EQ(hooks[0]["payload"]["build_status"], "success");
}

class ProjectHooksApiTest : public ProjectHooksTest {
 protected:
  HttpResponse Call(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    HttpRequest req;
    req.method = method;
    ParseTarget(target, &req);
    req.headers["host"] = "ci.example";
    req.headers["private-token"] = admin_;
    if (!body.empty()) req.headers["content-type"] = "application/json";
    req.body = body;
    return api_->Handle(req);
  }
  void SetUp() override {
    ProjectHooksTest::SetUp();
    if (IsSkipped()) return;
    auto token = store_->CreateToken("admin", TokenRole::kAdmin);
    ASSERT_TRUE(token.ok());
    admin_ = token->raw;
    api_ = std::make_unique<Api>(store_.get(), nullptr, &hub_);
  }
  std::string admin_;
  LogHub hub_;
  std::unique_ptr<Api> api_;
};

TEST_P(ProjectHooksApiTest, CreateListGetDeleteNeverShowingTheToken) {
  std::string base = "/api/v4/projects/" + std::to_string(project_) + "/hooks";
  HttpResponse created = Call("POST", base,
                              R"({"url":"https://hooks.example/in","token":"tok-123",)"
                              R"("pipeline_events":true,"job_events":"false"})");
  ASSERT_EQ(created.status, 201) << created.body;
  json hook = json::parse(created.body);
  EXPECT_EQ(hook["url"], "https://hooks.example/in");
  EXPECT_EQ(hook["pipeline_events"], true);
  EXPECT_EQ(hook["job_events"], false);
  EXPECT_EQ(created.body.find("tok-123"), std::string::npos);
  std::string one = base + "/" + std::to_string(hook["id"].get<int64_t>());
  HttpResponse list = Call("GET", base);
  EXPECT_EQ(json::parse(list.body).size(), 1u);
  EXPECT_EQ(list.body.find("tok-123"), std::string::npos);
  EXPECT_EQ(Call("GET", one).status, 200);
  EXPECT_EQ(Call("POST", base, R"({"url":"file:///etc/passwd"})").status, 400);
  EXPECT_EQ(Call("POST", base, R"({"url":"https://x.example","job_events":"maybe"})").status, 400);
  EXPECT_EQ(Call("DELETE", one).status, 204);
  EXPECT_EQ(Call("GET", one).status, 404);
}

TEST_P(ProjectHooksApiTest, BadgeSaysTheLatestStatusAndNothingElse) {
  PipelineRecord p;
  p.project_id = project_;
  p.ref = "main";
  p.sha = std::string(40, 'b');
  p.source = "push";
  auto created = store_->CreatePipeline(p, {});
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(store_->UpdatePipelineStatus(created->id, CiStatus::kSuccess).ok());
  HttpRequest req;
  req.method = "GET";
  ParseTarget("/group/app/-/badges/main/pipeline.svg", &req);
  req.headers["host"] = "ci.example";
  HttpResponse badge = api_->Handle(req);  // No token.
  EXPECT_EQ(badge.status, 200);
  ASSERT_NE(badge.FindHeader("content-type"), nullptr);
  EXPECT_EQ(*badge.FindHeader("content-type"), "image/svg+xml");
  EXPECT_NE(badge.body.find(">passed</text>"), std::string::npos) << badge.body;
  // An unknown ref, an unknown project: the same "unknown" badge.
  ParseTarget("/group/app/badges/nope/pipeline.svg", &req);
  std::string unknown_ref = api_->Handle(req).body;
  ParseTarget("/group/nothing/-/badges/main/pipeline.svg", &req);
  std::string unknown_project = api_->Handle(req).body;
  EXPECT_NE(unknown_ref.find(">unknown</text>"), std::string::npos);
  EXPECT_EQ(unknown_ref, unknown_project);
}

SLIPWAY_STORE_TEST_SUITE(ProjectHooksTest);
SLIPWAY_STORE_TEST_SUITE(ProjectHooksApiTest);

}  // namespace
}  // namespace slipway
