// Commit statuses to the forge, below the server: pipelines whose status
// changes in a real store (SQLite, PostgreSQL) are announced to a local HTTP
// server, a python script standing in for GitLab, GitHub and Gitea — no
// forge can run here — that records each request. The test checks each
// forge's documented request (method, path, auth header, JSON body), the
// retry after a failed POST, the result kept for the dashboard, and that
// the token travels only in its header.
#include "server/forge_status.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/test_http_recorder.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"
#include "util/test_dir.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

using nlohmann::json;

class ForgeStatusTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    // /broken/... always answers 401; the first request to /github/... 502.
    forge_ = std::make_unique<TestHttpRecorder>("/broken/", "/github/");
  }

  int64_t AddProjectWithForge(const std::string& path, const std::string& kind,
                              const std::string& api_path, const std::string& forge_project,
                              const std::string& token) {
    int64_t id = AddTestProject(store_.get(), path);
    ProjectForgeSettings forge;
    forge.project_id = id;
    forge.kind = kind;
    forge.api_url = forge_->Url(api_path);
    forge.forge_project = forge_project;
    forge.token = token;
    EXPECT_TRUE(CheckForgeSettings(&forge).ok());
    EXPECT_TRUE(store_->SetProjectForge(forge).ok());
    return id;
  }

  PipelineRecord AddPipeline(int64_t project, char sha) {
    PipelineRecord p;
    p.project_id = project;
    p.ref = "main";
    p.sha = std::string(40, sha);
    p.source = "push";
    auto created = store_->CreatePipeline(p, {});
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : p;
  }
  void SetStatus(int64_t pipeline, CiStatus status) {
    auto updated = store_->UpdatePipelineStatus(pipeline, status);
    EXPECT_TRUE(updated.ok()) << updated.status().message();
  }

  std::vector<json> Received(const std::string& prefix) {
    std::vector<json> out;
    for (const json& r : forge_->Requests()) {
      if (r["path"].get<std::string>().starts_with(prefix)) out.push_back(r);
    }
    return out;
  }
  // The states the forge at prefix was sent, in order.
  std::vector<std::string> States(const std::string& prefix) {
    std::vector<std::string> states;
    for (const json& r : Received(prefix)) {
      states.push_back(json::parse(r["body"].get<std::string>())["state"]);
    }
    return states;
  }
  bool LastStateIs(const std::string& prefix, const std::string& state) {
    std::vector<std::string> states = States(prefix);
    return !states.empty() && states.back() == state;
  }

  std::unique_ptr<TestHttpRecorder> forge_;
};

TEST_P(ForgeStatusTest, EachForgeGetsItsDocumentedRequest) {
  int64_t gitlab =
      AddProjectWithForge("group/gl", "gitlab", "/gitlab/api/v4", "group/gl", "glpat-secret-token");
  int64_t github =
      AddProjectWithForge("group/gh", "github", "/github", "octo/app", "ghp_secret_token");
  int64_t gitea =
      AddProjectWithForge("group/gt", "gitea", "/gitea/api/v1", "octo/app", "gitea-secret");
  AddTestProject(store_.get(), "group/quiet");  // No forge: nothing is sent about it.
  ForgeStatusOptions options;
  options.base_url = "http://ci.example";
  options.scan_interval = std::chrono::milliseconds(20);
  options.retry.first_retry = std::chrono::milliseconds(20);
  options.clock = &clock_;
  ForgeStatusPublisher publisher(store_.get(), options, NowMs());

  PipelineRecord gl = AddPipeline(gitlab, 'a');
  PipelineRecord gh = AddPipeline(github, 'b');
  PipelineRecord gt = AddPipeline(gitea, 'c');
  ASSERT_TRUE(WaitFor([&] {
    return LastStateIs("/gitlab/", "pending") && LastStateIs("/github/", "pending") &&
           LastStateIs("/gitea/", "pending");
  }));
  SetStatus(gl.id, CiStatus::kRunning);
  SetStatus(gh.id, CiStatus::kRunning);
  SetStatus(gt.id, CiStatus::kRunning);
  ASSERT_TRUE(WaitFor([&] { return LastStateIs("/gitlab/", "running"); }));
  SetStatus(gl.id, CiStatus::kSuccess);
  SetStatus(gh.id, CiStatus::kFailed);
  SetStatus(gt.id, CiStatus::kCanceled);
  ASSERT_TRUE(WaitFor([&] {
    return LastStateIs("/gitlab/", "success") && LastStateIs("/github/", "failure") &&
           LastStateIs("/gitea/", "error");
  }));

  // GitLab: POST /projects/:id/statuses/:sha, the id a url-encoded path,
  // PRIVATE-TOKEN, {state, ref, name, target_url, description}.
  std::vector<json> to_gitlab = Received("/gitlab/");
  EXPECT_EQ(States("/gitlab/"), (std::vector<std::string>{"pending", "running", "success"}));
  for (const json& r : to_gitlab) {
    EXPECT_EQ(r["method"], "POST");
    EXPECT_EQ(r["path"], "/gitlab/api/v4/projects/group%2Fgl/statuses/" + gl.sha);
    EXPECT_EQ(r["headers"]["private-token"], "glpat-secret-token");
    EXPECT_FALSE(r["headers"].contains("authorization"));
    EXPECT_EQ(r["headers"]["content-type"], "application/json");
  }
  json body = json::parse(to_gitlab.back()["body"].get<std::string>());
  EXPECT_EQ(body,
            (json{{"state", "success"},
                  {"ref", "main"},
                  {"name", "slipway/push"},
                  {"target_url", "http://ci.example/group/gl/-/pipelines/" + std::to_string(gl.id)},
                  {"description", "The pipeline passed"}}));

  // GitHub: POST /repos/:owner/:repo/statuses/:sha, a bearer token, its
  // media type and API version, {state, target_url, description, context};
  // running is "pending" there. Its first POST failed and was sent again.
  std::vector<json> to_github = Received("/github/");
  for (const json& r : to_github) {
    EXPECT_EQ(r["path"], "/github/repos/octo/app/statuses/" + gh.sha);
    EXPECT_EQ(r["headers"]["authorization"], "Bearer ghp_secret_token");
    EXPECT_EQ(r["headers"]["accept"], "application/vnd.github+json");
    EXPECT_EQ(r["headers"]["x-github-api-version"], "2022-11-28");
    EXPECT_EQ(r["headers"]["user-agent"], "slipway");
  }
  EXPECT_EQ(States("/github/").front(), "pending");  // The refused one, then again.
  EXPECT_EQ(States("/github/")[1], "pending");
  body = json::parse(to_github.back()["body"].get<std::string>());
  EXPECT_EQ(body["context"], "slipway/push");
  EXPECT_EQ(body["description"], "The pipeline failed");
  EXPECT_FALSE(body.contains("name"));

  // Gitea: the same path and body as GitHub, "token" authorization.
  for (const json& r : Received("/gitea/")) {
    EXPECT_EQ(r["path"], "/gitea/api/v1/repos/octo/app/statuses/" + gt.sha);
    EXPECT_EQ(r["headers"]["authorization"], "token gitea-secret");
  }

  // What each post gave, for the dashboard.
  ASSERT_TRUE(WaitFor([&] {
    auto r = store_->GetForgeStatus(gl.id);
    return r.ok() && *r && (*r)->state == "success";
  }));
  auto result = store_->GetForgeStatus(gl.id);
  EXPECT_TRUE((*result)->ok);
  EXPECT_EQ((*result)->forge, "gitlab");
  EXPECT_EQ((*result)->error, "");
  // No token in any URL.
  for (const char* prefix : {"/gitlab/", "/github/", "/gitea/"}) {
    for (const json& r : Received(prefix)) {
      std::string path = r["path"];
      EXPECT_EQ(path.find("secret"), std::string::npos) << path;
    }
  }
}

