#include "server/webhook.h"

#include <gtest/gtest.h>

#include <string>

namespace slipway {
namespace {

// Payloads in each forge's documented shape (abridged to the fields around
// the ones read; extra fields must be ignored).
constexpr const char* kGitLabPush = R"({
  "object_kind": "push", "event_name": "push",
  "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
  "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
  "ref": "refs/heads/master", "ref_protected": true,
  "checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
  "user_id": 4, "user_name": "John Smith", "user_username": "jsmith",
  "project_id": 15,
  "project": {"id": 15, "name": "Diaspora", "default_branch": "master",
              "path_with_namespace": "mike/diaspora"},
  "commits": [{"id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "message": "fixed readme",
               "added": ["CHANGELOG"], "modified": ["app/controller/application.rb"],
               "removed": []}],
  "total_commits_count": 1,
  "repository": {"name": "Diaspora", "url": "git@example.com:mike/diaspora.git"}
})";

constexpr const char* kGitLabTagPush = R"({
  "object_kind": "tag_push", "event_name": "tag_push",
  "before": "0000000000000000000000000000000000000000",
  "after": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
  "ref": "refs/tags/v1.0.0", "ref_protected": true,
  "checkout_sha": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
  "project_id": 1, "commits": [], "total_commits_count": 0
})";

constexpr const char* kGitHubPush = R"({
  "ref": "refs/heads/main",
  "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
  "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
  "repository": {"id": 186853002, "name": "Hello-World", "full_name": "Codertocat/Hello-World",
                 "default_branch": "main"},
  "pusher": {"name": "Codertocat", "email": "21031067+Codertocat@users.noreply.github.com"},
  "created": false, "deleted": false, "forced": false, "base_ref": null,
  "compare": "https://github.com/Codertocat/Hello-World/compare/6113728f27ae...0d1a26e67d8f",
  "commits": [], "head_commit": null
})";

constexpr const char* kGitHubDelete = R"({
  "ref": "refs/heads/feature",
  "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
  "after": "0000000000000000000000000000000000000000",
  "created": false, "deleted": true, "forced": false, "commits": []
})";

constexpr const char* kGiteaPush = R"({
  "ref": "refs/heads/develop",
  "before": "28e1879d029cb852e4844d9c718537df08844e03",
  "after": "bffeb74224043ba2feb48d137756c8a9331c449a",
  "compare_url": "http://localhost:3000/gitea/webhooks/compare/28e1879d...bffeb742",
  "commits": [{"id": "bffeb74224043ba2feb48d137756c8a9331c449a", "message": "Webhooks Yay!",
               "url": "http://localhost:3000/gitea/webhooks/commit/bffeb742",
               "author": {"name": "Gitea", "email": "someone@gitea.io", "username": "gitea"}}],
  "repository": {"id": 140, "name": "webhooks", "full_name": "gitea/webhooks"},
  "pusher": {"id": 1, "login": "gitea"}, "sender": {"id": 1, "login": "gitea"}
})";

// RFC 4231 test case 2 (key "Jefe") pins the HMAC algorithm.
constexpr const char* kJefeBody = "what do ya want for nothing?";
constexpr const char* kJefeHmac =
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

using Headers = std::map<std::string, std::string>;

TEST(ParseForgeTest, KnowsTheThreeForges) {
  EXPECT_EQ(ParseForge("gitlab"), Forge::kGitLab);
  EXPECT_EQ(ParseForge("github"), Forge::kGitHub);
  EXPECT_EQ(ParseForge("gitea"), Forge::kGitea);
  EXPECT_EQ(ParseForge("bitbucket"), std::nullopt);
  EXPECT_EQ(ParseForge("GitLab"), std::nullopt);
}

