// GitLab's resource groups API (docs/api.md "Resource groups"): a project's
// groups, their process_mode, and the jobs waiting for each
// (server/resource_groups.h); and the project's deployment safety settings
// (PUT /projects/:id).
#include <algorithm>

#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/gitlab_json.h"

namespace slipway {
namespace {

using json = nlohmann::json;

json ResourceGroupJson(const ResourceGroupRecord& g) {
  return {{"id", g.id},
          {"key", g.key},
          {"process_mode", g.process_mode},
          {"created_at", IsoTime(g.created_at)},
          {"updated_at", IsoTime(g.updated_at)}};
}

std::optional<ResourceGroupRecord> LoadResourceGroup(ApiContext& ctx, const ProjectRecord& project,
                                                     HttpResponse* error) {
  auto group = ctx.store->FindResourceGroup(project.id, ctx.params["key"]);
  if (!group.ok()) {
    *error = StoreError(group.status());
    return std::nullopt;
  }
  if (!*group) {
    *error = JsonError(404, "404 Not found");
    return std::nullopt;
  }
  return **group;
}

// A boolean parameter if given: *bad set when it is not one.
std::optional<bool> OptionalBool(const json& params, const std::string& key, bool* bad) {
  if (!params.contains(key)) return std::nullopt;
  std::optional<bool> value = ParseBool(ParamString(params, key));
  if (!value) *bad = true;
  return value;
}

}  // namespace

HttpResponse ListResourceGroups(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto groups = ctx.store->ListResourceGroups(project->id);
  if (!groups.ok()) return StoreError(groups.status());
  json out = json::array();
  for (const ResourceGroupRecord& g : *groups) out.push_back(ResourceGroupJson(g));
  return JsonOk(200, out);
}

HttpResponse GetResourceGroup(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto group = LoadResourceGroup(ctx, *project, &error);
  if (!group) return error;
  return JsonOk(200, ResourceGroupJson(*group));
}

HttpResponse UpdateResourceGroup(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto group = LoadResourceGroup(ctx, *project, &error);
  if (!group) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  if (!params->contains("process_mode")) return JsonOk(200, ResourceGroupJson(*group));
  auto updated = ctx.store->SetResourceGroupMode(project->id, group->key,
                                                 ParamString(*params, "process_mode"));
  if (!updated.ok()) return BadParam("process_mode");
  if (!*updated) return JsonError(404, "404 Not found");
  return JsonOk(200, ResourceGroupJson(**updated));
}

HttpResponse ListUpcomingResourceJobs(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto group = LoadResourceGroup(ctx, *project, &error);
  if (!group) return error;
  auto jobs = ctx.store->UpcomingResourceJobs(project->id, group->key);
  if (!jobs.ok()) return StoreError(jobs.status());
  // In the order the group hands them out (by pipeline, newest first for
  // the newest_* modes).
  if (group->process_mode == "newest_first" || group->process_mode == "newest_ready_first") {
    std::stable_sort(jobs->begin(), jobs->end(), [](const JobRecord& a, const JobRecord& b) {
      return a.pipeline_id > b.pipeline_id;
    });
  }
  json out = json::array();
  for (const JobRecord& job : *jobs) {
    auto pipeline = ctx.store->GetPipeline(job.pipeline_id);
    if (!pipeline.ok()) return StoreError(pipeline.status());
    if (!*pipeline) continue;
    out.push_back(JobJsonFor(ctx, job, **pipeline, *project));
  }
  return JsonOk(200, out);
}

HttpResponse UpdateProject(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  bool bad = false;
  std::optional<bool> enabled = OptionalBool(*params, "ci_forward_deployment_enabled", &bad);
  if (bad) return BadParam("ci_forward_deployment_enabled");
  std::optional<bool> rollback =
      OptionalBool(*params, "ci_forward_deployment_rollback_allowed", &bad);
  if (bad) return BadParam("ci_forward_deployment_rollback_allowed");
  if (enabled || rollback) {
    auto updated = ctx.store->SetProjectDeploymentSafety(
        project->id, enabled.value_or(project->ci_forward_deployment_enabled),
        rollback.value_or(project->ci_forward_deployment_rollback_allowed));
    if (!updated.ok()) return StoreError(updated.status());
    project = *updated;
  }
  return JsonOk(200, ProjectJson(*project, ctx.base_url));
}

}  // namespace slipway
