#include "server/merge_request_hook.h"

#include "util/ref_name.h"

namespace slipway {
namespace {

const nlohmann::json* Object(const nlohmann::json& parent, const char* key) {
  auto it = parent.find(key);
  return it != parent.end() && it->is_object() ? &*it : nullptr;
}

std::string Text(const nlohmann::json* parent, const char* key) {
  if (parent == nullptr) return "";
  auto it = parent->find(key);
  return it != parent->end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool Flag(const nlohmann::json* parent, const char* key) {
  if (parent == nullptr) return false;
  auto it = parent->find(key);
  return it != parent->end() && it->is_boolean() && it->get<bool>();
}

// A positive integer field; 0 when absent or not one.
int64_t Number(const nlohmann::json* parent, const char* key) {
  if (parent == nullptr) return 0;
  auto it = parent->find(key);
  if (it == parent->end() || !it->is_number_integer()) return 0;
  int64_t n = it->get<int64_t>();
  return n > 0 ? n : 0;
}

// The names of a list of label objects ({"title": ...} on GitLab, {"name":
// ...} on GitHub and Gitea).
std::vector<std::string> Labels(const nlohmann::json* list, const char* key) {
  std::vector<std::string> labels;
  if (list == nullptr || !list->is_array()) return labels;
  for (const nlohmann::json& label : *list) {
    if (!label.is_object()) continue;
    std::string name = Text(&label, key);
    if (!name.empty()) labels.push_back(std::move(name));
  }
  return labels;
}

const nlohmann::json* Array(const nlohmann::json* parent, const char* key) {
  if (parent == nullptr) return nullptr;
  auto it = parent->find(key);
  return it != parent->end() && it->is_array() ? &*it : nullptr;
}

std::optional<MergeRequestEvent> Fail(WebhookError kind, std::string text, WebhookError* error,
                                      std::string* message) {
  *error = kind;
  *message = std::move(text);
  return std::nullopt;
}

// GitLab's Merge Request Hook: object_attributes carries the merge request.
std::optional<MergeRequestEvent> ReadGitLab(const nlohmann::json& body, MergeRequestEvent* event,
                                            WebhookError* error, std::string* message) {
  const nlohmann::json* attrs = Object(body, "object_attributes");
  if (attrs == nullptr) {
    return Fail(WebhookError::kBadRequest, "merge request event without 'object_attributes'", error,
                message);
  }
  int64_t source_project = Number(attrs, "source_project_id");
  int64_t target_project = Number(attrs, "target_project_id");
  if (source_project != 0 && target_project != 0 && source_project != target_project) {
    return Fail(WebhookError::kIgnored, "merge request from another project (a fork)", error,
                message);
  }
  MergeRequest& mr = event->merge_request;
  mr.iid = Number(attrs, "iid");
  mr.title = Text(attrs, "title");
  mr.draft = Flag(attrs, "draft") || Flag(attrs, "work_in_progress");
  mr.source_branch = Text(attrs, "source_branch");
  mr.target_branch = Text(attrs, "target_branch");
  mr.source_sha = Text(Object(*attrs, "last_commit"), "id");
  // The top-level list is the merge request's labels after the event.
  mr.labels = Labels(Array(&body, "labels"), "title");
  event->action = Text(attrs, "action");
  std::string state = Text(attrs, "state");
  event->state = state == "merged" ? "merged" : state == "opened" ? "opened" : "closed";
  if (event->action == "close") event->state = "closed";
  if (event->action == "merge") event->state = "merged";
  // An update with new commits carries the previous head in oldrev.
  event->new_commits =
      event->state == "opened" && (event->action == "open" || event->action == "reopen" ||
                                   (event->action == "update" && !Text(attrs, "oldrev").empty()));
  return *event;
}

// GitHub's and Gitea's pull_request event: the same shape.
std::optional<MergeRequestEvent> ReadPullRequest(Forge forge, const nlohmann::json& body,
                                                 MergeRequestEvent* event, WebhookError* error,
                                                 std::string* message) {
  const nlohmann::json* pr = Object(body, "pull_request");
  if (pr == nullptr) {
    return Fail(WebhookError::kBadRequest, "pull request event without 'pull_request'", error,
                message);
  }
  const nlohmann::json* head = Object(*pr, "head");
  const nlohmann::json* base = Object(*pr, "base");
  std::string head_repo = head != nullptr ? Text(Object(*head, "repo"), "full_name") : "";
  std::string base_repo = base != nullptr ? Text(Object(*base, "repo"), "full_name") : "";
  if (head_repo != base_repo) {
    return Fail(WebhookError::kIgnored, "pull request from another repository (a fork)", error,
                message);
  }
  MergeRequest& mr = event->merge_request;
  mr.iid = Number(&body, "number");
  if (mr.iid == 0) mr.iid = Number(pr, "number");
  mr.title = Text(pr, "title");
  mr.draft = Flag(pr, "draft");
  mr.source_branch = Text(head, "ref");
  mr.target_branch = Text(base, "ref");
  mr.source_sha = Text(head, "sha");
  mr.labels = Labels(Array(pr, "labels"), "name");
  event->action = Text(&body, "action");
  bool open = Text(pr, "state") == "open" && event->action != "closed";
  event->state = open ? "opened" : Flag(pr, "merged") ? "merged" : "closed";
  const char* pushed = forge == Forge::kGitHub ? "synchronize" : "synchronized";
  event->new_commits =
      open && (event->action == "opened" || event->action == "reopened" || event->action == pushed);
  return *event;
}

}  // namespace

bool IsMergeRequestEventName(Forge forge, std::string_view event) {
  switch (forge) {
    case Forge::kGitLab:
      return event == "Merge Request Hook";
    case Forge::kGitHub:
      return event == "pull_request";
    case Forge::kGitea:
      return event == "pull_request" || event == "pull_request_sync";
  }
  return false;
}

bool LooksLikeMergeRequestEvent(Forge forge, const nlohmann::json& body) {
  if (forge == Forge::kGitLab) return Text(&body, "object_kind") == "merge_request";
  return Object(body, "pull_request") != nullptr && !Text(&body, "action").empty();
}

std::optional<MergeRequestEvent> ReadMergeRequestEvent(Forge forge, const nlohmann::json& body,
                                                       WebhookError* error, std::string* message) {
  MergeRequestEvent event;
  std::optional<MergeRequestEvent> read =
      forge == Forge::kGitLab ? ReadGitLab(body, &event, error, message)
                              : ReadPullRequest(forge, body, &event, error, message);
  if (!read) return std::nullopt;
  const MergeRequest& mr = read->merge_request;
  if (mr.iid == 0) {
    return Fail(WebhookError::kBadRequest, "merge request event without a positive number (iid)",
                error, message);
  }
  // Both names reach git and the jobs' variables: names git would create.
  using Named = std::pair<const char*, const std::string*>;
  for (const Named& named :
       {Named{"source branch", &mr.source_branch}, Named{"target branch", &mr.target_branch}}) {
    const auto& [name, value] = named;
    if (Status valid = CheckBranchOrTagName(*value, false); !valid.ok()) {
      return Fail(WebhookError::kBadRequest,
                  std::string("merge request ") + name + " '" + *value + "': " + valid.message(),
                  error, message);
    }
  }
  if (!IsFullCommitId(mr.source_sha)) {
    return Fail(WebhookError::kBadRequest,
                "merge request event without a 40-hex head commit (GitLab: "
                "object_attributes.last_commit.id; GitHub, Gitea: pull_request.head.sha)",
                error, message);
  }
  return read;
}

}  // namespace slipway
