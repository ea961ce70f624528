// The pipelines endpoints: list with GitLab's filters, create, get, cancel,
// retry, delete.
#include <map>
#include <vector>

#include "pipeline/ci_status.h"
#include "server/api_handlers.h"
#include "server/forge_status.h"
#include "server/gitlab_json.h"

namespace slipway {

using nlohmann::json;

namespace {

// A pipeline's JSON with its coverage (GitLab's average of its jobs').
json PipelineJsonWithCoverage(ApiContext& ctx, const PipelineRecord& p,
                              const ProjectRecord& project) {
  json j = PipelineJson(p, project, ctx.base_url);
  if (std::optional<std::string> coverage = PipelineCoverage(ctx, p.id)) j["coverage"] = *coverage;
  return j;
}

// slipway's `stages` of each listed pipeline (docs/api.md), for the
// dashboard's stage graph: [{name, status, warnings}] in stage order, each
// stage's status GitLab's composite of its latest jobs; warnings when it
// passed with allowed failures. One store query for the whole page.
StatusOr<std::map<int64_t, json>> StageGraphs(ApiContext& ctx,
                                              const std::vector<PipelineRecord>& pipelines) {
  std::vector<int64_t> ids;
  for (const PipelineRecord& p : pipelines) ids.push_back(p.id);
  auto rows = ctx.store->ListStageJobStatuses(ids);
  if (!rows.ok()) return rows.status();
  std::map<int64_t, json> graphs;
  for (int64_t id : ids) graphs[id] = json::array();
  // Rows come by pipeline, then stage_idx: a stage's jobs are adjacent.
  for (size_t i = 0; i < rows->size();) {
    const StageJobStatus& first = (*rows)[i];
    std::vector<StatusEntry> entries;
    bool allowed_failure = false;
    size_t j = i;
    for (; j < rows->size() && (*rows)[j].pipeline_id == first.pipeline_id &&
           (*rows)[j].stage_idx == first.stage_idx && (*rows)[j].stage == first.stage;
         ++j) {
      const StageJobStatus& job = (*rows)[j];
      entries.push_back({job.status, job.allow_failure});
      allowed_failure |= job.allow_failure &&
                         (job.status == CiStatus::kFailed || job.status == CiStatus::kCanceled);
    }
    CiStatus status = CompositeStatus(entries);
    graphs[first.pipeline_id].push_back(
        {{"name", first.stage},
         {"status", CiStatusName(status)},
         {"warnings", allowed_failure && status == CiStatus::kSuccess}});
    i = j;
  }
  return graphs;
}

// Variables from [{key, value, variable_type}] (JSON or form).
std::optional<std::vector<StoredVariable>> ParseVariables(const json& params, HttpResponse* error) {
  std::vector<StoredVariable> out;
  auto it = params.find("variables");
  if (it == params.end() || it->is_null()) return out;
  if (!it->is_array()) {
    *error = BadParam("variables");
    return std::nullopt;
  }
  for (const json& v : *it) {
    if (!v.is_object()) {
      *error = BadParam("variables");
      return std::nullopt;
    }
    StoredVariable var;
    var.key = ParamString(v, "key");
    var.value = ParamString(v, "value");
    std::string type = ParamString(v, "variable_type");
    if (!type.empty()) var.variable_type = type;
    if (var.key.empty() || (var.variable_type != "env_var" && var.variable_type != "file")) {
      *error = JsonError(
          400, "400 Bad request - variables need a key and a variable_type of env_var or file");
      return std::nullopt;
    }
    out.push_back(std::move(var));
  }
  return out;
}

}  // namespace

HttpResponse ListPipelines(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto page = ParsePage(ctx.req, &error);
  if (!page) return error;
  PipelineFilter filter;
  filter.project_id = project->id;
  filter.page = page->page;
  filter.per_page = page->per_page;
  const HttpRequest& req = ctx.req;
  if (auto scope = req.Query("scope"); scope && !scope->empty()) {
    if (*scope != "running" && *scope != "pending" && *scope != "finished" &&
        *scope != "branches" && *scope != "tags") {
      return BadParam("scope");
    }
    filter.scope = *scope;
  }
  if (auto status = req.Query("status"); status && !status->empty()) {
    filter.status = ParseCiStatus(*status);
    if (!filter.status) return BadParam("status");
  }
  filter.ref = req.Query("ref").value_or("");
  filter.sha = req.Query("sha").value_or("");
  filter.source = req.Query("source").value_or("");
  filter.name = req.Query("name").value_or("");
  if (auto yaml = req.Query("yaml_errors"); yaml && !yaml->empty()) {
    filter.yaml_errors = ParseBool(*yaml);
    if (!filter.yaml_errors) return BadParam("yaml_errors");
  }
  if (!ParseUpdatedRange(req, &filter.updated_after, &filter.updated_before, &error)) return error;
  if (auto order = req.Query("order_by"); order && !order->empty()) {
    if (*order != "id" && *order != "status" && *order != "ref" && *order != "updated_at") {
      return BadParam("order_by");
    }
    filter.order_by = *order;
  }
  if (auto sort = req.Query("sort"); sort && !sort->empty()) {
    if (*sort != "asc" && *sort != "desc") return BadParam("sort");
    filter.sort = *sort;
  }
  auto pipelines = ctx.store->ListPipelines(filter);
  if (!pipelines.ok()) return StoreError(pipelines.status());
  auto graphs = StageGraphs(ctx, pipelines->items);
  if (!graphs.ok()) return StoreError(graphs.status());
  json items = json::array();
  for (const PipelineRecord& p : pipelines->items) {
    json item = PipelineJsonWithCoverage(ctx, p, *project);
    item["stages"] = std::move((*graphs)[p.id]);
    items.push_back(std::move(item));
  }
  HttpResponse response = JsonOk(200, items);
  SetPaginationHeaders(ctx, *page, pipelines->total, &response);
  return response;
}

HttpResponse CreatePipeline(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  CreatePipelineRequest request;
  request.project_id = project->id;
  request.ref = ParamString(*params, "ref");
  if (request.ref.empty()) return JsonError(400, "400 Bad request - ref is missing");
  request.source = ParamString(*params, "source") == "web" ? "web" : "api";
  if (ctx.token) request.user_token_id = ctx.token->id;  // Who deploys (docs/deployments.md).
  auto variables = ParseVariables(*params, &error);
  if (!variables) return error;
  request.variables = std::move(*variables);
  if (ctx.service == nullptr) return ServiceUnavailable();
  auto pipeline = ctx.service->CreatePipeline(request);
  if (!pipeline.ok()) return JsonError(400, "400 Bad request - " + pipeline.status().message());
  return JsonOk(201, PipelineJson(*pipeline, *project, ctx.base_url));
}

HttpResponse GetPipeline(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto pipeline = LoadPipeline(ctx, *project, &error);
  if (!pipeline) return error;
  nlohmann::json body = PipelineJsonWithCoverage(ctx, *pipeline, *project);
  // slipway's own: what posting its commit status to the project's forge
  // gave (docs/api.md). It is written after the pipeline finishes, by
  // another thread: such an answer is never cached.
  auto forge = ctx.store->GetProjectForge(project->id);
  if (!forge.ok()) return StoreError(forge.status());
  auto sent = ctx.store->GetForgeStatus(pipeline->id);
  if (!sent.ok()) return StoreError(sent.status());
  body["forge_status"] = nullptr;
  if (*sent) {
    body["forge_status"] = {{"forge", ForgeDisplayName((*sent)->forge)},
                            {"state", (*sent)->state},
                            {"ok", (*sent)->ok},
                            {"error", (*sent)->error},
                            {"updated_at", IsoTime((*sent)->updated_at)}};
  }
  ctx.cacheable = IsFinished(pipeline->status) && !*forge;
  return JsonOk(200, body);
}

namespace {

// Runs action on the pipeline, then answers with its state afterwards.
template <typename Action>
HttpResponse PipelineAction(ApiContext& ctx, Action action) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto pipeline = LoadPipeline(ctx, *project, &error);
  if (!pipeline) return error;
  if (ctx.service == nullptr) return ServiceUnavailable();
  Status status = action(pipeline->id);
  if (!status.ok()) return JsonError(400, "400 Bad request - " + status.message());
  auto after = ctx.store->GetPipeline(pipeline->id);
  if (!after.ok()) return StoreError(after.status());
  if (!after->has_value()) return JsonError(404, "404 Pipeline Not Found");
  return JsonOk(201, PipelineJson(**after, *project, ctx.base_url));
}

}  // namespace

HttpResponse CancelPipeline(ApiContext& ctx) {
  return PipelineAction(ctx, [&](int64_t id) { return ctx.service->CancelPipeline(id); });
}

HttpResponse RetryPipeline(ApiContext& ctx) {
  return PipelineAction(ctx, [&](int64_t id) {
    auto retried = ctx.service->RetryPipeline(id);
    return retried.ok() ? Status::Ok() : retried.status();
  });
}

HttpResponse DeletePipeline(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto pipeline = LoadPipeline(ctx, *project, &error);
  if (!pipeline) return error;
  if (IsActive(pipeline->status)) {
    // Stop it first, so that the engine writes nothing for deleted rows.
    if (ctx.service == nullptr) return ServiceUnavailable();
    Status canceled = ctx.service->CancelPipeline(pipeline->id);
    if (!canceled.ok()) return JsonError(400, "400 Bad request - " + canceled.message());
  }
  Status deleted = ctx.store->DeletePipeline(pipeline->id);
  if (!deleted.ok()) return StoreError(deleted);
  HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace slipway
