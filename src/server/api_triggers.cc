// GitLab's pipeline triggers API: GET/POST /projects/:id/triggers,
// GET/PUT/DELETE /projects/:id/triggers/:trigger_id (run tokens), and
// POST /projects/:id/trigger/pipeline, which needs no API token but a
// trigger token of the project (docs/api.md).
#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/gitlab_json.h"
#include "server/request_params.h"

namespace slipway {
namespace {

using json = nlohmann::json;

// raw: the whole token, known only when it was just made; else GitLab shows
// its first 4 characters to everyone but its owner.
json TriggerJson(const TriggerRecord& t, const std::string& raw = "") {
  return {{"id", t.id},
          {"token", raw.empty() ? t.token_prefix : raw},
          {"description", t.description},
          {"created_at", IsoTime(t.created_at)},
          {"updated_at", IsoTime(t.updated_at)},
          {"last_used", t.last_used ? json(IsoTime(*t.last_used)) : json(nullptr)},
          {"owner", nullptr}};
}

std::optional<TriggerRecord> LoadTrigger(ApiContext& ctx, const ProjectRecord& project,
                                         HttpResponse* error) {
  return LoadOwned<TriggerRecord>(
      ctx, project, "trigger_id", "404 Trigger Not Found",
      [&](int64_t id) { return ctx.store->GetTrigger(id); }, error);
}

}  // namespace

HttpResponse ListTriggers(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto triggers = ctx.store->ListTriggers(project->id);
  if (!triggers.ok()) return StoreError(triggers.status());
  json items = json::array();
  for (const TriggerRecord& t : *triggers) items.push_back(TriggerJson(t));
  return JsonOk(200, items);
}

HttpResponse GetTrigger(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto trigger = LoadTrigger(ctx, *project, &error);
  if (!trigger) return error;
  return JsonOk(200, TriggerJson(*trigger));
}

HttpResponse CreateTrigger(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  std::string description = ParamString(*params, "description");
  if (description.empty()) return JsonError(400, "400 Bad request - description is missing");
  auto created = ctx.store->CreateTrigger(project->id, description);
  if (!created.ok()) return StoreError(created.status());
  return JsonOk(201, TriggerJson(created->trigger, created->raw));
}

HttpResponse UpdateTrigger(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto trigger = LoadTrigger(ctx, *project, &error);
  if (!trigger) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  if (params->contains("description")) trigger->description = ParamString(*params, "description");
  auto updated = ctx.store->UpdateTrigger(trigger->id, trigger->description);
  if (!updated.ok()) return StoreError(updated.status());
  auto after = ctx.store->GetTrigger(trigger->id);
  if (!after.ok()) return StoreError(after.status());
  if (!*updated || !*after) return JsonError(404, "404 Trigger Not Found");
  return JsonOk(200, TriggerJson(**after));
}

HttpResponse DeleteTrigger(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto trigger = LoadTrigger(ctx, *project, &error);
  if (!trigger) return error;
  auto deleted = ctx.store->DeleteTrigger(trigger->id);
  if (!deleted.ok()) return StoreError(deleted.status());
  HttpResponse response;
  response.status = 204;
  return response;
}

// POST /projects/:id/trigger/pipeline: token, ref, variables[KEY]=VALUE.
// A wrong token gets GitLab's 404, as if the project were not there.
HttpResponse TriggerPipeline(ApiContext& ctx) {
  HttpResponse error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  std::string token = ParamString(*params, "token");
  std::string ref = ParamString(*params, "ref");
  if (token.empty() || ref.empty()) {
    return JsonError(400, "400 Bad request - token and ref are required");
  }
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto trigger = ctx.store->UseTrigger(project->id, token);
  if (!trigger.ok()) return StoreError(trigger.status());
  if (!*trigger) return JsonError(404, "404 Not Found");
  CreatePipelineRequest request;
  request.project_id = project->id;
  request.ref = ref;
  request.source = "trigger";
  auto variables = params->find("variables");
  if (variables != params->end() && !variables->is_null()) {
    if (!variables->is_object()) return BadParam("variables");
    for (const auto& [key, value] : variables->items()) {
      if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
        return BadParam("variables");
      }
      request.variables.push_back({key, ParamString(*variables, key), "env_var"});
    }
  }
  if (ctx.service == nullptr) return ServiceUnavailable();
  auto pipeline = ctx.service->CreatePipeline(request);
  if (!pipeline.ok()) return JsonError(400, "400 Bad request - " + pipeline.status().message());
  return JsonOk(201, PipelineJson(*pipeline, *project, ctx.base_url));
}

}  // namespace slipway
