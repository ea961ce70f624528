// Deployment gates in `slipway serve` (docs/deployments.md): deploy
// freezes, protected environments and approvals, through GitLab's API, with
// real git, a real store and real bash jobs. The service runs on the
// store's fake clock (2023-11-14T22:13:20Z, a Tuesday): a freeze ends when
// the test moves the clock, and the server's timer, which re-checks held
// jobs every second, ticks when it does.
#include <gtest/gtest.h>

#include "server/api.h"
#include "server/deployment_gates.h"
#include "server/pipeline_service_test_util.h"

namespace slipway {
namespace {

using std::chrono::seconds;

class ServiceGatesTest : public PipelineServiceTest {
 protected:
  void SetUp() override {
    configure_ = [this](ServiceOptions* options) { options->clock = &clock_; };
    PipelineServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    admin_ = store_->CreateToken("boss", TokenRole::kAdmin)->raw;
    dev_ = store_->CreateToken("dev", TokenRole::kRun)->raw;
    other_dev_ = store_->CreateToken("other-dev", TokenRole::kRun)->raw;
    reader_ = store_->CreateToken("reader", TokenRole::kRead)->raw;
  }

  HttpResponse Call(const std::string& method, const std::string& target, const std::string& token,
                    const nlohmann::json& body = nullptr) {
    Api api(store_.get(), service_.get(), &hub_, ApiOptions());
    HttpRequest req;
    req.method = method;
    ParseTarget(target, &req);
    req.headers["host"] = "ci.example";
    req.headers["private-token"] = token;
    if (!body.is_null()) {
      req.headers["content-type"] = "application/json";
      req.body = body.dump();
    }
    return api.Handle(req);
  }
  nlohmann::json Json(const HttpResponse& r) {
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  std::string Base() { return "/api/v4/projects/" + std::to_string(project_); }

  // A pipeline created through the API by token.
  int64_t CreateBy(const std::string& token) {
    HttpResponse r = Call("POST", Base() + "/pipeline", token, {{"ref", "main"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r).value("id", int64_t{0});
  }

  JobRecord WaitJob(int64_t pipeline, const std::string& name,
                    const std::function<bool(const JobRecord&)>& done) {
    int64_t id = Jobs(pipeline).at(name).id;
    JobRecord last;
    bool ok = WaitFor([&] {
      auto job = store_->GetJob(id);
      if (!job.ok() || !*job) return false;
      last = **job;
      return done(last);
    });
    EXPECT_TRUE(ok) << name << " is " << CiStatusName(last.status) << "; log: " << Log(id);
    return last;
  }

  // The job's deployment once it is blocked.
  DeploymentRecord WaitBlocked(int64_t job_id) {
    DeploymentRecord last;
    bool ok = WaitFor([&] {
      auto d = store_->DeploymentOfJob(job_id);
      if (!d.ok() || !*d) return false;
      last = **d;
      return last.status == "blocked";
    });
    EXPECT_TRUE(ok) << "deployment is " << last.status;
    return last;
  }

  // Moves the service's clock a second: its timer re-checks held jobs.
  void Tick() { clock_.Advance(std::chrono::milliseconds(1000)); }

  void Use(const std::string& ci) {
    repo_.Write(".gitlab-ci.yml", ci);
    repo_.Commit("gates");
    project_ = AddProject();
  }

  int64_t project_ = 0;
  std::string admin_, dev_, other_dev_, reader_;
};

constexpr char kDeploy[] = R"yaml(
build:
  stage: build
  script: echo "freeze=[$CI_DEPLOY_FREEZE]"
deploy:
  stage: deploy
  environment: production
  script: echo deployed
)yaml";

TEST_P(ServiceGatesTest, AFreezeHoldsDeployJobsUntilItEnds) {
  Use(kDeploy);
  // Tuesday 20:00 to Wednesday 08:00 UTC: the store's clock is in it.
  HttpResponse created = Call("POST", Base() + "/freeze_periods", admin_,
                              {{"freeze_start", "0 20 * * 2"}, {"freeze_end", "0 8 * * 3"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Json(created)["cron_timezone"], "UTC");
  int64_t pipeline = CreateBy(dev_);
  JobRecord build =
      WaitJob(pipeline, "build", [](const JobRecord& j) { return IsFinished(j.status); });
  EXPECT_NE(Log(build.id).find("freeze=[true]"), std::string::npos) << Log(build.id);
  int64_t deploy_id = Jobs(pipeline).at("deploy").id;
  DeploymentRecord blocked = WaitBlocked(deploy_id);
  JobRecord held = WaitJob(pipeline, "deploy", [&](const JobRecord&) {
    return Log(deploy_id).find("Deploy freeze until 2023-11-15T08:00:00") != std::string::npos;
  });
  EXPECT_EQ(held.status, CiStatus::kPending);  // Not started.
  EXPECT_EQ(Log(deploy_id).find("deployed"), std::string::npos);
  nlohmann::json listed = Json(Call("GET", Base() + "/deployments?status=blocked", reader_));
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["id"], blocked.id);

  // Wednesday 08:00 and a second: the freeze is over.
  clock_.Advance(std::chrono::hours(9) + std::chrono::minutes(47));
  JobRecord done =
      WaitJob(pipeline, "deploy", [](const JobRecord& j) { return IsFinished(j.status); });
  EXPECT_EQ(done.status, CiStatus::kSuccess);
  // The deployment is written after the job's status: read it once the
  // pipeline's worker let go.
  EXPECT_EQ(WaitDone(pipeline).status, CiStatus::kSuccess);
  EXPECT_EQ((*store_->DeploymentOfJob(deploy_id))->status, "success");
}

TEST_P(ServiceGatesTest, AnAdminsApprovalDeploysDuringAFreeze) {
  Use(kDeploy);
  ASSERT_EQ(Call("POST", Base() + "/freeze_periods", admin_,
                 {{"freeze_start", "0 20 * * *"}, {"freeze_end", "0 8 * * *"}})
                .status,
            201);
  int64_t pipeline = CreateBy(dev_);
  DeploymentRecord blocked = WaitBlocked(Jobs(pipeline).at("deploy").id);
  std::string approval = Base() + "/deployments/" + std::to_string(blocked.id) + "/approval";
  // Only an admin overrides a freeze; a read token approves nothing.
  EXPECT_EQ(Call("POST", approval, other_dev_, {{"status", "approved"}}).status, 403);
  EXPECT_EQ(Call("POST", approval, reader_, {{"status", "approved"}}).status, 403);
  EXPECT_EQ(Call("POST", approval, admin_, {{"status", "maybe"}}).status, 400);
  HttpResponse approved =
      Call("POST", approval, admin_, {{"status", "approved"}, {"comment", "hotfix"}});
  ASSERT_EQ(approved.status, 201) << approved.body;
  EXPECT_EQ(Json(approved)["user"]["username"], "boss");
  Tick();
  EXPECT_EQ(WaitDone(pipeline).status, CiStatus::kSuccess);
  nlohmann::json deployment =
      Json(Call("GET", Base() + "/deployments/" + std::to_string(blocked.id), reader_));
  EXPECT_EQ(deployment["status"], "success");
  ASSERT_EQ(deployment["approvals"].size(), 1u);
  EXPECT_EQ(deployment["approvals"][0]["comment"], "hotfix");
}

TEST_P(ServiceGatesTest, BadFreezePeriodsAreRefused) {
  Use(kDeploy);
  HttpResponse bad = Call("POST", Base() + "/freeze_periods", admin_,
                          {{"freeze_start", "61 * * * *"}, {"freeze_end", "0 8 * * *"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("freeze_start is invalid"), std::string::npos) << bad.body;
  EXPECT_EQ(Call("POST", Base() + "/freeze_periods", admin_,
                 {{"freeze_start", "0 1 * * *"},
                  {"freeze_end", "0 2 * * *"},
                  {"cron_timezone", "Mars/Olympus"}})
                .status,
            400);
  EXPECT_EQ(Call("POST", Base() + "/freeze_periods", dev_,
                 {{"freeze_start", "0 1 * * *"}, {"freeze_end", "0 2 * * *"}})
                .status,
            403);
  HttpResponse made = Call("POST", Base() + "/freeze_periods", admin_,
                           {{"freeze_start", "0 1 * * *"},
                            {"freeze_end", "0 2 * * *"},
                            {"cron_timezone", "Europe/Berlin"}});
  ASSERT_EQ(made.status, 201);
  std::string one = Base() + "/freeze_periods/" + Json(made)["id"].dump();
  HttpResponse changed = Call("PUT", one, admin_, {{"freeze_end", "30 2 * * *"}});
  EXPECT_EQ(Json(changed)["freeze_end"], "30 2 * * *");
  EXPECT_EQ(Json(changed)["cron_timezone"], "Europe/Berlin");
  EXPECT_EQ(Json(Call("GET", Base() + "/freeze_periods", reader_)).size(), 1u);
  EXPECT_EQ(Call("DELETE", one, admin_).status, 204);
  EXPECT_EQ(Call("GET", one, reader_).status, 404);
}

constexpr char kProtectedDeploy[] = R"yaml(
deploy:
  environment: production
  script: echo deployed
)yaml";

TEST_P(ServiceGatesTest, AProtectedEnvironmentWaitsForApprovalsFromOthers) {
  Use(kProtectedDeploy);
  HttpResponse protect =
      Call("POST", Base() + "/protected_environments", admin_,
           {{"name", "production"},
            {"deploy_access_levels", nlohmann::json::array({{{"access_level", 30}}})},
            {"required_approval_count", 2}});
  ASSERT_EQ(protect.status, 201) << protect.body;
  EXPECT_EQ(Json(protect)["required_approval_count"], 2);
  int64_t pipeline = CreateBy(dev_);
  int64_t deploy_id = Jobs(pipeline).at("deploy").id;
  DeploymentRecord blocked = WaitBlocked(deploy_id);
  WaitJob(pipeline, "deploy", [&](const JobRecord&) {
    return Log(deploy_id).find("has 0 of 2 required approvals") != std::string::npos;
  });
  std::string approval = Base() + "/deployments/" + std::to_string(blocked.id) + "/approval";
  // The token that deploys cannot approve; each token approves once.
  HttpResponse self = Call("POST", approval, dev_, {{"status", "approved"}});
  EXPECT_EQ(self.status, 400);
  EXPECT_NE(self.body.find("You cannot approve your own deployment"), std::string::npos);
  ASSERT_EQ(Call("POST", approval, other_dev_, {{"status", "approved"}}).status, 201);
  EXPECT_EQ(Call("POST", approval, other_dev_, {{"status", "approved"}}).status, 400);
  Tick();
  WaitJob(pipeline, "deploy", [&](const JobRecord&) {
    return Log(deploy_id).find("has 1 of 2 required approvals") != std::string::npos;
  });
  EXPECT_EQ(store_->GetJob(deploy_id).value()->status, CiStatus::kPending);
  ASSERT_EQ(Call("POST", approval, admin_, {{"status", "approved"}}).status, 201);
  Tick();
  EXPECT_EQ(WaitDone(pipeline).status, CiStatus::kSuccess);
  EXPECT_EQ((*store_->DeploymentOfJob(deploy_id))->status, "success");
}

TEST_P(ServiceGatesTest, ARejectionFailsTheDeployJob) {
  Use(kProtectedDeploy);
  ASSERT_EQ(Call("POST", Base() + "/protected_environments", admin_,
                 {{"name", "production"},
                  {"deploy_access_levels", nlohmann::json::array({{{"access_level", 30}}})},
                  {"required_approval_count", 1}})
                .status,
            201);
  int64_t pipeline = CreateBy(dev_);
  int64_t deploy_id = Jobs(pipeline).at("deploy").id;
  DeploymentRecord blocked = WaitBlocked(deploy_id);
  std::string approval = Base() + "/deployments/" + std::to_string(blocked.id) + "/approval";
  ASSERT_EQ(
      Call("POST", approval, other_dev_, {{"status", "rejected"}, {"comment", "not today"}}).status,
      201);
  Tick();
  EXPECT_EQ(WaitDone(pipeline).status, CiStatus::kFailed);
  JobRecord job = *store_->GetJob(deploy_id).value();
  EXPECT_EQ(job.failure_reason, kDeploymentRejected);
  EXPECT_NE(Log(deploy_id).find("rejected by token 'other-dev': not today"), std::string::npos)
      << Log(deploy_id);
  EXPECT_EQ((*store_->DeploymentOfJob(deploy_id))->status, "failed");
}

// Deploying to an environment protected for admins needs an admin token:
// the developer's pipeline fails there, an admin's retry deploys.
TEST_P(ServiceGatesTest, OnlyTheProtectionsRoleDeploys) {
  Use(kProtectedDeploy);
  ASSERT_EQ(Call("POST", Base() + "/protected_environments", admin_,
                 {{"name", "production"},
                  {"deploy_access_levels", nlohmann::json::array({{{"access_level", 40}}})}})
                .status,
            201);
  EXPECT_EQ(Call("POST", Base() + "/protected_environments", admin_,
                 {{"name", "staging"},
                  {"deploy_access_levels", nlohmann::json::array({{{"user_id", 7}}})}})
                .status,
            400);
  int64_t pipeline = CreateBy(dev_);
  EXPECT_EQ(WaitDone(pipeline).status, CiStatus::kFailed);
  int64_t deploy_id = Jobs(pipeline).at("deploy").id;
  EXPECT_EQ(store_->GetJob(deploy_id).value()->failure_reason, kProtectedEnvironmentFailure);
  EXPECT_NE(Log(deploy_id).find("needs a token of role admin, and token 'dev' (role run)"),
            std::string::npos)
      << Log(deploy_id);
  HttpResponse retried =
      Call("POST", Base() + "/jobs/" + std::to_string(deploy_id) + "/retry", admin_);
  ASSERT_EQ(retried.status, 201) << retried.body;
  JobRecord again =
      WaitJob(pipeline, "deploy", [](const JobRecord& j) { return IsFinished(j.status); });
  EXPECT_EQ(again.status, CiStatus::kSuccess) << Log(again.id);
  EXPECT_EQ(again.user_token_id, store_->ListTokens()->at(0).id);  // The admin's retry.
  EXPECT_EQ(WaitDone(pipeline).status, CiStatus::kSuccess);
  // A pipeline no token started (a push) deploys as nobody.
  CreatePipelineRequest push;
  push.project_id = project_;
  push.source = "push";
  auto pushed = service_->CreatePipeline(push);
  ASSERT_TRUE(pushed.ok());
  EXPECT_EQ(WaitDone(pushed->id).status, CiStatus::kFailed);
  EXPECT_NE(Log(Jobs(pushed->id).at("deploy").id).find("no token"), std::string::npos);
  EXPECT_EQ(Json(Call("GET", Base() + "/protected_environments", reader_)).size(), 1u);
  EXPECT_EQ(Call("DELETE", Base() + "/protected_environments/production", admin_).status, 204);
  EXPECT_EQ(Call("GET", Base() + "/protected_environments/production", reader_).status, 404);
}

SLIPWAY_STORE_TEST_SUITE(ServiceGatesTest);

}  // namespace
}  // namespace slipway