TEST_P(ForgeStatusTest, AForgeThatRefusesIsRecordedAsFailed) {
  int64_t project =
      AddProjectWithForge("group/app", "github", "/broken", "octo/app", "ghp_wrong_token");
  ForgeStatusOptions options;
  options.scan_interval = std::chrono::milliseconds(20);
  options.retry.first_retry = std::chrono::milliseconds(1);
  options.retry.max_attempts = 3;
  options.clock = &clock_;
  ForgeStatusPublisher publisher(store_.get(), options, NowMs());
  PipelineRecord p = AddPipeline(project, 'd');
  SetStatus(p.id, CiStatus::kSuccess);
  // The publisher may see the new pipeline before SetStatus and announce
  // "pending" first (refused as well); the last word is about "success".
  ASSERT_TRUE(WaitFor([&] {
    auto r = store_->GetForgeStatus(p.id);
    return r.ok() && *r && !(*r)->ok && (*r)->state == "success";
  }));
  auto result = store_->GetForgeStatus(p.id);
  EXPECT_EQ((*result)->error, "HTTP 401");
  std::vector<std::string> states = States("/broken/");
  EXPECT_EQ(std::count(states.begin(), states.end(), "success"), 3);
}

TEST(ForgeSettingsTest, CheckedAsProjectAddTakesThem) {
  ProjectForgeSettings s;
  s.kind = "bitbucket";
  EXPECT_EQ(CheckForgeSettings(&s).message(),
            "--forge bitbucket: expected gitlab, github or gitea");
  s.kind = "github";
  s.forge_project = "octo/app";
  s.token = "t";
  ASSERT_TRUE(CheckForgeSettings(&s).ok());
  EXPECT_EQ(s.api_url, "https://api.github.com");
  s.forge_project = "octo";
  EXPECT_EQ(CheckForgeSettings(&s).message(), "--forge-project octo: expected owner/repo");
  s.kind = "gitlab";
  s.api_url = "";
  EXPECT_EQ(CheckForgeSettings(&s).message(),
            "--forge gitlab needs --forge-url (the API's base URL, e.g. "
            "https://gitlab.example/api/v4)");
  s.api_url = "file:///etc/passwd";
  EXPECT_EQ(CheckForgeSettings(&s).message(), "--forge-url: not an http(s) URL");
  s.api_url = "https://gitlab.example/api/v4/";
  s.token = "";
  EXPECT_FALSE(CheckForgeSettings(&s).ok());
}

// A forge token is a secret: encrypted at rest, readable back with the key.
TEST_P(ForgeStatusTest, TheTokenIsStoredEncrypted) {
  TempDir keys;
  secrets_key_file_ = keys.path() + "/secrets.key";
  Reopen();
  int64_t project =
      AddProjectWithForge("group/app", "gitlab", "/gitlab/api/v4", "7", "glpat-very-secret");
  auto read = store_->GetProjectForge(project);
  ASSERT_TRUE(read.ok() && *read);
  EXPECT_EQ((*read)->token, "glpat-very-secret");
  EXPECT_EQ((*read)->forge_project, "7");
  auto rows =
      RawDatabase()->Query("SELECT token FROM project_forges WHERE project_id = ?", {project});
  ASSERT_TRUE(rows.ok() && rows->size() == 1);
  EXPECT_TRUE(rows->front().Text(0).starts_with("enc:v1:")) << rows->front().Text(0);
  EXPECT_EQ(rows->front().Text(0).find("very-secret"), std::string::npos);
}

SLIPWAY_STORE_TEST_SUITE(ForgeStatusTest);

}  // namespace
}  // namespace slipway
