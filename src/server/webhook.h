// Push and merge-request webhooks of GitLab, GitHub and Gitea (Forgejo):
// verifying the request the forge's way and reading the push event, or the
// merge (pull) request event (merge_request_hook.h).
//  - GitLab: header X-Gitlab-Token equals the project's secret; X-Gitlab-Event: Push Hook / Tag
//  Push Hook.
//  - GitHub: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(secret, body); X-GitHub-Event: push.
//  - Gitea:  X-Gitea-Signature = hex HMAC-SHA256(secret, body); X-Gitea-Event: push.
// Header names are matched case-insensitively. A project without a secret
// accepts unsigned requests (as the forges do when no secret is set).
// Deliveries are identified for replay protection by the forge's delivery
// id: GitHub X-GitHub-Delivery, Gitea X-Gitea-Delivery, GitLab
// Idempotency-Key (recent GitLab; the same for a retry or a resend) or else
// X-Gitlab-Event-UUID.
#ifndef SLIPWAY_SERVER_WEBHOOK_H_
#define SLIPWAY_SERVER_WEBHOOK_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/merge_request.h"
#include "util/status.h"

namespace slipway {

enum class Forge { kGitLab, kGitHub, kGitea };
std::optional<Forge> ParseForge(std::string_view name);  // "gitlab", "github", "gitea"

struct PushEvent {
  std::string ref;       // Short name: "main", "v1.0".
  bool tag = false;      // refs/tags/...
  std::string after;     // The pushed commit (40 hex).
  std::string before;    // The previous tip; 40 zeros for a new ref.
  bool deleted = false;  // The ref was deleted (after is all zeros): no pipeline.
};

struct MergeRequestEvent {
  // The merge request; target_sha and diff_base_sha are left empty (the
  // server reads them from its mirror).
  MergeRequest merge_request;
  std::string action;        // As the forge named it ("open", "synchronize" ...).
  std::string state;         // After this event: opened, closed or merged.
  bool new_commits = false;  // Opened, reopened or pushed to: a pipeline is due.
};

enum class WebhookError {
  kUnauthorized,  // Missing or wrong token/signature: HTTP 401.
  kBadRequest,    // Malformed JSON or missing fields: HTTP 400.
  kIgnored,  // A valid event that is neither a push nor a merge request (ping, issues ...): HTTP
             // 200, no pipeline.
};

struct WebhookResult {
  // On success exactly one of them is set.
  std::optional<PushEvent> event;
  std::optional<MergeRequestEvent> merge_request;
  WebhookError error = WebhookError::kBadRequest;
  std::string message;  // For the JSON error body.
  // With an event: what makes this delivery a replay when seen again
  // (Store::TakeWebhookDelivery): "delivery:<id>" when the forge sent a
  // delivery id, and "signed-body:<HMAC hex>" when a GitHub or Gitea request
  // was signed, so that a captured request sent again under a new (unsigned)
  // delivery id is a replay too. Empty for an unsigned request without id.
  std::vector<std::string> replay_keys;
};

// Longest delivery id taken (a forge's is a 36-character UUID).
inline constexpr size_t kMaxDeliveryIdBytes = 200;

// Lower-case hex HMAC-SHA256 of body under key: GitHub's and Gitea's
// signature (GitHub prefixes "sha256=").
std::string HmacSha256Hex(std::string_view key, std::string_view body);

// headers: lower-cased names.
WebhookResult ParseWebhook(Forge forge, const std::map<std::string, std::string>& headers,
                           std::string_view body, std::string_view secret);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_WEBHOOK_H_
