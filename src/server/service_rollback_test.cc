// Deployment checks and rollback through the server, end to end with real
// git and bash: a deploy whose checks fail rolls its environment back to the
// last successful deployment by retrying that deployment's job (nothing is
// rebuilt), once, and a person can roll back through the API.
#include <gtest/gtest.h>

#include <fstream>

#include "server/api.h"
#include "server/pipeline_service_test_util.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

class ServiceRollbackTest : public PipelineServiceTest {
 protected:
  void SetUp() override {
    PipelineServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    target_ = work_dir_ + "/target";
    std::filesystem::create_directories(target_);
    configure_ = [this](ServiceOptions* options) {
      options->on_automatic_rollback = [this](const DeploymentRecord& failed,
                                              const DeploymentRecord& rollback) {
        std::lock_guard<std::mutex> lock(mu_);
        told_.push_back({failed.id, rollback.id});
      };
    };
    OpenService();
  }

  // A build job making the versioned artifact, a deploy job installing it
  // in target_; the check wants the installed version not to be "bad".
  void CommitVersion(const std::string& version) {
    repo_.Write(".gitlab-ci.yml", R"yaml(
build:
  stage: build
  script:
    - mkdir -p out && echo )yaml" + version +
                                      R"yaml( > out/version
    - echo built )yaml" + version + R"yaml( >> )yaml" +
                                      target_ + R"yaml(/builds
  artifacts:
    paths: [out/]
deploy:
  stage: deploy
  script: cp out/version )yaml" + target_ +
                                      R"yaml(/current
  environment: production
.slipway:
  environments:
    production:
      checks:
        - name: served
          command: test "$(cat )yaml" +
                                      target_ + R"yaml(/current)" != bad -a ! -e )yaml" + target_ +
                                      R"yaml(/broken
      rollback:
        automatic: true
)yaml");
    repo_.Commit(version);
  }

  std::vector<DeploymentRecord> Deployments(int64_t project) {
    DeploymentFilter filter;
    filter.project_id = project;
    auto page = store_->ListDeployments(filter);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->items : std::vector<DeploymentRecord>();
  }

  // Waits until the project has n deployments, the last one finished.
  std::vector<DeploymentRecord> WaitDeployments(int64_t project, size_t n) {
    std::vector<DeploymentRecord> seen;
    EXPECT_TRUE(WaitFor([&] {
      seen = Deployments(project);
      return seen.size() == n && seen.back().finished_at.has_value();
    })) << seen.size();
    WaitFor([&] { return service_->Stats().running_pipelines == 0; });
    return Deployments(project);
  }

  std::string Current() { return ReadAll(target_ + "/current"); }

  std::string target_;
  std::mutex mu_;
  std::vector<std::pair<int64_t, int64_t>> told_;  // GUARDED_BY(mu_)
};

// The project's incidents, oldest first, once there are n of them.
std::vector<IncidentRecord> WaitIncidents(Store* store, int64_t project, size_t n) {
  std::vector<IncidentRecord> incidents;
  WaitFor([&] {
    IncidentFilter filter;
    filter.project_id = project;
    filter.order_by = "iid";
    filter.sort = "asc";
    auto page = store->ListIncidents(filter);
    if (page.ok()) incidents = page->items;
    return incidents.size() >= n;
  });
  return incidents;
}

