// Merge and pull-request events of each forge, in the shapes their webhook
// documentation gives (abridged to the fields read and a few around them;
// no forge runs here). GitLab: "Merge request events"; GitHub:
// "pull_request" webhook payload; Gitea: the pull_request payload, and
// pull_request_sync (action synchronized) for pushes to the source branch.
#include "server/merge_request_hook.h"

#include <gtest/gtest.h>

#include <string>

namespace slipway {
namespace {

constexpr char kHead[] = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";

std::string GitLabMergeRequest(const std::string& action, const std::string& extra = "",
                               const std::string& source_branch = "ms-viewport") {
  return R"({
  "object_kind": "merge_request", "event_type": "merge_request",
  "user": {"id": 1, "name": "Administrator", "username": "root"},
  "project": {"id": 1, "name": "Gitlab Test", "path_with_namespace": "gitlabhq/gitlab-test",
              "default_branch": "master"},
  "object_attributes": {
    "id": 99, "iid": 1, "target_branch": "master", "source_branch": ")" +
         source_branch + R"(",
    "source_project_id": 14, "target_project_id": 14, "title": "MS-Viewport",
    "state": ")" +
         std::string(action == "close"   ? "closed"
                     : action == "merge" ? "merged"
                                         : "opened") +
         R"(", "draft": false, "work_in_progress": false,
    "last_commit": {"id": ")" +
         std::string(kHead) + R"(", "message": "fixed readme"},
    "action": ")" +
         action + R"(")" + extra + R"(
  },
  "labels": [{"id": 206, "title": "API", "color": "#ffffff", "type": "ProjectLabel"},
             {"id": 207, "title": "urgent", "color": "#ff0000", "type": "ProjectLabel"}]
})";
}

std::string PullRequest(const std::string& action, const std::string& head_repo = "o/r") {
  return R"({
  "action": ")" +
         action + R"(", "number": 2,
  "pull_request": {
    "url": "https://api.github.com/repos/o/r/pulls/2", "number": 2, "state": ")" +
         std::string(action == "closed" ? "closed" : "open") + R"(",
    "title": "Update the README with new information.", "draft": true, "merged": false,
    "labels": [{"id": 1, "name": "docs"}],
    "head": {"label": "o:changes", "ref": "changes", "sha": ")" +
         std::string(kHead) + R"(", "repo": {"full_name": ")" + head_repo + R"("}},
    "base": {"label": "o:main", "ref": "main", "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
             "repo": {"full_name": "o/r"}}
  },
  "repository": {"full_name": "o/r"}
})";
}

WebhookResult Parse(Forge forge, const std::string& event, const std::string& body) {
  const char* header = forge == Forge::kGitLab   ? "x-gitlab-event"
                       : forge == Forge::kGitHub ? "x-github-event"
                                                 : "x-gitea-event";
  return ParseWebhook(forge, {{header, event}}, body, "");
}

TEST(MergeRequestHookTest, GitLabOpenUpdateCloseMerge) {
  WebhookResult r = Parse(Forge::kGitLab, "Merge Request Hook", GitLabMergeRequest("open"));
  ASSERT_TRUE(r.merge_request) << r.message;
  EXPECT_FALSE(r.event);
  const MergeRequest& mr = r.merge_request->merge_request;
  EXPECT_EQ(mr.iid, 1);
  EXPECT_EQ(mr.title, "MS-Viewport");
  EXPECT_EQ(mr.source_branch, "ms-viewport");
  EXPECT_EQ(mr.target_branch, "master");
  EXPECT_EQ(mr.source_sha, kHead);
  EXPECT_EQ(mr.labels, (std::vector<std::string>{"API", "urgent"}));
  EXPECT_TRUE(mr.diff_base_sha.empty());  // The server's to find.
  EXPECT_EQ(r.merge_request->state, "opened");
  EXPECT_TRUE(r.merge_request->new_commits);

  r = Parse(Forge::kGitLab, "Merge Request Hook", GitLabMergeRequest("reopen"));
  ASSERT_TRUE(r.merge_request);
  EXPECT_TRUE(r.merge_request->new_commits);
  // An update is a push to the source branch only with oldrev.
  r = Parse(Forge::kGitLab, "Merge Request Hook", GitLabMergeRequest("update"));
  ASSERT_TRUE(r.merge_request);
  EXPECT_FALSE(r.merge_request->new_commits);
  EXPECT_EQ(r.merge_request->state, "opened");
  r = Parse(
      Forge::kGitLab, "Merge Request Hook",
      GitLabMergeRequest("update", R"(, "oldrev": "95790bf891e76fee5e1747ab589903a6a1f80f22")"));
  ASSERT_TRUE(r.merge_request);
  EXPECT_TRUE(r.merge_request->new_commits);
  for (const char* action : {"close", "merge", "approved"}) {
    r = Parse(Forge::kGitLab, "Merge Request Hook", GitLabMergeRequest(action));
    ASSERT_TRUE(r.merge_request) << action;
    EXPECT_FALSE(r.merge_request->new_commits) << action;
  }
  r = Parse(Forge::kGitLab, "Merge Request Hook", GitLabMergeRequest("close"));
  EXPECT_EQ(r.merge_request->state, "closed");
  r = Parse(Forge::kGitLab, "Merge Request Hook", GitLabMergeRequest("merge"));
  EXPECT_EQ(r.merge_request->state, "merged");
  // Without the header, object_kind says it.
  r = ParseWebhook(Forge::kGitLab, {}, GitLabMergeRequest("open"), "");
  EXPECT_TRUE(r.merge_request) << r.message;
}

