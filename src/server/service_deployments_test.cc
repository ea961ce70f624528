// Environments and deployments end to end: a pipeline's deploy jobs (real
// git, real bash) record their deployments, which GitLab's API lists.
#include <gtest/gtest.h>

#include "server/api.h"
#include "server/pipeline_service_test_util.h"

namespace slipway {
namespace {

class ServiceDeploymentsTest : public PipelineServiceTest {
 protected:
  nlohmann::json Get(const std::string& target) {
    if (!token_) token_ = store_->CreateToken("reader", TokenRole::kRead)->raw;
    Api api(store_.get(), service_.get(), &hub_, ApiOptions());
    HttpRequest req;
    req.method = "GET";
    ParseTarget(target, &req);
    req.headers["host"] = "ci.example";
    req.headers["private-token"] = *token_;
    HttpResponse response = api.Handle(req);
    EXPECT_EQ(response.status, 200) << target << ": " << response.body;
    return nlohmann::json::parse(response.body, nullptr, false);
  }
  std::optional<std::string> token_;
};

TEST_P(ServiceDeploymentsTest, DeployJobsRecordDeploymentsThatTheApiLists) {
  repo_.Write(".gitlab-ci.yml", R"yaml(
deploy-review:
  stage: deploy
  script: echo "to $CI_ENVIRONMENT_NAME ($CI_ENVIRONMENT_TIER)"
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    url: https://$CI_COMMIT_REF_SLUG.example.com
deploy-production:
  stage: deploy
  script: exit $FAIL_PRODUCTION
  environment: production
prepare:
  stage: deploy
  script: "true"
  environment:
    name: production
    action: prepare
)yaml");
  std::string sha = repo_.Commit("deploy");
  int64_t project = AddProject();
  // The first production deploy succeeds, the second fails.
  PipelineRecord first = RunPipeline(project);
  EXPECT_EQ(first.status, CiStatus::kSuccess);
  EXPECT_NE(Log(Jobs(first.id).at("deploy-review").id).find("to review/main (development)"),
            std::string::npos);
  CreatePipelineRequest failing;
  failing.project_id = project;
  failing.variables = {{"FAIL_PRODUCTION", "3"}};
  auto second = service_->CreatePipeline(failing);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(WaitDone(second->id).status, CiStatus::kFailed);

  std::string base = "/api/v4/projects/" + std::to_string(project);
  nlohmann::json environments = Get(base + "/environments");
  ASSERT_EQ(environments.size(), 2u) << environments.dump();
  EXPECT_EQ(environments[0]["name"], "review/main");
  EXPECT_EQ(environments[0]["tier"], "development");
  EXPECT_EQ(environments[0]["external_url"], "https://main.example.com");
  EXPECT_EQ(environments[0]["state"], "available");
  EXPECT_EQ(environments[1]["name"], "production");
  EXPECT_EQ(environments[1]["tier"], "production");
  EXPECT_TRUE(environments[1]["external_url"].is_null());

  // action: prepare makes no deployment; each start does, following its job.
  nlohmann::json production =
      Get(base + "/deployments?environment=production&order_by=iid&sort=asc");
  ASSERT_EQ(production.size(), 2u) << production.dump();
  EXPECT_EQ(production[0]["status"], "success");
  EXPECT_EQ(production[0]["sha"], sha);
  EXPECT_EQ(production[0]["ref"], "main");
  EXPECT_EQ(production[0]["environment"]["name"], "production");
  EXPECT_EQ(production[0]["deployable"]["name"], "deploy-production");
  EXPECT_FALSE(production[0]["finished_at"].is_null());
  EXPECT_EQ(production[1]["status"], "failed");
  EXPECT_EQ(Get(base + "/deployments").size(), 4u);
  EXPECT_EQ(Get(base + "/deployments?status=failed").size(), 1u);

  // The environment's last deployment is its last successful one.
  nlohmann::json env = Get(base + "/environments/" + environments[1]["id"].dump());
  EXPECT_EQ(env["last_deployment"]["id"], production[0]["id"]);
  nlohmann::json one = Get(base + "/deployments/" + production[1]["id"].dump());
  EXPECT_EQ(one["iid"], production[1]["iid"]);
}

TEST_P(ServiceDeploymentsTest, AnotherProjectsDeploymentsAndBadFiltersAreRefused) {
  repo_.Write(".gitlab-ci.yml", "deploy:\n  script: \"true\"\n  environment: staging\n");
  repo_.Commit("deploy");
  int64_t app = AddProject("group/app");
  int64_t other = AddProject("group/other");
  RunPipeline(app);
  std::string app_base = "/api/v4/projects/" + std::to_string(app);
  nlohmann::json deployments = Get(app_base + "/deployments");
  ASSERT_EQ(deployments.size(), 1u);
  Api api(store_.get(), service_.get(), &hub_, ApiOptions());
  auto call = [&](const std::string& target) {
    HttpRequest req;
    req.method = "GET";
    ParseTarget(target, &req);
    req.headers["host"] = "ci.example";
    req.headers["private-token"] = *token_;
    return api.Handle(req);
  };
  std::string other_base = "/api/v4/projects/" + std::to_string(other);
  EXPECT_EQ(call(other_base + "/deployments/" + deployments[0]["id"].dump()).status, 404);
  EXPECT_EQ(call(other_base + "/environments/" + deployments[0]["environment"]["id"].dump()).status,
            404);
  EXPECT_EQ(call(app_base + "/deployments?order_by=sha").status, 400);
  EXPECT_EQ(call(app_base + "/deployments?status=exploded").status, 400);
  EXPECT_EQ(call(app_base + "/deployments?updated_after=yesterday").status, 400);
}

// A stop job (environment:action stop) stops its environment when it
// succeeds, and leaves it available when it fails; it makes no deployment.
TEST_P(ServiceDeploymentsTest, AStopJobStopsItsEnvironment) {
  repo_.Write(".gitlab-ci.yml", R"yaml(
deploy:
  stage: deploy
  script: "true"
  environment:
    name: review/app
    on_stop: stop
stop:
  stage: .post
  script: exit $FAIL_STOP
  environment:
    name: review/app
    action: stop
)yaml");
  repo_.Commit("review app");
  int64_t project = AddProject();
  CreatePipelineRequest failing;
  failing.project_id = project;
  failing.variables = {{"FAIL_STOP", "1"}};
  auto first = service_->CreatePipeline(failing);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(WaitDone(first->id).status, CiStatus::kFailed);
  std::string base = "/api/v4/projects/" + std::to_string(project);
  nlohmann::json environments = Get(base + "/environments");
  ASSERT_EQ(environments.size(), 1u);
  EXPECT_EQ(environments[0]["state"], "available");

  failing.variables = {{"FAIL_STOP", "0"}};
  auto second = service_->CreatePipeline(failing);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(WaitDone(second->id).status, CiStatus::kSuccess);
  environments = Get(base + "/environments");
  ASSERT_EQ(environments.size(), 1u);
  EXPECT_EQ(environments[0]["state"], "stopped");
  EXPECT_EQ(Get(base + "/environments?states=stopped").size(), 1u);
  EXPECT_EQ(Get(base + "/deployments").size(), 2u);  // The deploys only.
}

SLIPWAY_STORE_TEST_SUITE(ServiceDeploymentsTest);

}  // namespace
}  // namespace slipway
