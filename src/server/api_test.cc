// The API's handlers against a real in-memory SQLite store, without sockets:
// routing, authentication and roles, every endpoint's shape, filters,
// pagination headers and errors.
#include "server/api.h"

#include <gtest/gtest.h>

#include "server/api_test_util.h"

namespace slipway {
namespace {

using nlohmann::json;

class ApiTest : public ApiTestBase {};

TEST_F(ApiTest, RequestsWithoutAValidTokenGet401AndNoData) {
  for (const std::string& token : {std::string(), std::string("slw_wrong")}) {
    HttpResponse r = Call("GET", "/api/v4/projects", token);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, R"({"message":"401 Unauthorized"})");
  }
  // Unknown routes under /api/v4 too: nothing is revealed without a token.
  EXPECT_EQ(Call("GET", "/api/v4/nothing", "").status, 401);
}

TEST_F(ApiTest, TokenFromHeaderBearerOrQuery) {
  EXPECT_EQ(Call("GET", "/api/v4/user", admin_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v4/user?private_token=" + read_, "").status, 200);
  HttpResponse r = Call("GET", "/api/v4/user", "", "", {{"authorization", "Bearer " + run_}});
  ASSERT_EQ(r.status, 200);
  json user = Json(r);
  EXPECT_EQ(user["username"], "run-bot");
  EXPECT_EQ(user["is_admin"], false);
  EXPECT_EQ(user["role"], "run");
}

TEST_F(ApiTest, RolesLimitWhatATokenMayDo) {
  PipelineRecord p =
      AddPipeline("main", CiStatus::kSuccess, {{"build", "build", CiStatus::kSuccess}});
  std::string pipeline = "/api/v4/projects/1/pipelines/" + std::to_string(p.id);
  // read: no writes at all.
  HttpResponse r = Call("POST", "/api/v4/projects/1/pipeline", read_, R"({"ref":"main"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"message":"403 Forbidden"})");
  EXPECT_EQ(Call("POST", pipeline + "/cancel", read_).status, 403);
  EXPECT_EQ(Call("POST", "/api/v4/projects/1/jobs/1/retry", read_).status, 403);
  // run: pipelines and jobs, but not projects or deletes.
  EXPECT_EQ(Call("POST", "/api/v4/projects", run_, R"({"name":"x","repo_url":"/x"})").status, 403);
  EXPECT_EQ(Call("DELETE", pipeline, run_).status, 403);
  // admin: everything.
  EXPECT_EQ(Call("DELETE", pipeline, admin_).status, 204);
  EXPECT_EQ(Call("GET", pipeline, read_).status, 404);
}

TEST_F(ApiTest, ProjectByIdOrEncodedPath) {
  HttpResponse by_id = Call("GET", "/api/v4/projects/1", read_);
  HttpResponse by_path = Call("GET", "/api/v4/projects/group%2Fapp", read_);
  ASSERT_EQ(by_id.status, 200);
  ASSERT_EQ(by_path.status, 200);
  EXPECT_EQ(by_id.body, by_path.body);
  json p = Json(by_id);
  EXPECT_EQ(p["id"], 1);
  EXPECT_EQ(p["path"], "app");
  EXPECT_EQ(p["path_with_namespace"], "group/app");
  EXPECT_EQ(p["name_with_namespace"], "group / app");
  EXPECT_EQ(p["namespace"]["full_path"], "group");
  EXPECT_EQ(p["default_branch"], "main");
  EXPECT_EQ(p["web_url"], "http://ci.example:8080/group/app");
  EXPECT_EQ(p["created_at"], "2026-12-05T13:45:00.123Z");
  EXPECT_EQ(p.count("webhook_secret"), 0u);
  HttpResponse missing = Call("GET", "/api/v4/projects/group%2Fnope", read_);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"message":"404 Project Not Found"})");
  EXPECT_EQ(Call("GET", "/api/v4/projects/99", read_).status, 404);
}

TEST_F(ApiTest, CreateProjectFromJsonOrForm) {
  HttpResponse r = Call(
      "POST", "/api/v4/projects", admin_,
      R"({"name":"Web Site","repo_url":"https://git.example/web.git","default_branch":"trunk","webhook_secret":"s"})");
  ASSERT_EQ(r.status, 201) << r.body;
  json p = Json(r);
  EXPECT_EQ(p["path_with_namespace"], "Web-Site");
  EXPECT_EQ(p["default_branch"], "trunk");
  EXPECT_EQ(p["webhook_secret_set"], true);
  EXPECT_EQ(p["executor"], "shell");
  r = Call("POST", "/api/v4/projects", admin_, "name=lib&path=team%2Flib&repo_url=%2Fsrv%2Flib",
           {{"content-type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r)["path_with_namespace"], "team/lib");
  EXPECT_EQ(Call("GET", "/api/v4/projects/team%2Flib", read_).status, 200);

  r = Call("POST", "/api/v4/projects", admin_,
           R"({"name":"lib","path":"team/lib","repo_url":"/x"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("already"), std::string::npos) << r.body;
  r = Call("POST", "/api/v4/projects", admin_, R"({"name":"nourl"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["message"], "400 Bad request - repo_url is missing");
  r = Call("POST", "/api/v4/projects", admin_, R"({"name":"x","path":"a/../b","repo_url":"/x"})");
  EXPECT_EQ(r.status, 400);
  // An executor slipway lacks is refused, not stored to fail every pipeline.
  r = Call("POST", "/api/v4/projects", admin_,
           R"({"name":"boxed","repo_url":"/x","executor":"docker"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["message"],
            "400 Bad request - executor 'docker' is not supported: the executors are 'shell', "
            "'sandbox', 'slurm' and 'remote'");
  EXPECT_EQ(Call("GET", "/api/v4/projects/boxed", read_).status, 404);
  r = Call("POST", "/api/v4/projects", admin_, R"({"name": "x",)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["message"], "400 Bad request - the body is not valid JSON");
  r = Call("POST", "/api/v4/projects", admin_, R"(["x"])");
  EXPECT_EQ(r.status, 400);

  r = Call("GET", "/api/v4/projects?per_page=2&sort=asc", read_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r).size(), 2u);
  EXPECT_EQ(Header(r, "X-Total"), "3");
  EXPECT_EQ(Header(r, "X-Total-Pages"), "2");
}

TEST_F(ApiTest, PipelineFields) {
  PipelineRecord p =
      AddPipeline("main", CiStatus::kSuccess, {{"build", "build", CiStatus::kSuccess}});
  HttpResponse r = Call("GET", "/api/v4/projects/1/pipelines/" + std::to_string(p.id), read_);
  ASSERT_EQ(r.status, 200);
  json j = Json(r);
  EXPECT_EQ(j["id"], p.id);
  EXPECT_EQ(j["iid"], 1);
  EXPECT_EQ(j["project_id"], 1);
  EXPECT_EQ(j["status"], "success");
  EXPECT_EQ(j["ref"], "main");
  EXPECT_EQ(j["tag"], false);
  EXPECT_EQ(j["sha"], std::string(40, 'a'));
  EXPECT_EQ(j["source"], "push");
  EXPECT_EQ(j["yaml_errors"], nullptr);
  EXPECT_EQ(j["created_at"], "2026-12-05T13:45:00.123Z");
  EXPECT_EQ(j["started_at"], "2026-12-05T13:45:02.623Z");
  EXPECT_EQ(j["finished_at"], "2026-12-05T13:45:04.623Z");
  EXPECT_EQ(j["duration"], 2);
  EXPECT_EQ(j["web_url"], "http://ci.example:8080/group/app/-/pipelines/" + std::to_string(p.id));
  EXPECT_EQ(j["detailed_status"]["text"], "passed");
  // Another project's pipeline is not found through this one.
  EXPECT_EQ(Call("GET", "/api/v4/projects/group%2Fapp/pipelines/999", read_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v4/projects/1/pipelines/abc", read_).status, 404);
}

TEST_F(ApiTest, PipelineFiltersAndPagination) {
  AddPipeline("main", CiStatus::kSuccess, {{"a", "test", CiStatus::kSuccess}});
  AddPipeline("dev", CiStatus::kFailed, {{"a", "test", CiStatus::kFailed}});
  AddPipeline("v1.0", CiStatus::kRunning, {{"a", "test", CiStatus::kRunning}}, /*tag=*/true);
  auto ids = [&](const std::string& query) {
    HttpResponse r = Call("GET", "/api/v4/projects/1/pipelines" + query, read_);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::vector<std::string> refs;
    for (const json& p : Json(r)) refs.push_back(p["ref"]);
    return refs;
  };
  EXPECT_EQ(ids(""), (std::vector<std::string>{"v1.0", "dev", "main"}));
  EXPECT_EQ(ids("?sort=asc"), (std::vector<std::string>{"main", "dev", "v1.0"}));
  EXPECT_EQ(ids("?status=failed"), (std::vector<std::string>{"dev"}));
  EXPECT_EQ(ids("?scope=tags"), (std::vector<std::string>{"v1.0"}));
  EXPECT_EQ(ids("?scope=finished"), (std::vector<std::string>{"dev", "main"}));
  EXPECT_EQ(ids("?ref=main"), (std::vector<std::string>{"main"}));
  EXPECT_EQ(ids("?source=web"), (std::vector<std::string>{}));
  EXPECT_EQ(ids("?order_by=ref&sort=asc"), (std::vector<std::string>{"dev", "main", "v1.0"}));
  EXPECT_EQ(ids("?updated_after=2026-12-05T13:45:05Z&sort=asc"),
            (std::vector<std::string>{"dev", "v1.0"}));

  HttpResponse r = Call("GET", "/api/v4/projects/1/pipelines?per_page=1&page=2&ref=", read_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r)[0]["ref"], "dev");
  EXPECT_EQ(Header(r, "X-Total"), "3");
  EXPECT_EQ(Header(r, "X-Total-Pages"), "3");
  EXPECT_EQ(Header(r, "X-Per-Page"), "1");
  EXPECT_EQ(Header(r, "X-Page"), "2");
  EXPECT_EQ(Header(r, "X-Next-Page"), "3");
  EXPECT_EQ(Header(r, "X-Prev-Page"), "1");
  const std::string base = "http://ci.example:8080/api/v4/projects/1/pipelines?ref=&";
  EXPECT_EQ(Header(r, "Link"), "<" + base + "page=1&per_page=1>; rel=\"prev\", <" + base +
                                   "page=3&per_page=1>; rel=\"next\", <" + base +
                                   "page=1&per_page=1>; rel=\"first\", <" + base +
                                   "page=3&per_page=1>; rel=\"last\"");
  r = Call("GET", "/api/v4/projects/1/pipelines?per_page=1&page=3", read_);
  EXPECT_EQ(Header(r, "X-Next-Page"), "");

  for (const char* bad : {"scope=everything", "status=green", "sort=up", "order_by=name",
                          "updated_after=yesterday", "yaml_errors=maybe", "page=0", "per_page=x"}) {
    HttpResponse e = Call("GET", std::string("/api/v4/projects/1/pipelines?") + bad, read_);
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_TRUE(Json(e).contains("message")) << bad;
  }
}

// The list's `stages`: each stage's composite status from its latest jobs,
// in stage order, for every pipeline of the page.
TEST_F(ApiTest, PipelineListHasEachStagesStatus) {
  auto add = [&](const std::vector<std::tuple<std::string, std::string, int, bool>>& jobs) {
    PipelineRecord p;
    p.project_id = project_id_;
    p.ref = "main";
    p.sha = std::string(40, 'a');
    p.source = "push";
    std::vector<JobRecord> records;
    for (const auto& [name, stage, stage_idx, allow_failure] : jobs) {
      JobRecord j;
      j.name = name;
      j.stage = stage;
      j.stage_idx = stage_idx;
      j.allow_failure = allow_failure;
      records.push_back(j);
    }
    auto created = store_->CreatePipeline(p, records);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return Jobs(created->id);
  };
  std::vector<JobRecord> first = add({{"compile", "build", 0, false},
                                      {"unit", "test", 1, false},
                                      {"lint", "test", 1, true},
                                      {"ship", "deploy", 2, false}});
  SetJobStatus(first[0].id, CiStatus::kSuccess);
  SetJobStatus(first[1].id, CiStatus::kSuccess);
  SetJobStatus(first[2].id, CiStatus::kFailed);  // Allowed to fail.
  SetJobStatus(first[3].id, CiStatus::kManual);
  std::vector<JobRecord> second = add({{"compile", "build", 0, false}, {"unit", "test", 1, false}});
  SetJobStatus(second[0].id, CiStatus::kFailed);
  ASSERT_TRUE(store_->RetryJob(second[0].id).ok());  // The failed attempt no longer counts.
  SetJobStatus(second[1].id, CiStatus::kSkipped);

  HttpResponse r = Call("GET", "/api/v4/projects/1/pipelines", read_);
  ASSERT_EQ(r.status, 200) << r.body;
  json list = Json(r);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1]["stages"], json::parse(R"([
    {"name": "build", "status": "success", "warnings": false},
    {"name": "test", "status": "success", "warnings": true},
    {"name": "deploy", "status": "manual", "warnings": false}])"));
  EXPECT_EQ(list[0]["stages"], json::parse(R"([
    {"name": "build", "status": "created", "warnings": false},
    {"name": "test", "status": "skipped", "warnings": false}])"));
}

TEST_F(ApiTest, JobsOfAPipelineAndOfAProject) {
  PipelineRecord p = AddPipeline("main", CiStatus::kFailed,
                                 {{"build", "build", CiStatus::kSuccess},
                                  {"test", "test", CiStatus::kFailed},
                                  {"deploy", "deploy", CiStatus::kManual}});
  std::string base = "/api/v4/projects/1/pipelines/" + std::to_string(p.id) + "/jobs";
  HttpResponse r = Call("GET", base, read_);
  ASSERT_EQ(r.status, 200);
  json jobs = Json(r);
  ASSERT_EQ(jobs.size(), 3u);
  json test = jobs[1];
  EXPECT_EQ(test["name"], "test");
  EXPECT_EQ(test["stage"], "test");
  EXPECT_EQ(test["status"], "failed");
  EXPECT_EQ(test["failure_reason"], "script_failure");
  EXPECT_EQ(test["ref"], "main");
  EXPECT_EQ(test["pipeline"]["id"], p.id);
  EXPECT_EQ(test["pipeline"]["status"], "failed");
  EXPECT_EQ(test["commit"]["id"], std::string(40, 'a'));
  EXPECT_EQ(test["needs"], json::array({"build"}));
  EXPECT_EQ(test["stage_idx"], 1);
  EXPECT_EQ(test["retry_count"], 0);
  EXPECT_EQ(test["duration"], 0.5);
  EXPECT_EQ(test["web_url"],
            "http://ci.example:8080/group/app/-/jobs/" + std::to_string(test["id"].get<int64_t>()));
  EXPECT_EQ(jobs[0].count("failure_reason"), 0u);

  EXPECT_EQ(Json(Call("GET", base + "?scope=failed", read_)).size(), 1u);
  EXPECT_EQ(Json(Call("GET", base + "?scope[]=failed&scope[]=success", read_)).size(), 2u);
  EXPECT_EQ(Call("GET", base + "?scope[]=bogus", read_).status, 400);

  // A retried job is hidden unless include_retried.
  ASSERT_TRUE(store_->RetryJob(test["id"].get<int64_t>()).ok());
  EXPECT_EQ(Json(Call("GET", base, read_)).size(), 3u);
  json all = Json(Call("GET", base + "?include_retried=true", read_));
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1]["retried"], true);
  EXPECT_EQ(all[3]["retry_count"], 1);

  AddPipeline("dev", CiStatus::kSuccess, {{"build", "build", CiStatus::kSuccess}});
  r = Call("GET", "/api/v4/projects/group%2Fapp/jobs?scope=success&per_page=1", read_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "X-Total"), "2");
  EXPECT_EQ(Json(r).size(), 1u);
}

// The artifact records are listed in GitLab's shape (docs/api.md); a
// retried attempt lists none, its files being the newer attempt's now.
TEST_F(ApiTest, JobListsItsArtifactsAsGitLabDoes) {
  PipelineRecord p =
      AddPipeline("main", CiStatus::kSuccess, {{"build", "build", CiStatus::kSuccess}});
  int64_t job = Jobs(p.id)[0].id;
  ASSERT_TRUE(store_->AppendLog(job, "built\n").ok());
  ASSERT_TRUE(store_
                  ->AddArtifact({job, "jobs/build/artifacts", "archive", 1000, "", "bin.zip", "zip",
                                 std::nullopt})
                  .ok());
  ASSERT_TRUE(store_
                  ->AddArtifact({job, "jobs/build/reports/junit", "junit", 750, "", "junit.xml.gz",
                                 "gzip", std::nullopt})
                  .ok());
  std::string url = "/api/v4/projects/1/jobs/" + std::to_string(job);
  json j = Json(Call("GET", url, read_));
  EXPECT_EQ(j["artifacts_file"], json({{"filename", "bin.zip"}, {"size", 1000}}));
  EXPECT_EQ(j["artifacts"], json::parse(R"([
    {"file_type": "archive", "size": 1000, "filename": "bin.zip", "file_format": "zip"},
    {"file_type": "junit", "size": 750, "filename": "junit.xml.gz", "file_format": "gzip"},
    {"file_type": "trace", "size": 6, "filename": "job.log", "file_format": "raw"}
  ])"));
  EXPECT_TRUE(j["artifacts_expire_at"].is_null());
  // The pipeline's job list says the same.
  json listed =
      Json(Call("GET", "/api/v4/projects/1/pipelines/" + std::to_string(p.id) + "/jobs", read_));
  EXPECT_EQ(listed[0]["artifacts"], j["artifacts"]);

  p = AddPipeline("main", CiStatus::kSuccess, {{"build", "build", CiStatus::kSuccess}});
  job = Jobs(p.id)[0].id;
  ASSERT_TRUE(store_
                  ->AddArtifact({job, "jobs/build/artifacts", "archive", 1000, "", "bin.zip", "zip",
                                 std::nullopt})
                  .ok());
  ASSERT_TRUE(store_->RetryJob(job).ok());
  j = Json(Call("GET", "/api/v4/projects/1/jobs/" + std::to_string(job), read_));
  EXPECT_EQ(j["retried"], true);
  EXPECT_EQ(j.count("artifacts_file"), 0u);
  EXPECT_EQ(j["artifacts"], json::array());
}

TEST_F(ApiTest, SingleJobTraceAndStream) {
  PipelineRecord p =
      AddPipeline("main", CiStatus::kRunning, {{"build", "build", CiStatus::kRunning}});
  int64_t job = Jobs(p.id)[0].id;
  ASSERT_TRUE(store_->AppendLog(job, "hello\n").ok());
  std::string base = "/api/v4/projects/1/jobs/" + std::to_string(job);
  HttpResponse r = Call("GET", base, read_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r)["status"], "running");
  EXPECT_EQ(Json(r)["artifacts"][0]["file_type"], "trace");
  r = Call("GET", base + "/trace", read_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello\n");
  EXPECT_EQ(Header(r, "Content-Type"), "text/plain; charset=utf-8");

  r = Call("GET", base + "/trace/stream?offset=3", read_);
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.stream.has_value());
  EXPECT_EQ(r.stream->job_id, job);
  EXPECT_EQ(r.stream->offset, 3);
  EXPECT_EQ(Header(r, "Content-Type"), "text/event-stream");
  r = Call("GET", base + "/trace/stream", read_, "", {{"last-event-id", "5"}});
  ASSERT_TRUE(r.stream.has_value());
  EXPECT_EQ(r.stream->offset, 5);
  EXPECT_EQ(Call("GET", base + "/trace/stream?offset=-1", read_).status, 400);
  EXPECT_EQ(Call("GET", base + "/trace/stream?offset=x", read_).status, 400);

  EXPECT_EQ(Call("GET", "/api/v4/projects/1/jobs/999", read_).status, 404);
  ProjectRecord other;
  other.name = "other";
  other.path_with_namespace = "other";
  ASSERT_TRUE(store_->CreateProject(other).ok());
  EXPECT_EQ(Call("GET", "/api/v4/projects/other/jobs/" + std::to_string(job), read_).status, 404);
}

TEST_F(ApiTest, ActionsNeedTheEngine) {
  PipelineRecord p =
      AddPipeline("main", CiStatus::kRunning, {{"build", "build", CiStatus::kRunning}});
  HttpResponse r = Call("POST", "/api/v4/projects/1/pipeline", run_, R"({"ref":"main"})");
  EXPECT_EQ(r.status, 503);
  r = Call("POST", "/api/v4/projects/1/pipelines/" + std::to_string(p.id) + "/cancel", run_);
  EXPECT_EQ(r.status, 503);
  // Invalid requests are rejected before that.
  r = Call("POST", "/api/v4/projects/1/pipeline", run_, R"({"variables":[]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["message"], "400 Bad request - ref is missing");
  r = Call("POST", "/api/v4/projects/1/pipeline?ref=main", run_,
           R"({"variables":[{"value":"1"}]})");
  EXPECT_EQ(r.status, 400);
  r = Call("POST", "/api/v4/projects/1/pipeline", run_, R"({"ref":"main","variables":"A=1"})");
  EXPECT_EQ(r.status, 400);
}

TEST_F(ApiTest, WebhookResultsMapToStatuses) {
  ProjectRecord signed_project;
  signed_project.name = "signed";
  signed_project.path_with_namespace = "signed";
  signed_project.webhook_secret = "s3cret";
  int64_t id = store_->CreateProject(signed_project)->id;
  std::string hook = "/hooks/gitlab/" + std::to_string(id);
  std::string push = R"({"object_kind":"push","ref":"refs/heads/main","before":")" +
                     std::string(40, '0') + R"(","after":")" + std::string(40, 'b') + R"("})";
  // No API token needed, but the forge's.
  HttpResponse r =
      Call("POST", hook, "", push, {{"x-gitlab-event", "Push Hook"}, {"x-gitlab-token", "wrong"}});
  EXPECT_EQ(r.status, 401) << r.body;
  r = Call("POST", hook, "", "{not json",
           {{"x-gitlab-event", "Push Hook"}, {"x-gitlab-token", "s3cret"}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = Call("POST", hook, "", R"({"object_kind":"issue"})",
           {{"x-gitlab-event", "Issue Hook"}, {"x-gitlab-token", "s3cret"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"message":"ignored"})");
  EXPECT_EQ(Call("POST", "/hooks/gitlab/999", "", push).status, 404);
  EXPECT_EQ(Call("POST", "/hooks/bitbucket/1", "", push).status, 404);
  // A valid push needs the engine to create the pipeline.
  r = Call("POST", hook, "", push, {{"x-gitlab-event", "Push Hook"}, {"x-gitlab-token", "s3cret"}});
  EXPECT_EQ(r.status, 503) << r.body;
}

// A project without a webhook secret refuses every webhook, signed or not,
// before reading it, unless it was registered to allow unsigned ones.
TEST_F(ApiTest, WebhooksOfAProjectWithoutASecretAreRefusedUnlessAllowed) {
  std::string push = R"({"object_kind":"push","ref":"refs/heads/main","before":")" +
                     std::string(40, '0') + R"(","after":")" + std::string(40, 'b') + R"("})";
  std::string hook = "/hooks/gitlab/" + std::to_string(project_id_);
  for (const auto& headers : std::vector<std::map<std::string, std::string>>{
           {{"x-gitlab-event", "Push Hook"}},
           {{"x-gitlab-event", "Push Hook"}, {"x-gitlab-token", ""}},
           {{"x-gitlab-event", "Push Hook"}, {"x-gitlab-token", "anything"}}}) {
    HttpResponse r = Call("POST", hook, "", push, headers);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(Json(r)["message"],
              "403 Forbidden - project " + std::to_string(project_id_) +
                  " has no webhook secret: set one (slipway project add --webhook-secret) or "
                  "allow unsigned webhooks (--allow-unsigned-webhooks)");
  }
  EXPECT_EQ(Call("POST", "/hooks/github/" + std::to_string(project_id_), "", push,
                 {{"x-github-event", "push"}})
                .status,
            403);
  HttpResponse created = Call("POST", "/api/v4/projects", admin_,
                              R"({"name":"open","repo_url":"/srv/open.git",)"
                              R"("allow_unsigned_webhooks":true})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Json(created)["allow_unsigned_webhooks"], true);
  std::string open = "/hooks/gitlab/" + Json(created)["id"].dump();
  // Accepted: only the engine, absent here, is missing.
  EXPECT_EQ(Call("POST", open, "", push, {{"x-gitlab-event", "Push Hook"}}).status, 503);
  EXPECT_EQ(Call("POST", "/api/v4/projects", admin_,
                 R"({"name":"x","repo_url":"/x",)"
                 R"("allow_unsigned_webhooks":"maybe"})")
                .status,
            400);
}

TEST_F(ApiTest, RoutingErrors) {
  HttpResponse r = Call("GET", "/api/v4/projects/1/nothing", read_);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"message":"404 Not Found"})");
  r = Call("POST", "/api/v4/projects/1", admin_);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "GET, PUT, DELETE");
  r = Call("PATCH", "/api/v4/projects", admin_);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "GET, POST");
  EXPECT_EQ(Call("POST", "/healthz", "").status, 405);
  EXPECT_EQ(Call("GET", "/hooks/gitlab/1", "").status, 405);
  EXPECT_EQ(Call("POST", "/hooks/gitlab", "").status, 404);
}

