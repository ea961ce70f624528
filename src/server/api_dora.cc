// GET /projects/:id/dora/metrics in GitLab's shape (docs/dora.md,
// docs/api.md): one {date, value} per bucket, plus slipway's mean, sample
// counts and performance bands.
#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/dora.h"
#include "server/dora_request.h"

namespace slipway {

HttpResponse GetDoraMetrics(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  DoraOptionsInput input;
  input.metric = ctx.req.Query("metric").value_or("");
  input.interval = ctx.req.Query("interval").value_or("");
  input.start_date = ctx.req.Query("start_date").value_or("");
  input.end_date = ctx.req.Query("end_date").value_or("");
  for (const char* key : {"environment_tiers[]", "environment_tiers", "environment_tier"}) {
    for (const std::string& tier : ctx.req.QueryAll(key)) input.tiers.push_back(tier);
  }
  input.now_ms = ctx.now_ms;
  StatusOr<DoraOptions> options = ResolveDoraOptions(input);
  if (!options.ok()) return JsonError(400, "400 Bad request - " + options.status().message());
  StatusOr<DoraFacts> facts =
      ctx.store->LoadDoraFacts(DoraQueryFor(options->request, project->id, options->tiers));
  if (!facts.ok()) return StoreError(facts.status());
  nlohmann::json out = nlohmann::json::array();
  for (const DoraPoint& point : ComputeDora(*facts, options->request)) {
    out.push_back(DoraPointJson(options->request.metric, point));
  }
  return JsonOk(200, out);
}

}  // namespace slipway
