// Merge-request pipelines end to end: merge and pull-request webhooks of
// each forge, signed as each documents, through the Api and a real
// PipelineService on real git repositories, SQLite and PostgreSQL. (No forge
// runs here: the requests are built in the forges' documented shapes, as in
// merge_request_hook_test.cc.)
#include <gmock/gmock.h>

#include "server/api.h"
#include "server/pipeline_service_test_util.h"
#include "server/webhook.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;

constexpr char kSecret[] = "s3cret";

// GitLab's duplicate-pipeline pattern: a branch with an open merge request
// runs only the merge request's pipeline.
constexpr char kPipelineFile[] = R"(
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
      when: never
    - if: $CI_COMMIT_BRANCH
docs:
  script: echo docs
  rules:
    - changes: [docs/**/*]
code:
  script: echo code
  rules:
    - changes: [src/**/*]
mr:
  script:
    - echo "iid=$CI_MERGE_REQUEST_IID src=$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME dst=$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"
    - echo "base=$CI_MERGE_REQUEST_DIFF_BASE_SHA type=$CI_MERGE_REQUEST_EVENT_TYPE"
    - echo "labels=$CI_MERGE_REQUEST_LABELS title=$CI_MERGE_REQUEST_TITLE"
    - echo "branch=[${CI_COMMIT_BRANCH-unset}] ref=$CI_COMMIT_REF_NAME open=$CI_OPEN_MERGE_REQUESTS"
    - echo "key=[${DEPLOY_KEY:-unset}] protected=$CI_COMMIT_REF_PROTECTED"
  rules:
    - if: $CI_MERGE_REQUEST_IID
branch:
  script: echo "branch key=[${DEPLOY_KEY:-unset}]"
  rules:
    - if: $CI_COMMIT_BRANCH
)";

class MergeRequestPipelineTest : public PipelineServiceTest {
 protected:
  // main: A (the pipeline file) then C (docs/guide.md); feature: A then B
  // (src/a.c). Compared with its merge base A, feature changes src/ only;
  // compared with main's tip it would change docs/ too.
  void SetUp() override {
    PipelineServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    repo_.Write(".gitlab-ci.yml", kPipelineFile);
    base_ = repo_.Commit("A", "README");
    repo_.Git({"checkout", "-q", "-b", "feature"});
    feature_ = repo_.Commit("B", "src/a.c");
    repo_.Git({"checkout", "-q", "main"});
    main_ = repo_.Commit("C", "docs/guide.md");
    ProjectRecord p;
    p.name = "app";
    p.path_with_namespace = "group/app";
    p.repo_url = repo_.dir();
    p.webhook_secret = kSecret;
    auto created = store_->CreateProject(p);
    ASSERT_TRUE(created.ok()) << created.status().message();
    project_ = created->id;
    api_ = std::make_unique<Api>(store_.get(), service_.get(), &hub_);
  }
  void TearDown() override {
    api_.reset();
    PipelineServiceTest::TearDown();
  }

  HttpResponse Post(const std::string& forge, std::map<std::string, std::string> headers,
                    const std::string& body) {
    HttpRequest req;
    req.method = "POST";
    ParseTarget("/hooks/" + forge + "/" + std::to_string(project_), &req);
    req.headers = std::move(headers);
    req.headers["host"] = "ci.example";
    req.body = body;
    return api_->Handle(req);
  }
  // Signed as GitHub signs (X-Hub-Signature-256), with a delivery id.
  HttpResponse PostGitHub(const std::string& event, const std::string& body) {
    return Post("github",
                {{"x-github-event", event},
                 {"x-github-delivery", "gh-" + std::to_string(++deliveries_)},
                 {"x-hub-signature-256", "sha256=" + HmacSha256Hex(kSecret, body)}},
                body);
  }

