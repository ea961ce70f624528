// PipelineService end to end: pipelines from pushes and the API, their
// variables, logs and errors (pipeline_service_test_util.h).
#include "server/pipeline_service.h"

#include <gtest/gtest.h>

#include <set>

#include "server/gitlab_json.h"
#include "server/pipeline_service_test_util.h"

namespace slipway {
namespace {

TEST_P(PipelineServiceTest, PushPipelineRunsWithServerVariablesAndLiveLogs) {
  repo_.Write(".gitlab-ci.yml", R"(
build:
  script:
    - while [ ! -f "$GATE" ]; do sleep 0.02; done
    - echo "branch=$CI_COMMIT_BRANCH ref=$CI_COMMIT_REF_NAME source=$CI_PIPELINE_SOURCE"
    - echo "sha=$CI_COMMIT_SHA before=$CI_COMMIT_BEFORE_SHA"
    - echo "pipeline=$CI_PIPELINE_ID iid=$CI_PIPELINE_IID job=$CI_JOB_ID"
    - echo "project=$CI_PROJECT_ID path=$CI_PROJECT_PATH name=$CI_PROJECT_NAME default=$CI_DEFAULT_BRANCH"
    - echo "var=$FROM_REQUEST"
    - cat file.txt
  rules:
    - if: $CI_PIPELINE_SOURCE == "push"
api_only:
  script: exit 1
  rules:
    - if: $CI_PIPELINE_SOURCE == "api"
)");
  std::string first = repo_.Commit("first");
  repo_.Git({"checkout", "-q", "-b", "feature"});
  std::string second = repo_.Commit("second commit");
  repo_.Git({"checkout", "-q", "main"});
  repo_.Commit("moved on");  // main moves: the pipeline must run `second`.
  int64_t project = AddProject();

  std::string gate = work_dir_ + "/gate";
  CreatePipelineRequest request;
  request.project_id = project;
  request.ref = "feature";
  request.sha = second;
  request.before_sha = first;
  request.source = "push";
  request.variables = {{"FROM_REQUEST", "hello"}, {"GATE", gate}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->sha, second);
  EXPECT_EQ(created->source, "push");
  auto jobs = Jobs(created->id);
  ASSERT_EQ(jobs.size(), 1u);  // api_only is excluded by its rules.
  int64_t job_id = jobs.at("build").id;

  std::mutex mu;
  std::string live;
  int64_t first_offset = -1;
  bool finished = false;
  uint64_t handle = hub_.Subscribe(job_id, [&](int64_t offset, std::string_view bytes, bool done) {
    std::lock_guard<std::mutex> lock(mu);
    if (done) {
      finished = true;
      return;
    }
    if (first_offset < 0) first_offset = offset;
    EXPECT_EQ(offset, first_offset + static_cast<int64_t>(live.size()));
    live += bytes;
  });
  std::ofstream(gate) << "go";
  PipelineRecord done = WaitDone(created->id);
  hub_.Unsubscribe(handle);
  EXPECT_EQ(done.status, CiStatus::kSuccess);
  JobRecord job = Jobs(created->id).at("build");
  EXPECT_EQ(job.status, CiStatus::kSuccess);
  std::string log = Log(job_id);
  EXPECT_NE(log.find("branch=feature ref=feature source=push"), std::string::npos) << log;
  EXPECT_NE(log.find("sha=" + second + " before=" + first), std::string::npos) << log;
  EXPECT_NE(log.find("pipeline=" + std::to_string(created->id) +
                     " iid=" + std::to_string(created->iid) + " job=" + std::to_string(job_id)),
            std::string::npos)
      << log;
  EXPECT_NE(
      log.find("project=" + std::to_string(project) + " path=group/app name=app default=main"),
      std::string::npos)
      << log;
  EXPECT_NE(log.find("var=hello"), std::string::npos) << log;
  EXPECT_NE(log.find("second commit"), std::string::npos) << log;
  // Live chunks join the stored log without gaps: what the hub delivered is
  // the stored log from the first chunk's offset on.
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(finished);
  ASSERT_GE(first_offset, 0);
  EXPECT_EQ(live, log.substr(first_offset));
}

// A branch push's rules:changes compare with the commit before the push;
// a new branch's first push and an API pipeline know no changes (all true).
TEST_P(PipelineServiceTest, PushRulesChangesCompareWithTheCommitBeforeThePush) {
  repo_.Write(".gitlab-ci.yml", R"(
docs:
  script: echo docs
  rules:
    - changes: [docs/**/*]
code:
  script: echo code
  rules:
    - changes: [src/**/*]
)");
  std::string before = repo_.Commit("docs", "docs/a.md");
  std::string after = repo_.Commit("code", "src/a.c");
  int64_t project = AddProject();
  auto created_with = [&](const std::string& source, const std::string& before_sha) {
    CreatePipelineRequest request;
    request.project_id = project;
    request.ref = "main";
    request.sha = after;
    request.before_sha = before_sha;
    request.source = source;
    auto created = service_->CreatePipeline(request);
    EXPECT_TRUE(created.ok()) << created.status().message();
    std::set<std::string> names;
    if (created.ok()) {
      for (const auto& [name, job] : Jobs(created->id)) names.insert(name);
      WaitDone(created->id);
    }
    return names;
  };
  EXPECT_EQ(created_with("push", before), std::set<std::string>({"code"}));
  EXPECT_EQ(created_with("push", std::string(40, '0')), std::set<std::string>({"code", "docs"}));
  EXPECT_EQ(created_with("push", std::string(40, 'f')), std::set<std::string>({"code", "docs"}));
  EXPECT_EQ(created_with("api", before), std::set<std::string>({"code", "docs"}));
}

TEST_P(PipelineServiceTest, ApiPipelineOnTheDefaultBranchAndTags) {
  repo_.Write(".gitlab-ci.yml", R"(
job:
  script: echo "tag=[$CI_COMMIT_TAG] branch=[$CI_COMMIT_BRANCH] source=$CI_PIPELINE_SOURCE"
)");
  std::string sha = repo_.Commit("one");
  repo_.Git({"tag", "v1.0"});
  int64_t project = AddProject();
  CreatePipelineRequest request;
  request.project_id = project;
  auto on_main = service_->CreatePipeline(request);
  ASSERT_TRUE(on_main.ok()) << on_main.status().message();
  EXPECT_EQ(on_main->ref, "main");
  EXPECT_EQ(on_main->sha, sha);
  request.ref = "v1.0";
  request.tag = true;
  auto on_tag = service_->CreatePipeline(request);
  ASSERT_TRUE(on_tag.ok()) << on_tag.status().message();
  EXPECT_TRUE(on_tag->tag);
  EXPECT_EQ(WaitDone(on_main->id).status, CiStatus::kSuccess);
  EXPECT_EQ(WaitDone(on_tag->id).status, CiStatus::kSuccess);
  EXPECT_NE(Log(Jobs(on_main->id).at("job").id).find("tag=[] branch=[main] source=api"),
            std::string::npos);
  EXPECT_NE(Log(Jobs(on_tag->id).at("job").id).find("tag=[v1.0] branch=[] source=api"),
            std::string::npos);

  request.ref = "nope";
  request.tag = false;
  auto unknown = service_->CreatePipeline(request);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown branch 'nope'");
  request.ref = "--upload-pack=touch /tmp/x";
  EXPECT_FALSE(service_->CreatePipeline(request).ok());
  // A push names its commit: the ref is still checked before anything runs
  // (it used to reach the pipeline and its jobs' variables unchecked).
  request.sha = sha;
  for (const char* bad : {"../../../x", "--upload-pack=touch /tmp/x", "a..b", "x.lock"}) {
    request.ref = bad;
    auto refused = service_->CreatePipeline(request);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().message().rfind("invalid branch name '", 0), 0u)
        << refused.status().message();
  }
  request.sha.clear();
  request.ref = "main";
  request.sha = "0123456789012345678901234567890123456789";
  auto missing = service_->CreatePipeline(request);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("is not in"), std::string::npos);
}

