// GitLab's protected environments API (docs/api.md "Protected environments"):
// which token role may deploy to an environment, and how many approvals its
// deployments need (server/deployment_gates.h). slipway has tokens with
// roles, not users or groups: deploy_access_levels name access levels only
// (30: the run role, 40: admin).
#include <algorithm>

#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/gitlab_json.h"

namespace slipway {
namespace {

using json = nlohmann::json;

const char* LevelDescription(int level) {
  return level <= 30 ? "Developers + Maintainers" : "Maintainers";
}

json ProtectedEnvironmentJson(const ProtectedEnvironmentRecord& p) {
  return {{"name", p.name},
          {"deploy_access_levels",
           json::array({{{"id", p.id},
                         {"access_level", p.deploy_access_level},
                         {"access_level_description", LevelDescription(p.deploy_access_level)},
                         {"user_id", nullptr},
                         {"group_id", nullptr},
                         {"group_inheritance_type", 0}}})},
          {"required_approval_count", p.required_approval_count},
          {"approval_rules", json::array()}};
}

// The access level deploy_access_levels asks for: the lowest of its entries
// (any of them may deploy). nullopt with *error for anything slipway cannot
// keep.
std::optional<int> ParseAccessLevels(const json& params, HttpResponse* error) {
  auto it = params.find("deploy_access_levels");
  if (it == params.end() || !it->is_array() || it->empty()) {
    *error = JsonError(400, "deploy_access_levels is missing");
    return std::nullopt;
  }
  std::optional<int> lowest;
  for (const json& entry : *it) {
    if (!entry.is_object() || entry.contains("user_id") || entry.contains("group_id")) {
      *error = JsonError(400,
                         "deploy_access_levels: slipway has no users or groups; give access_level "
                         "30 (run) or 40 (admin)");
      return std::nullopt;
    }
    int level = 0;
    std::string text = ParamString(entry, "access_level");
    if (text == "30" || text == "40") level = std::stoi(text);
    if (level == 0) {
      *error = JsonError(400, "deploy_access_levels: access_level must be 30 (run) or 40 (admin)");
      return std::nullopt;
    }
    lowest = std::min(lowest.value_or(level), level);
  }
  return lowest;
}

}  // namespace

HttpResponse ListProtectedEnvironments(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto list = ctx.store->ListProtectedEnvironments(project->id);
  if (!list.ok()) return StoreError(list.status());
  json out = json::array();
  for (const ProtectedEnvironmentRecord& p : *list) out.push_back(ProtectedEnvironmentJson(p));
  return JsonOk(200, out);
}

HttpResponse GetProtectedEnvironment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto found = ctx.store->FindProtectedEnvironment(project->id, ctx.params["name"]);
  if (!found.ok()) return StoreError(found.status());
  if (!*found) return JsonError(404, "404 Not found");
  return JsonOk(200, ProtectedEnvironmentJson(**found));
}

HttpResponse ProtectEnvironment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  ProtectedEnvironmentRecord protection;
  protection.project_id = project->id;
  protection.name = ParamString(*params, "name");
  if (protection.name.empty()) return JsonError(400, "name is missing");
  std::optional<int> level = ParseAccessLevels(*params, &error);
  if (!level) return error;
  protection.deploy_access_level = *level;
  if (params->contains("required_approval_count")) {
    std::string count = ParamString(*params, "required_approval_count");
    if (count.empty() || count.size() > 3 ||
        !std::all_of(count.begin(), count.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return BadParam("required_approval_count");
    }
    protection.required_approval_count = std::stoi(count);
  }
  auto created = ctx.store->ProtectEnvironment(protection);
  if (!created.ok()) return StoreError(created.status());
  if (!*created)
    return JsonError(409, "Protected environment '" + protection.name + "' already exists");
  return JsonOk(201, ProtectedEnvironmentJson(**created));
}

HttpResponse UnprotectEnvironment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto removed = ctx.store->UnprotectEnvironment(project->id, ctx.params["name"]);
  if (!removed.ok()) return StoreError(removed.status());
  if (!*removed) return JsonError(404, "404 Not found");
  HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace slipway
