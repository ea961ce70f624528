// GitLab's project hooks API, for outgoing webhooks (project_hooks.h):
// GET/POST /projects/:id/hooks, GET/DELETE /projects/:id/hooks/:hook_id.
// GitLab's field names; of the events only pipeline_events and job_events
// are sent (the others are accepted and answered false). The token is
// never returned, as on GitLab.
#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/gitlab_json.h"
#include "server/request_params.h"
#include "util/http_get.h"

namespace slipway {
namespace {

using json = nlohmann::json;

json HookJson(const ProjectHookRecord& h) {
  return {{"id", h.id},
          {"url", h.url},
          {"project_id", h.project_id},
          {"push_events", false},
          {"tag_push_events", false},
          {"merge_requests_events", false},
          {"issues_events", false},
          {"note_events", false},
          {"pipeline_events", h.pipeline_events},
          {"job_events", h.job_events},
          {"deployment_events", false},
          {"releases_events", false},
          {"wiki_page_events", false},
          {"enable_ssl_verification", h.enable_ssl_verification},
          {"created_at", IsoTime(h.created_at)}};
}

std::optional<ProjectHookRecord> LoadHook(ApiContext& ctx, const ProjectRecord& project,
                                          HttpResponse* error) {
  return LoadOwned<ProjectHookRecord>(
      ctx, project, "hook_id", "404 Not found",
      [&](int64_t id) { return ctx.store->GetProjectHook(id); }, error);
}

}  // namespace

HttpResponse ListProjectHooks(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto hooks = ctx.store->ListProjectHooks(project->id);
  if (!hooks.ok()) return StoreError(hooks.status());
  json items = json::array();
  for (const ProjectHookRecord& h : *hooks) items.push_back(HookJson(h));
  return JsonOk(200, items);
}

HttpResponse GetProjectHook(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto hook = LoadHook(ctx, *project, &error);
  if (!hook) return error;
  return JsonOk(200, HookJson(*hook));
}

HttpResponse CreateProjectHook(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  ProjectHookRecord hook;
  hook.project_id = project->id;
  hook.url = ParamString(*params, "url");
  if (hook.url.empty()) return JsonError(400, "400 Bad request - url is missing");
  HttpUrl parsed;
  if (!ParseHttpUrl(hook.url, &parsed)) {
    return FieldError("url", "is blocked: Only allowed schemes are http, https");
  }
  hook.token = ParamString(*params, "token");
  bool bad = false;
  std::optional<bool> pipeline = ParamBool(*params, "pipeline_events", &bad);
  if (bad) return BadParam("pipeline_events");
  std::optional<bool> job = ParamBool(*params, "job_events", &bad);
  if (bad) return BadParam("job_events");
  std::optional<bool> ssl = ParamBool(*params, "enable_ssl_verification", &bad);
  if (bad) return BadParam("enable_ssl_verification");
  hook.pipeline_events = pipeline.value_or(false);
  hook.job_events = job.value_or(false);
  hook.enable_ssl_verification = ssl.value_or(true);
  auto created = ctx.store->CreateProjectHook(hook);
  if (!created.ok()) return StoreError(created.status());
  return JsonOk(201, HookJson(*created));
}

HttpResponse DeleteProjectHook(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto hook = LoadHook(ctx, *project, &error);
  if (!hook) return error;
  auto deleted = ctx.store->DeleteProjectHook(hook->id);
  if (!deleted.ok()) return StoreError(deleted.status());
  HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace slipway