TEST_P(PipelineServiceTest, InvalidFileGivesAFailedPipelineWithTheLintErrors) {
  repo_.Write(".gitlab-ci.yml", "job:\n  script: [echo\n");
  repo_.Commit("broken");
  int64_t project = AddProject();
  CreatePipelineRequest request;
  request.project_id = project;
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->status, CiStatus::kFailed);
  EXPECT_TRUE(created->finished_at.has_value()) << created->started_at.has_value();
  EXPECT_NE(created->yaml_errors.find(".gitlab-ci.yml:"), std::string::npos)
      << created->yaml_errors;
  EXPECT_NE(created->yaml_errors.find("error"), std::string::npos) << created->yaml_errors;
  EXPECT_TRUE(Jobs(created->id).empty());
}

// The URL may carry credentials (https://user:token@host/…): the error a
// failed fetch gives (the API's 400, a job's log) shows them masked.
TEST_P(PipelineServiceTest, FetchErrorsShowNoCredentials) {
  ProjectRecord p;
  p.name = "app";
  p.path_with_namespace = "group/app";
  p.repo_url = "http://ci-bot:s3cret-token@127.0.0.1:1/app.git";  // Nothing listens there.
  auto project = store_->CreateProject(p);
  ASSERT_TRUE(project.ok()) << project.status().message();
  CreatePipelineRequest request;
  request.project_id = project->id;
  auto created = service_->CreatePipeline(request);
  ASSERT_FALSE(created.ok());
  std::string message = created.status().message();
  EXPECT_EQ(message.rfind("cannot fetch http://*****:*****@127.0.0.1:1/app.git: ", 0), 0u)
      << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
  request.sha = std::string(40, 'a');
  created = service_->CreatePipeline(request);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().message().find("s3cret"), std::string::npos)
      << created.status().message();
}

TEST_P(PipelineServiceTest, WorkflowRulesThatCreateNothingAreAnError) {
  repo_.Write(".gitlab-ci.yml", R"(
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
job:
  script: echo hi
)");
  repo_.Commit("only scheduled");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  auto created = service_->CreatePipeline(request);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("no pipeline"), std::string::npos);
}

}  // namespace

SLIPWAY_STORE_TEST_SUITE(PipelineServiceTest);

}  // namespace slipway
