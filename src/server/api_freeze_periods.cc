// GitLab's freeze periods API (docs/api.md "Deploy freezes"): a project's
// deploy freezes, their crons checked as schedules' are (server/cron.h).
#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/cron.h"
#include "server/gitlab_json.h"

namespace slipway {
namespace {

using json = nlohmann::json;

json FreezePeriodJson(const FreezePeriodRecord& f) {
  return {{"id", f.id},
          {"freeze_start", f.freeze_start},
          {"freeze_end", f.freeze_end},
          {"cron_timezone", f.cron_timezone},
          {"created_at", IsoTime(f.created_at)},
          {"updated_at", IsoTime(f.updated_at)}};
}

std::optional<FreezePeriodRecord> LoadFreezePeriod(ApiContext& ctx, const ProjectRecord& project,
                                                   HttpResponse* error) {
  return LoadOwned<FreezePeriodRecord>(
      ctx, project, "freeze_period_id", "404 Not found",
      [&](int64_t id) { return ctx.store->GetFreezePeriod(id); }, error);
}

// Takes freeze_start, freeze_end and cron_timezone from params into *period
// (each when given); a 400 naming the field for a bad cron or zone.
bool ApplyParams(const json& params, FreezePeriodRecord* period, HttpResponse* error) {
  for (auto [key, field] : {std::pair{"freeze_start", &period->freeze_start},
                            std::pair{"freeze_end", &period->freeze_end},
                            std::pair{"cron_timezone", &period->cron_timezone}}) {
    if (params.contains(key)) *field = ParamString(params, key);
  }
  for (auto [key, cron] : {std::pair{"freeze_start", period->freeze_start},
                           std::pair{"freeze_end", period->freeze_end}}) {
    StatusOr<CronSpec> parsed = ParseCron(cron);
    if (!parsed.ok()) {
      *error = JsonError(400, std::string(key) + " is invalid: " + parsed.status().message());
      return false;
    }
  }
  if (!ValidTimeZone(period->cron_timezone)) {
    *error = JsonError(
        400, "cron_timezone is invalid: '" + period->cron_timezone + "' is not a time zone");
    return false;
  }
  return true;
}

}  // namespace

HttpResponse ListFreezePeriods(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto periods = ctx.store->ListFreezePeriods(project->id);
  if (!periods.ok()) return StoreError(periods.status());
  json out = json::array();
  for (const FreezePeriodRecord& f : *periods) out.push_back(FreezePeriodJson(f));
  return JsonOk(200, out);
}

HttpResponse GetFreezePeriod(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto period = LoadFreezePeriod(ctx, *project, &error);
  if (!period) return error;
  return JsonOk(200, FreezePeriodJson(*period));
}

HttpResponse CreateFreezePeriod(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  for (const char* required : {"freeze_start", "freeze_end"}) {
    if (ParamString(*params, required).empty()) {
      return JsonError(400, std::string(required) + " is missing");
    }
  }
  FreezePeriodRecord period;
  period.project_id = project->id;
  period.cron_timezone = "UTC";
  if (!ApplyParams(*params, &period, &error)) return error;
  auto created = ctx.store->CreateFreezePeriod(period);
  if (!created.ok()) return StoreError(created.status());
  return JsonOk(201, FreezePeriodJson(*created));
}

HttpResponse UpdateFreezePeriod(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto period = LoadFreezePeriod(ctx, *project, &error);
  if (!period) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  if (!ApplyParams(*params, &*period, &error)) return error;
  auto updated = ctx.store->UpdateFreezePeriod(*period);
  if (!updated.ok()) return StoreError(updated.status());
  return JsonOk(200, FreezePeriodJson(*updated));
}

HttpResponse DeleteFreezePeriod(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto period = LoadFreezePeriod(ctx, *project, &error);
  if (!period) return error;
  Status deleted = ctx.store->DeleteFreezePeriod(period->id);
  if (!deleted.ok()) return StoreError(deleted);
  HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace slipway
