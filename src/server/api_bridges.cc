// GET /projects/:id/pipelines/:pipeline_id/bridges: the pipeline's trigger
// jobs (GitLab's bridges) with the pipeline each started
// (downstream_pipeline), docs/api.md.
#include "server/api_handlers.h"
#include "server/gitlab_json.h"
#include "server/run_recorder.h"

namespace slipway {

using nlohmann::json;

HttpResponse ListPipelineBridges(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto pipeline = LoadPipeline(ctx, *project, &error);
  if (!pipeline) return error;
  auto page = ParsePage(ctx.req, &error);
  if (!page) return error;
  std::vector<CiStatus> scope;
  for (const std::string& name : ctx.req.QueryAll("scope")) {
    if (name.empty()) continue;
    std::optional<CiStatus> status = ParseCiStatus(name);
    if (!status) return JsonError(400, "400 Bad request - scope does not have a valid value");
    scope.push_back(*status);
  }
  StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(ctx.store, pipeline->id);
  if (!jobs.ok()) return StoreError(jobs.status());
  StatusOr<std::vector<PipelineRecord>> downstream =
      ctx.store->ListDownstreamPipelines(pipeline->id);
  if (!downstream.ok()) return StoreError(downstream.status());
  std::vector<const JobRecord*> bridges;
  for (const JobRecord& job : *jobs) {
    if (!job.bridge) continue;
    if (!scope.empty() && std::find(scope.begin(), scope.end(), job.status) == scope.end()) {
      continue;
    }
    bridges.push_back(&job);
  }
  json items = json::array();
  size_t first = static_cast<size_t>(page->page - 1) * static_cast<size_t>(page->per_page);
  for (size_t i = first; i < bridges.size() && i < first + page->per_page; ++i) {
    const JobRecord& job = *bridges[i];
    json item = JobJsonFor(ctx, job, *pipeline, *project);
    item["downstream_pipeline"] = nullptr;
    for (const PipelineRecord& p : *downstream) {
      if (p.upstream_job_id != job.id) continue;
      auto owner = ctx.store->GetProject(p.project_id);
      if (!owner.ok()) return StoreError(owner.status());
      if (*owner) item["downstream_pipeline"] = PipelineJson(p, **owner, ctx.base_url);
    }
    items.push_back(std::move(item));
  }
  HttpResponse response = JsonOk(200, items);
  SetPaginationHeaders(ctx, *page, static_cast<int64_t>(bridges.size()), &response);
  return response;
}

}  // namespace slipway