  std::string PushBody(const std::string& branch, const std::string& after) {
    return R"({"ref":"refs/heads/)" + branch + R"(","before":")" +
           std::string(40, 'a' + deliveries_ % 6) + R"(","after":")" + after + R"("})";
  }
  std::string PullRequestBody(const std::string& action, const std::string& head_ref,
                              const std::string& head_sha, const std::string& base_ref) {
    return R"({"action":")" + action + R"(","number":2,"pull_request":{"number":2,"state":")" +
           (action == "closed" ? "closed" : "open") +
           R"(","title":"Add a.c","draft":false,"merged":false,)" +
           R"("labels":[{"name":"backend"},{"name":"urgent"}],)" + R"("head":{"ref":")" + head_ref +
           R"(","sha":")" + head_sha + R"(","repo":{"full_name":"o/app"}},)" +
           R"("base":{"ref":")" + base_ref +
           R"(","sha":"0000000000000000000000000000000000000001","repo":{"full_name":"o/app"}}},)" +
           R"("repository":{"full_name":"o/app"}})";
  }

  // The pipeline a 201 answer describes.
  PipelineRecord Created(const HttpResponse& r) {
    EXPECT_EQ(r.status, 201) << r.body;
    nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 201 || !body.is_object()) return {};
    auto p = store_->GetPipeline(body.value("id", int64_t{0}));
    EXPECT_TRUE(p.ok() && *p);
    return p.ok() && *p ? **p : PipelineRecord();
  }
  std::vector<std::string> JobNames(int64_t pipeline_id) {
    std::vector<std::string> names;
    for (const auto& [name, job] : Jobs(pipeline_id)) names.push_back(name);
    return names;
  }
  int64_t PipelineCount() {
    PipelineFilter filter;
    filter.project_id = project_;
    auto page = store_->ListPipelines(filter);
    return page.ok() ? page->total : -1;
  }

  std::string base_, feature_, main_;
  int64_t project_ = 0;
  int deliveries_ = 0;
  std::unique_ptr<Api> api_;
};

TEST_P(MergeRequestPipelineTest, GitHubPullRequestReplacesTheBranchPipeline) {
  // Before the pull request: a branch pipeline (its changes are unknown, so
  // both changes rules hold, as on GitLab for a new branch).
  PipelineRecord push = Created(PostGitHub("push", PushBody("feature", feature_)));
  EXPECT_EQ(push.source, "push");
  EXPECT_EQ(JobNames(push.id), (std::vector<std::string>{"branch", "code", "docs"}));

  std::string opened = PullRequestBody("opened", "feature", feature_, "main");
  PipelineRecord mr = Created(PostGitHub("pull_request", opened));
  EXPECT_EQ(mr.source, "merge_request_event");
  EXPECT_EQ(mr.ref, "feature");
  EXPECT_EQ(mr.sha, feature_);
  ASSERT_TRUE(mr.merge_request);
  EXPECT_EQ(mr.merge_request->diff_base_sha, base_);
  EXPECT_EQ(mr.merge_request->target_sha, main_);
  EXPECT_EQ(mr.open_merge_requests, "group/app!2");
  // rules:changes compare with the merge base: src/ changed, docs/ did not.
  EXPECT_EQ(JobNames(mr.id), (std::vector<std::string>{"code", "mr"}));
  PipelineRecord done = WaitDone(mr.id);
  EXPECT_EQ(done.status, CiStatus::kSuccess);
  std::string log = Log(Jobs(mr.id)["mr"].id);
  EXPECT_THAT(log, HasSubstr("iid=2 src=feature dst=main"));
  EXPECT_THAT(log, HasSubstr("base=" + base_ + " type=detached"));
  EXPECT_THAT(log, HasSubstr("labels=backend,urgent title=Add a.c"));
  EXPECT_THAT(log, HasSubstr("branch=[unset] ref=feature open=group/app!2"));

  // The same delivery again creates nothing.
  int64_t count = PipelineCount();
  HttpResponse again = Post("github",
                            {{"x-github-event", "pull_request"},
                             {"x-github-delivery", "gh-2"},
                             {"x-hub-signature-256", "sha256=" + HmacSha256Hex(kSecret, opened)}},
                            opened);
  EXPECT_EQ(again.body, R"({"message":"duplicate delivery ignored"})");
  // With the pull request open, a push to its branch makes no branch
  // pipeline (workflow:rules), and a label makes no pipeline at all.
  HttpResponse pushed = PostGitHub("push", PushBody("feature", feature_));
  EXPECT_EQ(pushed.status, 422) << pushed.body;
  EXPECT_THAT(pushed.body, HasSubstr("no pipeline"));
  HttpResponse labeled =
      PostGitHub("pull_request", PullRequestBody("labeled", "feature", feature_, "main"));
  EXPECT_EQ(labeled.status, 200);
  EXPECT_EQ(labeled.body, R"({"message":"merge request !2 opened, no new commits: no pipeline"})");
  EXPECT_EQ(PipelineCount(), count);

  // Closed: the branch has no open merge request any more.
  HttpResponse closed =
      PostGitHub("pull_request", PullRequestBody("closed", "feature", feature_, "main"));
  EXPECT_EQ(closed.body, R"({"message":"merge request !2 closed, no new commits: no pipeline"})");
  PipelineRecord after = Created(PostGitHub("push", PushBody("feature", feature_)));
  EXPECT_EQ(after.source, "push");
  EXPECT_EQ(after.open_merge_requests, "");
}