TEST_P(ServiceRollbackTest, FailedChecksRollBackToTheLastSuccessfulDeploymentOnce) {
  int64_t project = AddProject();
  CommitVersion("v1");
  PipelineRecord v1 = RunPipeline(project);
  ASSERT_EQ(v1.status, CiStatus::kSuccess) << Log(Jobs(v1.id).at("deploy").id);
  EXPECT_EQ(Current(), "v1\n");

  CommitVersion("bad");
  PipelineRecord v2 = RunPipeline(project);
  EXPECT_EQ(v2.status, CiStatus::kFailed);
  std::vector<DeploymentRecord> d = WaitDeployments(project, 3);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].status, "success");
  EXPECT_EQ(d[1].status, "failed");
  EXPECT_EQ(d[2].status, "success");
  EXPECT_EQ(d[2].rollback_of, d[1].id);
  EXPECT_EQ(d[2].pipeline_id, v1.id);
  EXPECT_EQ(d[2].sha, d[0].sha);
  EXPECT_EQ(Current(), "v1\n");
  // v1 was not built again: its stored artifacts were deployed.
  EXPECT_EQ(ReadAll(target_ + "/builds"), "built v1\nbuilt bad\n");
  // The failed pipeline stays failed; its deploy says what failed and what
  // happened next.
  EXPECT_EQ(store_->GetPipeline(v2.id).value()->status, CiStatus::kFailed);
  std::string log = Log(d[1].job_id.value());
  EXPECT_NE(log.find("ERROR: Job failed: deployment check 'served' did not pass"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("Automatic rollback: redeploying deployment #1"), std::string::npos) << log;
  nlohmann::json checks = nlohmann::json::parse(d[1].checks);
  EXPECT_EQ(checks[0]["name"], "served");
  EXPECT_EQ(checks[0]["outcome"], "fail");
  EXPECT_EQ(checks[0]["message"], "exit code 1");
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_EQ(told_.size(), 1u);
    EXPECT_EQ(told_[0], std::make_pair(d[1].id, d[2].id));
  }
  // The rollback opened an incident linked to the deployment that failed.
  std::vector<IncidentRecord> incidents = WaitIncidents(store_.get(), project, 1);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].deployment_id, d[1].id);
  EXPECT_EQ(incidents[0].source, "rollback");
  EXPECT_EQ(incidents[0].status, "open");
  EXPECT_EQ(incidents[0].title, "deployment #2 (" + d[1].sha.substr(0, 8) +
                                    ") failed its checks; rolled back to deployment #1 (" +
                                    d[0].sha.substr(0, 8) + ")");

  // When the rollback fails too, it stops there: no rollback of a rollback.
  std::ofstream(target_ + "/broken") << "";
  PipelineRecord v3 = RunPipeline(project);
  EXPECT_EQ(v3.status, CiStatus::kFailed);
  d = WaitDeployments(project, 5);
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(d[3].status, "failed");
  EXPECT_EQ(d[4].status, "failed");
  EXPECT_EQ(d[4].rollback_of, d[3].id);
  EXPECT_NE(Log(d[4].job_id.value())
                .find("Automatic rollback: not attempted, this deployment was itself a rollback"),
            std::string::npos);
  EXPECT_EQ(Deployments(project).size(), 5u);
  // One incident for v3's rollback, one for that rollback failing.
  incidents = WaitIncidents(store_.get(), project, 3);
  ASSERT_EQ(incidents.size(), 3u);
  EXPECT_EQ(incidents[1].deployment_id, d[3].id);
  EXPECT_EQ(incidents[2].deployment_id, d[4].id);
  EXPECT_NE(incidents[2].title.find("failed; nothing more is rolled back"), std::string::npos)
      << incidents[2].title;
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(told_.size(), 2u);
}

TEST_P(ServiceRollbackTest, APersonRollsBackToAnEarlierSuccessfulDeploymentThroughTheApi) {
  int64_t project = AddProject();
  CommitVersion("v1");
  ASSERT_EQ(RunPipeline(project).status, CiStatus::kSuccess);
  CommitVersion("v2");
  ASSERT_EQ(RunPipeline(project).status, CiStatus::kSuccess);
  EXPECT_EQ(Current(), "v2\n");
  std::vector<DeploymentRecord> d = Deployments(project);
  ASSERT_EQ(d.size(), 2u);

  std::string token = store_->CreateToken("deployer", TokenRole::kRun)->raw;
  std::string reader = store_->CreateToken("reader", TokenRole::kRead)->raw;
  Api api(store_.get(), service_.get(), &hub_, ApiOptions());
  auto post = [&](const std::string& target, const std::string& as) {
    HttpRequest req;
    req.method = "POST";
    ParseTarget(target, &req);
    req.headers["host"] = "ci.example";
    req.headers["private-token"] = as;
    return api.Handle(req);
  };
  std::string base = "/api/v4/projects/" + std::to_string(project) + "/deployments/";
  EXPECT_EQ(post(base + std::to_string(d[0].id) + "/rollback", reader).status, 403);
  // Another project's deployment is not found through this one.
  int64_t other = AddProject("group/other");
  EXPECT_EQ(post("/api/v4/projects/" + std::to_string(other) + "/deployments/" +
                     std::to_string(d[0].id) + "/rollback",
                 token)
                .status,
            404);
  HttpResponse made = post(base + std::to_string(d[0].id) + "/rollback", token);
  ASSERT_EQ(made.status, 201) << made.body;
  nlohmann::json rollback = nlohmann::json::parse(made.body);
  EXPECT_EQ(rollback["rollback_of"], d[1].id);
  EXPECT_EQ(rollback["sha"], d[0].sha);
  d = WaitDeployments(project, 3);
  EXPECT_EQ(d[2].status, "success");
  EXPECT_EQ(Current(), "v1\n");
  EXPECT_EQ(ReadAll(target_ + "/builds"), "built v1\nbuilt v2\n");
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(told_.empty());  // Only automatic rollbacks are told.
  }
  // Only a successful deployment can be rolled back to.
  CommitVersion("bad");
  RunPipeline(project);
  d = WaitDeployments(project, 5);
  HttpResponse refused = post(base + std::to_string(d[3].id) + "/rollback", token);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("only a successful deployment"), std::string::npos) << refused.body;
}

SLIPWAY_STORE_TEST_SUITE(ServiceRollbackTest);

}  // namespace
}  // namespace slipway
