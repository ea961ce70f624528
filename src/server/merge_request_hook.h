// Merge-request events of GitLab ("Merge Request Hook", object_kind
// merge_request) and pull-request events of GitHub and Gitea
// (X-GitHub-Event: pull_request; X-Gitea-Event: pull_request, or
// pull_request_sync for new commits), read from a body ParseWebhook has
// verified. Which actions start a pipeline follows GitLab: opening,
// reopening and new commits on the source branch (GitLab: action open,
// reopen, or update with oldrev; GitHub: opened, reopened, synchronize;
// Gitea: opened, reopened, synchronized). A close or merge only records the
// merge request as no longer open; other actions (edits, labels) refresh
// what is recorded. A merge request from another repository (a fork) is
// ignored: its commits are not in the project's repository.
#ifndef SLIPWAY_SERVER_MERGE_REQUEST_HOOK_H_
#define SLIPWAY_SERVER_MERGE_REQUEST_HOOK_H_

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/webhook.h"

namespace slipway {

// Whether an event header's value names a merge or pull-request event.
bool IsMergeRequestEventName(Forge forge, std::string_view event);

// Whether a body without an event header is one (GitLab: object_kind
// merge_request; GitHub and Gitea: a pull_request object and an action).
bool LooksLikeMergeRequestEvent(Forge forge, const nlohmann::json& body);

// The event, or nullopt with *error (kBadRequest: a field is missing or
// malformed; kIgnored: a fork's) and *message set. Branch names are checked
// with CheckBranchOrTagName, the head commit must be 40 hex.
std::optional<MergeRequestEvent> ReadMergeRequestEvent(Forge forge, const nlohmann::json& body,
                                                       WebhookError* error, std::string* message);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_MERGE_REQUEST_HOOK_H_