TEST_P(MergeRequestPipelineTest, GitLabMergeRequestHook) {
  auto body = [&](const std::string& action, const std::string& extra) {
    return R"({"object_kind":"merge_request","event_type":"merge_request",)"
           R"("project":{"id":1,"path_with_namespace":"group/app"},)"
           R"("object_attributes":{"iid":7,"title":"Draft: a.c","source_branch":"feature",)"
           R"("target_branch":"main","source_project_id":1,"target_project_id":1,)"
           R"("state":"opened","draft":true,"action":")" +
           action + R"(","last_commit":{"id":")" + feature_ + R"("})" + extra +
           R"(},)"
           R"("labels":[{"title":"backend"}]})";
  };
  auto post = [&](const std::string& text) {
    return Post("gitlab",
                {{"x-gitlab-event", "Merge Request Hook"},
                 {"x-gitlab-token", kSecret},
                 {"x-gitlab-event-uuid", "uuid-" + std::to_string(++deliveries_)}},
                text);
  };
  PipelineRecord opened = Created(post(body("open", "")));
  EXPECT_EQ(opened.source, "merge_request_event");
  EXPECT_EQ(JobNames(opened.id), (std::vector<std::string>{"code", "mr"}));
  // A title edit is an update without oldrev: no pipeline.
  HttpResponse edited = post(body("update", ""));
  EXPECT_EQ(edited.status, 200) << edited.body;
  // New commits: an update with oldrev.
  PipelineRecord pushed = Created(post(body("update", R"(,"oldrev":")" + base_ + R"(")")));
  EXPECT_EQ(pushed.merge_request->iid, 7);
  EXPECT_EQ(pushed.merge_request->labels, std::vector<std::string>{"backend"});
  EXPECT_TRUE(pushed.merge_request->draft);
  // A wrong token creates nothing.
  HttpResponse wrong =
      Post("gitlab", {{"x-gitlab-event", "Merge Request Hook"}, {"x-gitlab-token", "no"}},
           body("open", ""));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(PipelineCount(), 2);
}

TEST_P(MergeRequestPipelineTest, GiteaPullRequestSync) {
  auto post = [&](const std::string& event, const std::string& text) {
    return Post("gitea",
                {{"x-gitea-event", event},
                 {"x-gitea-delivery", "gt-" + std::to_string(++deliveries_)},
                 {"x-gitea-signature", HmacSha256Hex(kSecret, text)}},
                text);
  };
  PipelineRecord opened =
      Created(post("pull_request", PullRequestBody("opened", "feature", feature_, "main")));
  EXPECT_EQ(opened.source, "merge_request_event");
  PipelineRecord synced = Created(
      post("pull_request_sync", PullRequestBody("synchronized", "feature", feature_, "main")));
  EXPECT_EQ(synced.source, "merge_request_event");
  // Signed with another secret: refused.
  std::string text = PullRequestBody("opened", "feature", feature_, "main");
  HttpResponse forged =
      Post("gitea",
           {{"x-gitea-event", "pull_request"}, {"x-gitea-signature", HmacSha256Hex("guess", text)}},
           text);
  EXPECT_EQ(forged.status, 401);
}

// A merge request's code is not trusted with protected variables, even when
// its source branch is a protected one (GitLab's CI_COMMIT_REF_PROTECTED
// holds for the branch's own pipelines, not for a merge request from it).
TEST_P(MergeRequestPipelineTest, ProtectedVariablesNeverReachAMergeRequestPipeline) {
  repo_.Git({"branch", "release", base_});
  ProjectVariableRecord v;
  v.project_id = project_;
  v.key = "DEPLOY_KEY";
  v.value = "deploy-key-value";
  v.is_protected = true;
  auto created = store_->CreateProjectVariable(v);
  ASSERT_TRUE(created.ok() && *created);
  PipelineRecord branch = Created(PostGitHub("push", PushBody("main", main_)));
  WaitDone(branch.id);
  EXPECT_THAT(Log(Jobs(branch.id)["branch"].id), HasSubstr("branch key=[deploy-key-value]"));
  PipelineRecord mr =
      Created(PostGitHub("pull_request", PullRequestBody("opened", "main", main_, "release")));
  WaitDone(mr.id);
  EXPECT_THAT(Log(Jobs(mr.id)["mr"].id), HasSubstr("key=[unset] protected=false"));
}

TEST_P(MergeRequestPipelineTest, AnUnknownTargetBranchCreatesNothing) {
  HttpResponse r =
      PostGitHub("pull_request", PullRequestBody("opened", "feature", feature_, "nowhere"));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_THAT(r.body, HasSubstr("merge request !2: target branch 'nowhere'"));
  EXPECT_EQ(PipelineCount(), 0);
}

SLIPWAY_STORE_TEST_SUITE(MergeRequestPipelineTest);

}  // namespace
}  // namespace slipway