TEST_F(ApiTest, OddRequestsGetErrorsNotCrashes) {
  for (const char* target :
       {"", "/", "//", "/api", "/api/v4", "/api/v4/", "/api/v4/projects/%",
        "/api/v4/projects/%zz/pipelines", "/api/v4/projects/1/pipelines/%00",
        "/api/v4/projects/1/jobs/1/artifacts/..%2F..%2Fetc%2Fpasswd", "/api/v4/projects//pipelines",
        "/api/v4/projects/1?=&&=x&page", "/api/v4/projects/99999999999999999999999/pipelines", "*",
        "http://example/api/v4/user", "/%2e%2e/%2e%2e/etc/passwd"}) {
    HttpResponse r = Call("GET", target, read_);
    EXPECT_TRUE(r.status == 200 || r.status == 400 || r.status == 404 || r.status == 405)
        << target << ": " << r.status << " " << r.body;
  }
  std::string deep(200000, '[');
  HttpResponse r = Call("POST", "/api/v4/projects", admin_, deep);
  EXPECT_EQ(r.status, 400);
  // A run token's pipeline request nested 100,000 deep used to crash the
  // server (stack overflow copying the parameters): GitLab's 400 instead.
  std::string nested =
      R"({"ref":"main","variables":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  r = Call("POST", "/api/v4/projects/1/pipeline", run_, nested);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["error"], "Parameters nested too deeply");
  std::string key = "variables";
  for (int i = 0; i < 100000; ++i) key += "[x]";
  r = Call("POST", "/api/v4/projects/1/pipeline?ref=main", run_, key + "=1",
           {{"content-type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["error"], "Parameters nested too deeply");
  ProjectRecord open;
  open.name = "open";
  open.path_with_namespace = "group/open";
  open.allow_unsigned_webhooks = true;
  std::string open_hook = "/hooks/github/" + std::to_string(store_->CreateProject(open)->id);
  r = Call("POST", open_hook, "", nested, {{"x-github-event", "push"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["message"], "400 Bad request - Parameters nested too deeply");
  r = Call("POST", "/api/v4/projects/1/pipeline", run_,
           R"({"ref":["main"],"variables":[{"key":{"a":1},"value":[1]}]})");
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(ApiTest, HealthAndMetricsNeedNoToken) {
  AddPipeline("main", CiStatus::kSuccess, {{"build", "build", CiStatus::kSuccess}});
  HttpResponse r = Call("GET", "/healthz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  Call("GET", "/api/v4/projects", "");
  r = Call("GET", "/metrics", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("slipway_pipelines{status=\"success\"} 1\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("slipway_jobs{status=\"success\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("slipway_http_requests_total{code=\"401\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("slipway_log_watchers 0\n"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE slipway_job_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(r.body.find("slipway_queue_length 0\n"), std::string::npos);
  // Finished after the Api started: observed once, with its jobs.
  EXPECT_NE(r.body.find("slipway_pipeline_duration_seconds_bucket{le=\"5\"} 1\n"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("slipway_pipeline_duration_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("slipway_job_duration_seconds_count 1\n"), std::string::npos);
  clock_.Advance(std::chrono::milliseconds(5000));
  r = Call("GET", "/metrics", "");
  EXPECT_NE(r.body.find("slipway_pipeline_duration_seconds_count 1\n"), std::string::npos);
}

// With a metrics token, /metrics answers only its bearer; API tokens,
// the token in the query string or a prefix of it are not it.
TEST_F(ApiTest, MetricsCanRequireAToken) {
  ApiOptions options;
  options.clock = &clock_;
  options.metrics_token = "m3trics-t0ken";
  api_ = std::make_unique<Api>(store_.get(), nullptr, &hub_, options);
  HttpResponse r = Call("GET", "/metrics", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Header(r, "WWW-Authenticate"), "Bearer realm=\"slipway metrics\"");
  EXPECT_EQ(Call("GET", "/metrics", admin_).status, 401);
  EXPECT_EQ(Call("GET", "/metrics?token=m3trics-t0ken", "").status, 401);
  for (std::string wrong : {"Bearer m3trics-t0ke", "Bearer m3trics-t0ken2", "m3trics-t0ken",
                            "Basic m3trics-t0ken", "Bearer  m3trics-t0ken"}) {
    EXPECT_EQ(Call("GET", "/metrics", "", "", {{"authorization", wrong}}).status, 401) << wrong;
  }
  r = Call("GET", "/metrics", "", "", {{"authorization", "Bearer m3trics-t0ken"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("slipway_queue_length"), std::string::npos);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);  // Health checks stay open.
}

TEST_F(ApiTest, WebUiWithETags) {
  HttpResponse r = Call("GET", "/", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<html"), std::string::npos);
  std::string etag = Header(r, "ETag");
  HttpResponse again = Call("GET", "/", "", "", {{"if-none-match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  // Paths without an extension get index.html; missing files a 404.
  EXPECT_EQ(Call("GET", "/other/thing", "").body, r.body);
  EXPECT_EQ(Call("GET", "/missing.js", "").status, 404);
  // GitLab's web URLs (web_url fields) lead to the UI's routes.
  HttpResponse redirect = Call("GET", "/group/app/-/pipelines/7", "");
  EXPECT_EQ(redirect.status, 302);
  EXPECT_EQ(Header(redirect, "Location"), "/#/projects/1/pipelines/7");
  EXPECT_EQ(Header(Call("GET", "/group/app/-/jobs/9", ""), "Location"), "/#/projects/1/jobs/9");
  EXPECT_EQ(Header(Call("GET", "/group/app", ""), "Location"), "/#/projects/1");
  EXPECT_EQ(Call("GET", "/group/app/-/pipelines/x", "").body, r.body);  // Not a web URL: the UI.
  EXPECT_EQ(Call("POST", "/", "").status, 405);
}

TEST_F(ApiTest, FinishedPipelinesAreCachedUntilAWrite) {
  PipelineRecord p =
      AddPipeline("main", CiStatus::kSuccess, {{"build", "build", CiStatus::kSuccess}});
  std::string url = "/api/v4/projects/1/pipelines/" + std::to_string(p.id);
  HttpResponse first = Call("GET", url, read_);
  ASSERT_EQ(first.status, 200);
  HttpResponse etag_hit = Call("GET", url, read_, "", {{"if-none-match", Header(first, "ETag")}});
  EXPECT_EQ(etag_hit.status, 304);
  EXPECT_EQ(Call("GET", url, admin_).body, first.body);
  EXPECT_EQ(Call("DELETE", url, admin_).status, 204);
  EXPECT_EQ(Call("GET", url, read_).status, 404);
}

// A reader varying the query string of a finished job's trace made the
// cache keep one copy per URL, up to 10,000 traces of up to 64 MiB each.
TEST_F(ApiTest, ResponseCacheIsBoundedInBytes) {
  PipelineRecord p =
      AddPipeline("main", CiStatus::kSuccess, {{"build", "build", CiStatus::kSuccess}});
  int64_t job = Jobs(p.id)[0].id;
  ASSERT_TRUE(store_->AppendLog(job, std::string(200 << 10, 'x')).ok());
  std::string trace = "/api/v4/projects/1/jobs/" + std::to_string(job) + "/trace";
  EXPECT_EQ(api_->cached_response_bytes(), 0u);
  for (int i = 0; i < 100; ++i) {
    HttpResponse r = Call("GET", trace + "?n=" + std::to_string(i), read_);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.size(), 200u << 10);
    EXPECT_LE(api_->cached_response_bytes(), ApiOptions().response_cache_bytes);
  }
  EXPECT_GT(api_->cached_response_bytes(), 0u);  // Still a cache.
  // A body larger than a cache entry may be is not kept at all.
  ASSERT_TRUE(store_->AppendLog(job, std::string(1 << 20, 'y')).ok());
  size_t before = api_->cached_response_bytes();
  HttpResponse big = Call("GET", trace + "?big", read_);
  ASSERT_EQ(big.status, 200);
  EXPECT_GT(big.body.size(), ApiOptions().max_cached_body_bytes);
  EXPECT_EQ(api_->cached_response_bytes(), before);
}

// A repository URL with credentials is shown masked, as GitLab masks an
// import URL (Gitlab::UrlSanitizer#masked_url).
TEST_F(ApiTest, ProjectUrlsShowNoCredentials) {
  HttpResponse r =
      Call("POST", "/api/v4/projects", admin_,
           R"({"name":"web","repo_url":"https://ci-bot:glpat-s3cret@git.example/web.git"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body.find("s3cret"), std::string::npos) << r.body;
  json p = Json(Call("GET", "/api/v4/projects/web", read_));
  EXPECT_EQ(p["repo_url"], "https://*****:*****@git.example/web.git");
  EXPECT_EQ(p["http_url_to_repo"], "https://*****:*****@git.example/web.git");
  EXPECT_EQ(Call("GET", "/api/v4/projects", read_).body.find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace slipway
