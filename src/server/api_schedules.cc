// GitLab's pipeline schedules API: GET/POST /projects/:id/pipeline_schedules,
// GET/PUT/DELETE .../:schedule_id, POST .../:schedule_id/play, GET
// .../:schedule_id/pipelines, and the schedule's variables (POST
// .../variables, PUT/DELETE .../variables/:key). docs/api.md.
#include <algorithm>

#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/cron.h"
#include "server/gitlab_json.h"
#include "server/request_params.h"
#include "util/ref_name.h"

namespace slipway {
namespace {

using json = nlohmann::json;

json ScheduleJson(const ScheduleRecord& s, bool with_variables) {
  json out = {{"id", s.id},
              {"description", s.description},
              {"ref", s.ref},
              {"cron", s.cron},
              {"cron_timezone", s.cron_timezone},
              {"next_run_at", s.next_run_at ? json(IsoTime(*s.next_run_at)) : json(nullptr)},
              {"active", s.active},
              {"created_at", IsoTime(s.created_at)},
              {"updated_at", IsoTime(s.updated_at)},
              {"owner", nullptr}};
  out["last_pipeline"] = s.last_pipeline_id ? json{{"id", *s.last_pipeline_id}} : json(nullptr);
  // Schedule variables are often credentials: a read token does not see them.
  if (with_variables) {
    json variables = json::array();
    for (const StoredVariable& v : s.variables) {
      variables.push_back({{"key", v.key}, {"value", v.value}, {"variable_type", v.variable_type}});
    }
    out["variables"] = std::move(variables);
  }
  return out;
}

bool MaySeeVariables(const ApiContext& ctx) {
  return ctx.token && ctx.token->role != TokenRole::kRead;
}

struct LoadedSchedule {
  ProjectRecord project;
  ScheduleRecord schedule;
};

// The project ctx.params["id"] and its schedule ctx.params["schedule_id"];
// nullopt with *error set (404, or 500) otherwise.
std::optional<LoadedSchedule> LoadSchedule(ApiContext& ctx, HttpResponse* error) {
  auto project = LoadProject(ctx, error);
  if (!project) return std::nullopt;
  auto schedule = LoadOwned<ScheduleRecord>(
      ctx, *project, "schedule_id", "404 Pipeline Schedule Not Found",
      [&](int64_t id) { return ctx.store->GetSchedule(id); }, error);
  if (!schedule) return std::nullopt;
  return LoadedSchedule{std::move(*project), std::move(*schedule)};
}

// Applies the request's fields onto *s and computes its next run; nullopt
// when the result is valid.
std::optional<HttpResponse> ApplyScheduleFields(ApiContext& ctx, const json& params,
                                                ScheduleRecord* s) {
  for (const char* field : {"description", "ref", "cron", "cron_timezone"}) {
    if (!params.contains(field)) continue;
    std::string value = ParamString(params, field);
    if (std::string_view(field) == "description") s->description = value;
    if (std::string_view(field) == "ref") s->ref = value;
    if (std::string_view(field) == "cron") s->cron = value;
    if (std::string_view(field) == "cron_timezone") s->cron_timezone = value;
  }
  bool bad = false;
  if (std::optional<bool> active = ParamBool(params, "active", &bad)) s->active = *active;
  if (bad) return BadParam("active");
  if (s->description.empty()) return FieldError("description", "can't be blank");
  if (s->ref.empty()) return FieldError("ref", "can't be blank");
  if (StatusOr<CronSpec> cron = ParseCron(s->cron); !cron.ok()) {
    return FieldError("cron", "is invalid syntax: " + cron.status().message());
  }
  if (!ValidTimeZone(s->cron_timezone)) return FieldError("cron_timezone", "is invalid syntax");
  StatusOr<int64_t> next = NextRun(s->cron, s->cron_timezone, ctx.now_ms);
  if (!next.ok()) return FieldError("cron", next.status().message());
  s->next_run_at = s->active ? std::optional<int64_t>(*next) : std::nullopt;
  return std::nullopt;
}

HttpResponse SaveSchedule(ApiContext& ctx, const ScheduleRecord& s, int status) {
  auto saved = s.id == 0 ? ctx.store->CreateSchedule(s) : ctx.store->UpdateSchedule(s);
  if (!saved.ok()) return StoreError(saved.status());
  return JsonOk(status, ScheduleJson(*saved, MaySeeVariables(ctx)));
}

}  // namespace

HttpResponse ListSchedules(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  std::string scope = ctx.req.Query("scope").value_or("");
  if (!scope.empty() && scope != "active" && scope != "inactive") return BadParam("scope");
  auto schedules = ctx.store->ListSchedules(project->id);
  if (!schedules.ok()) return StoreError(schedules.status());
  json items = json::array();
  for (const ScheduleRecord& s : *schedules) {
    if (!scope.empty() && s.active != (scope == "active")) continue;
    items.push_back(ScheduleJson(s, false));  // GitLab lists them without variables.
  }
  return JsonOk(200, items);
}

HttpResponse GetSchedule(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadSchedule(ctx, &error);
  if (!loaded) return error;
  ScheduleRecord* schedule = &loaded->schedule;
  return JsonOk(200, ScheduleJson(*schedule, MaySeeVariables(ctx)));
}

HttpResponse CreateSchedule(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  ScheduleRecord s;
  s.project_id = project->id;
  if (auto invalid = ApplyScheduleFields(ctx, *params, &s)) return *invalid;
  return SaveSchedule(ctx, s, 201);
}

HttpResponse UpdateSchedule(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadSchedule(ctx, &error);
  if (!loaded) return error;
  ScheduleRecord* schedule = &loaded->schedule;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  if (auto invalid = ApplyScheduleFields(ctx, *params, &*schedule)) return *invalid;
  return SaveSchedule(ctx, *schedule, 200);
}

HttpResponse DeleteSchedule(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadSchedule(ctx, &error);
  if (!loaded) return error;
  ScheduleRecord* schedule = &loaded->schedule;
  if (Status deleted = ctx.store->DeleteSchedule(schedule->id); !deleted.ok()) {
    return StoreError(deleted);
  }
  HttpResponse response;
  response.status = 204;
  return response;
}

// Runs the schedule's pipeline now, as its cron would (source `schedule`,
// its variables); its next run stays as it was.
HttpResponse PlaySchedule(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadSchedule(ctx, &error);
  if (!loaded) return error;
  ScheduleRecord* schedule = &loaded->schedule;
  if (ctx.service == nullptr) return ServiceUnavailable();
  CreatePipelineRequest request;
  request.project_id = loaded->project.id;
  ShortRef ref = SplitRef(schedule->ref);
  request.ref = ref.name;
  request.tag = ref.tag;
  request.source = "schedule";
  request.variables = schedule->variables;
  auto pipeline = ctx.service->CreatePipeline(request);
  if (!pipeline.ok()) return JsonError(422, "422 Unprocessable - " + pipeline.status().message());
  schedule->last_pipeline_id = pipeline->id;
  auto saved = ctx.store->UpdateSchedule(*schedule);
  if (!saved.ok()) return StoreError(saved.status());
  return JsonOk(201, {{"message", "201 Created"}});
}

HttpResponse ListSchedulePipelines(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadSchedule(ctx, &error);
  if (!loaded) return error;
  ScheduleRecord* schedule = &loaded->schedule;
  // The store keeps a schedule's last pipeline, not each it made: the
  // schedule's pipelines are the project's schedule pipelines of its ref.
  PipelineFilter filter;
  filter.project_id = loaded->project.id;
  filter.source = "schedule";
  filter.ref = SplitRef(schedule->ref).name;
  filter.per_page = 100;
  auto pipelines = ctx.store->ListPipelines(filter);
  if (!pipelines.ok()) return StoreError(pipelines.status());
  json items = json::array();
  for (const PipelineRecord& p : pipelines->items) {
    items.push_back(PipelineJson(p, loaded->project, ctx.base_url));
  }
  return JsonOk(200, items);
}

HttpResponse SetScheduleVariable(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadSchedule(ctx, &error);
  if (!loaded) return error;
  ScheduleRecord* schedule = &loaded->schedule;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  bool creating = ctx.req.method == "POST";
  std::string key = creating ? ParamString(*params, "key") : ctx.params["key"];
  auto it = std::find_if(schedule->variables.begin(), schedule->variables.end(),
                         [&](const StoredVariable& v) { return v.key == key; });
  if (creating && it != schedule->variables.end()) {
    return FieldError("key", "(" + key + ") has already been taken");
  }
  if (!creating && it == schedule->variables.end()) {
    return JsonError(404, "404 Variable Not Found");
  }
  if (key.empty() || (creating && !params->contains("value"))) {
    return JsonError(400, "400 Bad request - key and value are required");
  }
  StoredVariable v = creating ? StoredVariable{key, "", "env_var"} : *it;
  if (params->contains("value")) v.value = ParamString(*params, "value");
  if (params->contains("variable_type")) v.variable_type = ParamString(*params, "variable_type");
  if (v.variable_type != "env_var" && v.variable_type != "file") return BadParam("variable_type");
  if (creating) {
    schedule->variables.push_back(v);
  } else {
    *it = v;
  }
  auto saved = ctx.store->UpdateSchedule(*schedule);
  if (!saved.ok()) return StoreError(saved.status());
  return JsonOk(creating ? 201 : 200,
                {{"key", v.key}, {"value", v.value}, {"variable_type", v.variable_type}});
}

HttpResponse DeleteScheduleVariable(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadSchedule(ctx, &error);
  if (!loaded) return error;
  ScheduleRecord* schedule = &loaded->schedule;
  auto it = std::find_if(schedule->variables.begin(), schedule->variables.end(),
                         [&](const StoredVariable& v) { return v.key == ctx.params["key"]; });
  if (it == schedule->variables.end()) return JsonError(404, "404 Variable Not Found");
  json gone = {{"key", it->key}, {"value", it->value}, {"variable_type", it->variable_type}};
  schedule->variables.erase(it);
  auto saved = ctx.store->UpdateSchedule(*schedule);
  if (!saved.ok()) return StoreError(saved.status());
  return JsonOk(200, gone);
}

}  // namespace slipway
