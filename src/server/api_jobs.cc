// The jobs endpoints: lists, get, trace (whole and live), actions (artifacts:
// api_artifacts.cc).
#include <charconv>
#include <map>

#include "server/api_handlers.h"
#include "server/gitlab_json.h"

namespace slipway {

using nlohmann::json;

namespace {

// scope / scope[]: job statuses; nullopt with *error on an unknown one.
std::optional<std::vector<CiStatus>> ParseScope(const HttpRequest& req, HttpResponse* error) {
  std::vector<CiStatus> scope;
  for (const std::string& name : req.QueryAll("scope")) {
    if (name.empty()) continue;
    auto status = ParseCiStatus(name);
    if (!status) {
      *error = JsonError(400, "400 Bad request - scope does not have a valid value");
      return std::nullopt;
    }
    scope.push_back(*status);
  }
  return scope;
}

HttpResponse ListJobs(ApiContext& ctx, const ProjectRecord& project, JobFilter filter) {
  HttpResponse error;
  auto page = ParsePage(ctx.req, &error);
  if (!page) return error;
  auto scope = ParseScope(ctx.req, &error);
  if (!scope) return error;
  filter.scope = std::move(*scope);
  filter.page = page->page;
  filter.per_page = page->per_page;
  auto jobs = ctx.store->ListJobs(filter);
  if (!jobs.ok()) return StoreError(jobs.status());
  std::map<int64_t, PipelineRecord> pipelines;
  json items = json::array();
  for (const JobRecord& job : jobs->items) {
    auto it = pipelines.find(job.pipeline_id);
    if (it == pipelines.end()) {
      auto pipeline = ctx.store->GetPipeline(job.pipeline_id);
      if (!pipeline.ok()) return StoreError(pipeline.status());
      if (!pipeline->has_value()) continue;  // Deleted meanwhile.
      it = pipelines.emplace(job.pipeline_id, std::move(**pipeline)).first;
    }
    items.push_back(JobJsonFor(ctx, job, it->second, project));
  }
  HttpResponse response = JsonOk(200, items);
  SetPaginationHeaders(ctx, *page, jobs->total, &response);
  return response;
}

}  // namespace

namespace {

// The jobs of the pipeline in ctx.params, or of the whole project.
HttpResponse ListJobsOf(ApiContext& ctx, bool of_pipeline) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  JobFilter filter;
  if (of_pipeline) {
    auto pipeline = LoadPipeline(ctx, *project, &error);
    if (!pipeline) return error;
    filter.pipeline_id = pipeline->id;
  } else {
    filter.project_id = project->id;
  }
  filter.include_retried = ParseBool(ctx.req.Query("include_retried").value_or("")).value_or(false);
  filter.bridge = false;  // GitLab lists trigger jobs only under /bridges.
  return ListJobs(ctx, *project, filter);
}

}  // namespace

HttpResponse ListPipelineJobs(ApiContext& ctx) { return ListJobsOf(ctx, true); }

HttpResponse ListProjectJobs(ApiContext& ctx) { return ListJobsOf(ctx, false); }

HttpResponse GetJob(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadJob(ctx, &error);
  if (!loaded) return error;
  const ProjectRecord* project = &loaded->project;
  PipelineRecord& pipeline = loaded->pipeline;
  const JobRecord* job = &loaded->job;
  ctx.cacheable = IsFinished(job->status) && IsFinished(pipeline.status);
  return JsonOk(200, JobJsonFor(ctx, *job, pipeline, *project));
}

HttpResponse GetTrace(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadJob(ctx, &error);
  if (!loaded) return error;
  PipelineRecord& pipeline = loaded->pipeline;
  const JobRecord* job = &loaded->job;
  auto log = ctx.store->ReadLog(job->id, 0, ctx.max_trace_bytes);
  if (!log.ok()) return StoreError(log.status());
  ctx.cacheable = IsFinished(job->status) && IsFinished(pipeline.status);
  return TextResponse(200, std::move(log->bytes));
}

HttpResponse StreamTrace(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadJob(ctx, &error);
  if (!loaded) return error;
  const JobRecord* job = &loaded->job;
  std::string offset_text = ctx.req.Query("offset").value_or(ctx.req.Header("last-event-id"));
  int64_t offset = 0;
  if (!offset_text.empty()) {
    auto [end, ec] =
        std::from_chars(offset_text.data(), offset_text.data() + offset_text.size(), offset);
    if (ec != std::errc() || end != offset_text.data() + offset_text.size() || offset < 0) {
      return JsonError(400, "400 Bad request - offset must be a byte offset (0 or more)");
    }
  }
  HttpResponse response;
  response.headers = {{"Content-Type", "text/event-stream"},
                      {"Cache-Control", "no-cache"},
                      {"X-Accel-Buffering", "no"}};
  response.stream = LogStreamSpec{job->id, offset};
  return response;
}

namespace {

template <typename Action>
HttpResponse JobAction(ApiContext& ctx, Action action) {
  HttpResponse error;
  auto loaded = LoadJob(ctx, &error);
  if (!loaded) return error;
  const ProjectRecord* project = &loaded->project;
  PipelineRecord& pipeline = loaded->pipeline;
  const JobRecord* job = &loaded->job;
  if (ctx.service == nullptr) return ServiceUnavailable();
  StatusOr<JobRecord> result = action(job->id);
  if (!result.ok()) return JsonError(400, "400 Bad request - " + result.status().message());
  auto current = ctx.store->GetPipeline(result->pipeline_id);
  if (current.ok() && current->has_value()) pipeline = **current;
  return JsonOk(201, JobJsonFor(ctx, *result, pipeline, *project));
}

}  // namespace

// A retry or a play is the token's: it deploys (docs/deployments.md). Set
// before the action, so that the attempt it starts sees it (a retry copies
// it to the new attempt).
static Status RecordJobUser(ApiContext& ctx, int64_t job_id) {
  return ctx.token ? ctx.store->SetJobUser(job_id, ctx.token->id) : Status::Ok();
}

HttpResponse RetryJob(ApiContext& ctx) {
  return JobAction(ctx, [&](int64_t id) -> StatusOr<JobRecord> {
    if (Status s = RecordJobUser(ctx, id); !s.ok()) return s;
    return ctx.service->RetryJob(id);
  });
}

HttpResponse CancelJob(ApiContext& ctx) {
  return JobAction(ctx, [&](int64_t id) { return ctx.service->CancelJob(id); });
}

HttpResponse PlayJob(ApiContext& ctx) {
  return JobAction(ctx, [&](int64_t id) -> StatusOr<JobRecord> {
    if (Status s = RecordJobUser(ctx, id); !s.ok()) return s;
    return ctx.service->PlayJob(id);
  });
}

}  // namespace slipway
