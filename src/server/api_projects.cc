// GET /user, GET /version and the projects endpoints.
#include <algorithm>

#include "server/api_handlers.h"
#include "server/gitlab_json.h"
#include "server/project_spec.h"

namespace slipway {

using nlohmann::json;

HttpResponse GetUser(ApiContext& ctx) { return JsonOk(200, UserJson(*ctx.token, ctx.base_url)); }

HttpResponse GetVersion(ApiContext& ctx) {
  // The GitLab API level slipway follows, for clients that check it.
  return JsonOk(200, {{"version", "16.11.0"},
                      {"revision", std::string("slipway-") + SLIPWAY_VERSION},
                      {"enterprise", false},
                      {"slipway", SLIPWAY_VERSION}});
}

HttpResponse ListProjects(ApiContext& ctx) {
  HttpResponse error;
  auto page = ParsePage(ctx.req, &error);
  if (!page) return error;
  auto projects = ctx.store->ListProjects();
  if (!projects.ok()) return StoreError(projects.status());
  std::vector<ProjectRecord>& all = *projects;
  std::string search = ctx.req.Query("search").value_or("");
  if (!search.empty()) {
    std::erase_if(all, [&](const ProjectRecord& p) {
      return p.name.find(search) == std::string::npos &&
             p.path_with_namespace.find(search) == std::string::npos;
    });
  }
  bool asc = ctx.req.Query("sort").value_or("desc") == "asc";
  if (!asc) std::reverse(all.begin(), all.end());
  json items = json::array();
  int64_t first = static_cast<int64_t>(page->page - 1) * page->per_page;
  for (int64_t i = first; i < static_cast<int64_t>(all.size()) && i < first + page->per_page; ++i) {
    items.push_back(ProjectJson(all[static_cast<size_t>(i)], ctx.base_url));
  }
  HttpResponse response = JsonOk(200, items);
  SetPaginationHeaders(ctx, *page, static_cast<int64_t>(all.size()), &response);
  return response;
}

HttpResponse GetProject(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  return JsonOk(200, ProjectJson(*project, ctx.base_url));
}

HttpResponse CreateProject(ApiContext& ctx) {
  HttpResponse error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  ProjectSpec spec;
  spec.name = ParamString(*params, "name");
  spec.path = ParamString(*params, "path");
  spec.repo_url = ParamString(*params, "repo_url");
  if (spec.repo_url.empty()) spec.repo_url = ParamString(*params, "import_url");
  spec.default_branch = ParamString(*params, "default_branch");
  spec.webhook_secret = ParamString(*params, "webhook_secret");
  std::string unsigned_hooks = ParamString(*params, "allow_unsigned_webhooks");
  if (!unsigned_hooks.empty()) {
    std::optional<bool> allowed = ParseBool(unsigned_hooks);
    if (!allowed) return JsonError(400, "400 Bad request - allow_unsigned_webhooks is invalid");
    spec.allow_unsigned_webhooks = *allowed;
  }
  spec.executor = ParamString(*params, "executor");
  auto record = MakeProject(spec);
  if (!record.ok()) return JsonError(400, "400 Bad request - " + record.status().message());
  auto created = ctx.store->CreateProject(*record);
  if (!created.ok()) return JsonError(400, "400 Bad request - " + created.status().message());
  return JsonOk(201, ProjectJson(*created, ctx.base_url));
}

// GitLab answers 202 and deletes later; slipway has canceled what the
// project ran and deleted everything of it when it answers.
HttpResponse DeleteProject(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  if (ctx.service == nullptr) return ServiceUnavailable();
  StatusOr<bool> deleted = ctx.service->DeleteProject(project->id);
  if (!deleted.ok()) return StoreError(deleted.status());
  if (!*deleted) return JsonError(404, "404 Project Not Found");
  return JsonOk(202, {{"message", "202 Accepted"}});
}

}  // namespace slipway