TEST(WebhookTest, GitLabPushWithToken) {
  WebhookResult r =
      ParseWebhook(Forge::kGitLab, {{"x-gitlab-event", "Push Hook"}, {"x-gitlab-token", "s3cret"}},
                   kGitLabPush, "s3cret");
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_EQ(r.event->ref, "master");
  EXPECT_FALSE(r.event->tag);
  EXPECT_EQ(r.event->after, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
  EXPECT_EQ(r.event->before, "95790bf891e76fee5e1747ab589903a6a1f80f22");
  EXPECT_FALSE(r.event->deleted);
}

TEST(WebhookTest, GitLabTagPush) {
  WebhookResult r =
      ParseWebhook(Forge::kGitLab, {{"x-gitlab-event", "Tag Push Hook"}}, kGitLabTagPush, "");
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_EQ(r.event->ref, "v1.0.0");
  EXPECT_TRUE(r.event->tag);
  EXPECT_EQ(r.event->before, "0000000000000000000000000000000000000000");
}

TEST(WebhookTest, GitLabWrongOrMissingToken) {
  WebhookResult wrong =
      ParseWebhook(Forge::kGitLab, {{"x-gitlab-event", "Push Hook"}, {"x-gitlab-token", "s3creT"}},
                   kGitLabPush, "s3cret");
  EXPECT_FALSE(wrong.event);
  EXPECT_EQ(wrong.error, WebhookError::kUnauthorized);
  EXPECT_EQ(wrong.message, "X-Gitlab-Token does not match");
  WebhookResult missing =
      ParseWebhook(Forge::kGitLab, {{"x-gitlab-event", "Push Hook"}}, kGitLabPush, "s3cret");
  EXPECT_EQ(missing.error, WebhookError::kUnauthorized);
  EXPECT_EQ(missing.message, "missing X-Gitlab-Token");
}

TEST(WebhookTest, GitLabNonPushEventsAreIgnored) {
  WebhookResult r = ParseWebhook(Forge::kGitLab, {{"x-gitlab-event", "Issue Hook"}},
                                 R"({"object_kind":"issue"})", "");
  EXPECT_FALSE(r.event);
  EXPECT_EQ(r.error, WebhookError::kIgnored);
  // Without the header, object_kind decides.
  r = ParseWebhook(Forge::kGitLab, {}, R"({"object_kind":"note"})", "");
  EXPECT_EQ(r.error, WebhookError::kIgnored);
}

TEST(WebhookTest, GitHubKnownAnswerSignature) {
  std::string body =
      R"({"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"})";
  // The RFC 4231 vector checks the HMAC itself: a body that is not JSON
  // passes verification and then fails as a bad request, not as 401.
  WebhookResult r = ParseWebhook(
      Forge::kGitHub,
      {{"x-github-event", "push"}, {"x-hub-signature-256", std::string("sha256=") + kJefeHmac}},
      kJefeBody, "Jefe");
  EXPECT_EQ(r.error, WebhookError::kBadRequest);
  EXPECT_EQ(r.message, "body is not valid JSON");
  r = ParseWebhook(Forge::kGitea, {{"x-gitea-event", "push"}, {"x-gitea-signature", kJefeHmac}},
                   kJefeBody, "Jefe");
  EXPECT_EQ(r.error, WebhookError::kBadRequest);
}

// Signatures of the payloads above under "It's a Secret to Everybody",
// computed outside slipway (Python's hmac module).
constexpr const char* kSecret = "It's a Secret to Everybody";
constexpr const char* kGitHubPushHmac =
    "17ff850d708fc0877f9cadd6fee0ef2c82e9a44605aa2a17939c46be5f895175";
constexpr const char* kGiteaPushHmac =
    "081837c56843d9b94be59aeb890933f9787a0f71ed6ca497e1940dd10d52136a";

TEST(WebhookTest, GitHubPushSigned) {
  WebhookResult r =
      ParseWebhook(Forge::kGitHub,
                   {{"x-github-event", "push"},
                    {"x-hub-signature-256", std::string("sha256=") + kGitHubPushHmac}},
                   kGitHubPush, kSecret);
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_EQ(r.event->ref, "main");
  EXPECT_FALSE(r.event->tag);
  EXPECT_EQ(r.event->after, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
  EXPECT_EQ(r.event->before, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
  EXPECT_FALSE(r.event->deleted);

  WebhookResult missing =
      ParseWebhook(Forge::kGitHub, {{"x-github-event", "push"}}, kGitHubPush, kSecret);
  EXPECT_EQ(missing.error, WebhookError::kUnauthorized);
  EXPECT_EQ(missing.message, "missing X-Hub-Signature-256");
  WebhookResult wrong =
      ParseWebhook(Forge::kGitHub,
                   {{"x-github-event", "push"},
                    {"x-hub-signature-256", std::string("sha256=") + kGiteaPushHmac}},
                   kGitHubPush, kSecret);
  EXPECT_EQ(wrong.error, WebhookError::kUnauthorized);
  EXPECT_EQ(wrong.message, "X-Hub-Signature-256 does not match");
  // The bare hex (Gitea's form) is not GitHub's.
  WebhookResult bare = ParseWebhook(
      Forge::kGitHub, {{"x-github-event", "push"}, {"x-hub-signature-256", kGitHubPushHmac}},
      kGitHubPush, kSecret);
  EXPECT_EQ(bare.error, WebhookError::kUnauthorized);
  // Signed with another secret.
  WebhookResult other_secret =
      ParseWebhook(Forge::kGitHub,
                   {{"x-github-event", "push"},
                    {"x-hub-signature-256", std::string("sha256=") + kGitHubPushHmac}},
                   kGitHubPush, "another secret");
  EXPECT_EQ(other_secret.error, WebhookError::kUnauthorized);
}

TEST(WebhookTest, SignatureOverTheExactBody) {
  // Same signature, body with one byte changed: refused.
  std::string body = kJefeBody;
  body[0] = 'W';
  WebhookResult r = ParseWebhook(
      Forge::kGitea, {{"x-gitea-event", "push"}, {"x-gitea-signature", kJefeHmac}}, body, "Jefe");
  EXPECT_EQ(r.error, WebhookError::kUnauthorized);
  EXPECT_EQ(r.message, "X-Gitea-Signature does not match");
  // Upper-case hex is accepted (hex is case-insensitive).
  std::string upper = kJefeHmac;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  r = ParseWebhook(Forge::kGitea, {{"x-gitea-event", "push"}, {"x-gitea-signature", upper}},
                   kJefeBody, "Jefe");
  EXPECT_EQ(r.error, WebhookError::kBadRequest);  // Verified, then not JSON.
}

TEST(WebhookTest, GiteaPush) {
  WebhookResult r = ParseWebhook(Forge::kGitea,
                                 {{"x-gitea-event", "push"}, {"x-gitea-signature", kGiteaPushHmac}},
                                 kGiteaPush, kSecret);
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_EQ(r.event->ref, "develop");
  EXPECT_EQ(r.event->after, "bffeb74224043ba2feb48d137756c8a9331c449a");
  EXPECT_EQ(r.event->before, "28e1879d029cb852e4844d9c718537df08844e03");
  WebhookResult missing =
      ParseWebhook(Forge::kGitea, {{"x-gitea-event", "push"}}, kGiteaPush, "secret");
  EXPECT_EQ(missing.error, WebhookError::kUnauthorized);
  EXPECT_EQ(missing.message, "missing X-Gitea-Signature");
}

TEST(WebhookTest, BranchDeletion) {
  WebhookResult r = ParseWebhook(Forge::kGitHub, {{"x-github-event", "push"}}, kGitHubDelete, "");
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_TRUE(r.event->deleted);
  EXPECT_EQ(r.event->ref, "feature");
}

TEST(WebhookTest, PingAndOtherEventsAreIgnored) {
  WebhookResult r = ParseWebhook(Forge::kGitHub, {{"x-github-event", "ping"}},
                                 R"({"zen":"Keep it logically awesome.","hook_id":1})", "");
  EXPECT_EQ(r.error, WebhookError::kIgnored);
  EXPECT_EQ(r.message, "event 'ping' is neither a push nor a merge request");
  r = ParseWebhook(Forge::kGitea, {{"x-gitea-event", "issues"}}, "{}", "");
  EXPECT_EQ(r.error, WebhookError::kIgnored);
}

TEST(WebhookTest, MalformedBodies) {
  Headers h = {{"x-github-event", "push"}};
  EXPECT_EQ(ParseWebhook(Forge::kGitHub, h, "{\"ref\": ", "").message, "body is not valid JSON");
  EXPECT_EQ(ParseWebhook(Forge::kGitHub, h, "[1,2]", "").message, "body is not a JSON object");
  EXPECT_EQ(
      ParseWebhook(Forge::kGitHub, h, R"({"after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"})", "")
          .message,
      "push event without 'ref'");
  EXPECT_EQ(ParseWebhook(Forge::kGitHub, h, R"({"ref":"refs/heads/x","after":"abc"})", "").message,
            "push event without a 40-hex 'after' commit");
  EXPECT_EQ(ParseWebhook(Forge::kGitHub, h, R"({"ref":"refs/heads/x","after":5})", "").error,
            WebhookError::kBadRequest);
  WebhookResult notes = ParseWebhook(
      Forge::kGitHub, h,
      R"({"ref":"refs/notes/x","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"})", "");
  EXPECT_EQ(notes.error, WebhookError::kIgnored);
  // Nested beyond GitLab's 32 levels: refused before a value is built.
  std::string deep = R"({"ref":"refs/heads/x","commits":)" + std::string(100000, '[') +
                     std::string(100000, ']') + "}";
  WebhookResult too_deep = ParseWebhook(Forge::kGitHub, h, deep, "");
  EXPECT_FALSE(too_deep.event);
  EXPECT_EQ(too_deep.message, "Parameters nested too deeply");
  // An empty body with a secret is refused before it is parsed.
  EXPECT_EQ(ParseWebhook(Forge::kGitHub, h, "", "secret").error, WebhookError::kUnauthorized);
}

TEST(WebhookTest, ReplayKeysAreTheDeliveryIdAndTheSignedBody) {
  WebhookResult r =
      ParseWebhook(Forge::kGitHub,
                   {{"x-github-event", "push"},
                    {"x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
                    {"x-hub-signature-256", std::string("sha256=") + kGitHubPushHmac}},
                   kGitHubPush, kSecret);
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_EQ(r.replay_keys,
            (std::vector<std::string>{"delivery:72d3162e-cc78-11e3-81ab-4c9367dc0958",
                                      std::string("signed-body:") + kGitHubPushHmac}));
  r = ParseWebhook(Forge::kGitea,
                   {{"x-gitea-event", "push"},
                    {"x-gitea-delivery", "d1"},
                    {"x-github-delivery", "ignored"},
                    {"x-gitea-signature", kGiteaPushHmac}},
                   kGiteaPush, kSecret);
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_EQ(r.replay_keys, (std::vector<std::string>{
                               "delivery:d1", std::string("signed-body:") + kGiteaPushHmac}));
  // GitLab: Idempotency-Key (kept across retries) before X-Gitlab-Event-UUID;
  // its token does not sign the body.
  Headers gitlab = {{"x-gitlab-event", "Push Hook"},
                    {"x-gitlab-token", "s3cret"},
                    {"idempotency-key", "k1"},
                    {"x-gitlab-event-uuid", "u1"}};
  r = ParseWebhook(Forge::kGitLab, gitlab, kGitLabPush, "s3cret");
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_EQ(r.replay_keys, (std::vector<std::string>{"delivery:k1"}));
  gitlab.erase("idempotency-key");
  r = ParseWebhook(Forge::kGitLab, gitlab, kGitLabPush, "s3cret");
  EXPECT_EQ(r.replay_keys, (std::vector<std::string>{"delivery:u1"}));
  // Unsigned and without an id: nothing to recognise a replay by.
  r = ParseWebhook(Forge::kGitHub, {{"x-github-event", "push"}}, kGitHubPush, "");
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_TRUE(r.replay_keys.empty());
  // An id that is not one is refused.
  for (std::string bad : {std::string(201, 'a'), std::string("a b"), std::string("a\x01")}) {
    r = ParseWebhook(Forge::kGitHub, {{"x-github-event", "push"}, {"x-github-delivery", bad}},
                     kGitHubPush, "");
    EXPECT_FALSE(r.event);
    EXPECT_EQ(r.message,
              "X-GitHub-Delivery is not a delivery id (1 to 200 printable ASCII characters)");
  }
}

// Refs that git would refuse, or read as an option, are refused as git's
// check-ref-format refuses them (the API refuses them too).
TEST(WebhookTest, RefsAreCheckedAsGitChecksThem) {
  Headers h = {{"x-github-event", "push"}};
  auto push = [&](const std::string& ref) {
    return ParseWebhook(
        Forge::kGitHub, h,
        R"({"ref":")" + ref + R"(","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"})", "");
  };
  WebhookResult r = push("refs/heads/../../../x");
  EXPECT_EQ(r.error, WebhookError::kBadRequest);
  EXPECT_EQ(r.message,
            "push event ref 'refs/heads/../../../x': invalid branch name '../../../x': "
            "contains '..'");
  r = push("refs/heads/--upload-pack=touch /tmp/pwned");
  EXPECT_EQ(r.error, WebhookError::kBadRequest);
  EXPECT_EQ(r.message,
            "push event ref 'refs/heads/--upload-pack=touch /tmp/pwned': invalid branch name "
            "'--upload-pack=touch /tmp/pwned': starts with '-'");
  for (const char* bad : {"refs/heads/", "refs/tags/-v1", "refs/heads/a.lock", "refs/heads/.x",
                          "refs/heads/a//b", "refs/heads/a~1", "refs/heads/a@{0}",
                          "refs/heads/HEAD", "refs/tags/v1.", "refs/heads/a\\b"}) {
    WebhookResult refused = push(bad);
    EXPECT_FALSE(refused.event) << bad;
    EXPECT_EQ(refused.error, WebhookError::kBadRequest) << bad;
  }
  r = push("refs/tags/v1.2.3");
  ASSERT_TRUE(r.event) << r.message;
  EXPECT_EQ(r.event->ref, "v1.2.3");
}

}  // namespace
}  // namespace slipway
