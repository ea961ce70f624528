// GitLab's commit statuses API (docs/api.md, "Commit statuses"):
// POST /projects/:id/statuses/:sha sets the status a name (context) gives a
// commit — what an external CI or a deploy tool reports — and
// GET /projects/:id/repository/commits/:sha/statuses (or
// GET /projects/:id/statuses/:sha) lists them.
#include <algorithm>
#include <cctype>

#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/gitlab_json.h"
#include "server/request_params.h"
#include "util/http_get.h"
#include "util/ref_name.h"

namespace slipway {
namespace {

using json = nlohmann::json;

constexpr const char* kStates[] = {"pending", "running",  "success",
                                   "failed",  "canceled", "skipped"};

json OptTime(const std::optional<int64_t>& t) { return t ? json(IsoTime(*t)) : json(nullptr); }

json CommitStatusJson(const CommitStatusRecord& s, const std::string& base_url) {
  return {{"id", s.id},
          {"sha", s.sha},
          {"ref", s.ref},
          {"status", s.status},
          {"name", s.name},
          {"target_url", s.target_url.empty() ? json(nullptr) : json(s.target_url)},
          {"description", s.description.empty() ? json(nullptr) : json(s.description)},
          {"created_at", IsoTime(s.created_at)},
          {"started_at", OptTime(s.started_at)},
          {"finished_at", OptTime(s.finished_at)},
          {"allow_failure", false},
          {"coverage", nullptr},
          {"pipeline_id", nullptr},
          {"author",
           {{"id", 0},
            {"username", "slipway"},
            {"name", "slipway"},
            {"state", "active"},
            {"avatar_url", nullptr},
            {"web_url", base_url + "/"}}}};
}

// The :sha of the route: a full commit id (statuses are kept per commit).
std::optional<std::string> ShaParam(ApiContext& ctx, HttpResponse* error) {
  std::string sha = ctx.params["sha"];
  for (char& c : sha) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!IsFullCommitId(sha)) {
    *error = JsonError(404, "404 Commit Not Found");
    return std::nullopt;
  }
  return sha;
}

}  // namespace

HttpResponse CreateCommitStatus(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto sha = ShaParam(ctx, &error);
  if (!sha) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  CommitStatusRecord status;
  status.project_id = project->id;
  status.sha = *sha;
  status.status = ParamString(*params, "state");
  if (status.status.empty()) return JsonError(400, "400 Bad request - state is missing");
  if (std::find(std::begin(kStates), std::end(kStates), status.status) == std::end(kStates)) {
    return BadParam("state");
  }
  status.ref = ParamString(*params, "ref");
  if (status.ref.empty()) status.ref = project->default_branch;
  if (status.ref.size() > 255 || !CheckRefFormat("refs/heads/" + status.ref).ok()) {
    return BadParam("ref");
  }
  std::string name = ParamString(*params, "name");
  if (name.empty()) name = ParamString(*params, "context");
  if (!name.empty()) status.name = name;
  if (status.name.size() > 255) return BadParam("name");
  status.target_url = ParamString(*params, "target_url");
  // Shown as a link: only http(s), never javascript: or data:.
  HttpUrl parsed;
  if (!status.target_url.empty() &&
      (status.target_url.size() > 255 || !ParseHttpUrl(status.target_url, &parsed))) {
    return FieldError("target_url", "is blocked: Only allowed schemes are http, https");
  }
  status.description = ParamString(*params, "description");
  if (status.description.size() > 255) return BadParam("description");
  auto saved = ctx.store->SaveCommitStatus(status);
  if (!saved.ok()) return StoreError(saved.status());
  return JsonOk(201, CommitStatusJson(*saved, ctx.base_url));
}

HttpResponse ListCommitStatuses(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto sha = ShaParam(ctx, &error);
  if (!sha) return error;
  auto statuses = ctx.store->ListCommitStatuses(
      project->id, *sha, ctx.req.Query("ref").value_or(""), ctx.req.Query("name").value_or(""));
  if (!statuses.ok()) return StoreError(statuses.status());
  json items = json::array();
  for (const CommitStatusRecord& s : *statuses) items.push_back(CommitStatusJson(s, ctx.base_url));
  return JsonOk(200, items);
}

}  // namespace slipway