TEST(MergeRequestHookTest, GitHubPullRequest) {
  for (const char* action : {"opened", "synchronize", "reopened"}) {
    WebhookResult r = Parse(Forge::kGitHub, "pull_request", PullRequest(action));
    ASSERT_TRUE(r.merge_request) << action << ": " << r.message;
    EXPECT_TRUE(r.merge_request->new_commits) << action;
    const MergeRequest& mr = r.merge_request->merge_request;
    EXPECT_EQ(mr.iid, 2);
    EXPECT_EQ(mr.source_branch, "changes");
    EXPECT_EQ(mr.target_branch, "main");
    EXPECT_EQ(mr.source_sha, kHead);
    EXPECT_TRUE(mr.draft);
    EXPECT_EQ(mr.labels, std::vector<std::string>{"docs"});
  }
  WebhookResult r = Parse(Forge::kGitHub, "pull_request", PullRequest("labeled"));
  ASSERT_TRUE(r.merge_request);
  EXPECT_FALSE(r.merge_request->new_commits);
  EXPECT_EQ(r.merge_request->state, "opened");
  r = Parse(Forge::kGitHub, "pull_request", PullRequest("closed"));
  ASSERT_TRUE(r.merge_request);
  EXPECT_FALSE(r.merge_request->new_commits);
  EXPECT_EQ(r.merge_request->state, "closed");
  // Gitea's word for a push is not GitHub's.
  r = Parse(Forge::kGitHub, "pull_request", PullRequest("synchronized"));
  EXPECT_FALSE(r.merge_request->new_commits);
}

TEST(MergeRequestHookTest, GiteaPullRequest) {
  WebhookResult r = Parse(Forge::kGitea, "pull_request", PullRequest("opened"));
  ASSERT_TRUE(r.merge_request) << r.message;
  EXPECT_TRUE(r.merge_request->new_commits);
  r = Parse(Forge::kGitea, "pull_request_sync", PullRequest("synchronized"));
  ASSERT_TRUE(r.merge_request) << r.message;
  EXPECT_TRUE(r.merge_request->new_commits);
  r = Parse(Forge::kGitea, "pull_request", PullRequest("synchronize"));
  EXPECT_FALSE(r.merge_request->new_commits);
}

TEST(MergeRequestHookTest, SignedAsForPushes) {
  std::string body = PullRequest("opened");
  WebhookResult r = ParseWebhook(Forge::kGitHub,
                                 {{"x-github-event", "pull_request"},
                                  {"x-hub-signature-256", "sha256=" + std::string(64, '0')}},
                                 body, "secret");
  EXPECT_FALSE(r.merge_request);
  EXPECT_EQ(r.error, WebhookError::kUnauthorized);
  r = ParseWebhook(Forge::kGitea,
                   {{"x-gitea-event", "pull_request"},
                    {"x-gitea-delivery", "d-1"},
                    {"x-gitea-signature", HmacSha256Hex("secret", body)}},
                   body, "secret");
  ASSERT_TRUE(r.merge_request) << r.message;
  EXPECT_EQ(r.replay_keys, (std::vector<std::string>{
                               "delivery:d-1", "signed-body:" + HmacSha256Hex("secret", body)}));
  r = ParseWebhook(Forge::kGitLab,
                   {{"x-gitlab-event", "Merge Request Hook"}, {"x-gitlab-token", "wrong"}},
                   GitLabMergeRequest("open"), "secret");
  EXPECT_EQ(r.error, WebhookError::kUnauthorized);
}

TEST(MergeRequestHookTest, ForksAreIgnored) {
  WebhookResult r = Parse(Forge::kGitHub, "pull_request", PullRequest("opened", "fork/r"));
  EXPECT_FALSE(r.merge_request);
  EXPECT_EQ(r.error, WebhookError::kIgnored);
  EXPECT_EQ(r.message, "pull request from another repository (a fork)");
  std::string body = GitLabMergeRequest("open");
  body.replace(body.find("\"source_project_id\": 14"), 23, "\"source_project_id\": 15");
  r = Parse(Forge::kGitLab, "Merge Request Hook", body);
  EXPECT_EQ(r.error, WebhookError::kIgnored);
}

// Branch names reach git and the jobs: one git would read as an option or
// would refuse is refused before anything runs.
TEST(MergeRequestHookTest, BranchNamesAreCheckedAsGitChecksThem) {
  for (const char* name : {"--upload-pack=touch /tmp/pwned", "a..b", "x y", ""}) {
    WebhookResult r =
        Parse(Forge::kGitLab, "Merge Request Hook", GitLabMergeRequest("open", "", name));
    EXPECT_FALSE(r.merge_request) << name;
    EXPECT_EQ(r.error, WebhookError::kBadRequest) << name;
    EXPECT_TRUE(r.message.starts_with("merge request source branch '")) << r.message;
  }
  std::string body = PullRequest("opened");
  body.replace(body.find(kHead), 40, "HEAD~1");
  WebhookResult r = Parse(Forge::kGitHub, "pull_request", body);
  EXPECT_EQ(r.error, WebhookError::kBadRequest);
  EXPECT_EQ(r.message,
            "merge request event without a 40-hex head commit (GitLab: "
            "object_attributes.last_commit.id; GitHub, Gitea: pull_request.head.sha)");
  r = Parse(Forge::kGitHub, "pull_request", R"({"action":"opened","pull_request":[]})");
  EXPECT_EQ(r.error, WebhookError::kBadRequest);
  EXPECT_EQ(r.message, "pull request event without 'pull_request'");
}

}  // namespace
}  // namespace slipway
