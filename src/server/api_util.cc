// Helpers shared by the API handlers: lookups with GitLab's 404s and
// pagination headers (request parameters are in request_params.cc).
#include "server/api_util.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "server/gitlab_json.h"
#include "server/request_params.h"

namespace slipway {

using nlohmann::json;

HttpResponse FieldError(const std::string& field, const std::string& why) {
  return JsonOk(400, {{"message", {{field, nlohmann::json::array({why})}}}});
}

HttpResponse BadParam(const std::string& name) {
  return JsonError(400, "400 Bad request - " + name + " does not have a valid value");
}

bool ParseUpdatedRange(const HttpRequest& req, std::optional<int64_t>* after,
                       std::optional<int64_t>* before, HttpResponse* error) {
  for (auto [key, target] :
       {std::pair<const char*, std::optional<int64_t>*>{"updated_after", after},
        std::pair<const char*, std::optional<int64_t>*>{"updated_before", before}}) {
    if (auto text = req.Query(key); text && !text->empty()) {
      *target = ParseIsoTime(*text);
      if (!*target) {
        *error = BadParam(key);
        return false;
      }
    }
  }
  return true;
}

HttpResponse StoreError(const Status& status) { return JsonError(500, status.message()); }

HttpResponse ServiceUnavailable() {
  return JsonError(503, "503 Service Unavailable: the pipeline engine is not running");
}

HttpResponse JsonOk(int status, const json& body) { return JsonResponse(status, DumpJson(body)); }

std::optional<bool> ParseBool(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), ::tolower);
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return std::nullopt;
}

std::optional<bool> ParamBool(const nlohmann::json& params, const std::string& key, bool* bad) {
  std::string text = ParamString(params, key);
  if (text.empty()) return std::nullopt;
  std::optional<bool> value = ParseBool(text);
  if (!value) *bad = true;
  return value;
}

std::optional<int64_t> ParseId(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::optional<ProjectRecord> LoadProject(ApiContext& ctx, HttpResponse* error) {
  const std::string& id = ctx.params["id"];
  StatusOr<std::optional<ProjectRecord>> project = std::optional<ProjectRecord>();
  if (auto numeric = ParseId(id)) {
    project = ctx.store->GetProject(*numeric);
  } else {
    project = ctx.store->GetProjectByPath(id);
  }
  if (!project.ok()) {
    *error = StoreError(project.status());
    return std::nullopt;
  }
  if (!project->has_value()) {
    *error = JsonError(404, "404 Project Not Found");
    return std::nullopt;
  }
  return std::move(**project);
}

std::optional<PipelineRecord> LoadPipeline(ApiContext& ctx, const ProjectRecord& project,
                                           HttpResponse* error) {
  auto id = ParseId(ctx.params["pipeline_id"]);
  if (!id) {
    *error = JsonError(404, "404 Pipeline Not Found");
    return std::nullopt;
  }
  auto pipeline = ctx.store->GetPipeline(*id);
  if (!pipeline.ok()) {
    *error = StoreError(pipeline.status());
    return std::nullopt;
  }
  if (!pipeline->has_value() || (*pipeline)->project_id != project.id) {
    *error = JsonError(404, "404 Pipeline Not Found");
    return std::nullopt;
  }
  return std::move(**pipeline);
}

namespace {

std::optional<JobRecord> LoadJobOf(ApiContext& ctx, const ProjectRecord& project,
                                   PipelineRecord* pipeline_out, HttpResponse* error) {
  auto id = ParseId(ctx.params["job_id"]);
  if (!id) {
    *error = JsonError(404, "404 Job Not Found");
    return std::nullopt;
  }
  auto job = ctx.store->GetJob(*id);
  if (!job.ok()) {
    *error = StoreError(job.status());
    return std::nullopt;
  }
  if (!job->has_value()) {
    *error = JsonError(404, "404 Job Not Found");
    return std::nullopt;
  }
  auto pipeline = ctx.store->GetPipeline((*job)->pipeline_id);
  if (!pipeline.ok()) {
    *error = StoreError(pipeline.status());
    return std::nullopt;
  }
  if (!pipeline->has_value() || (*pipeline)->project_id != project.id) {
    *error = JsonError(404, "404 Job Not Found");
    return std::nullopt;
  }
  *pipeline_out = std::move(**pipeline);
  return std::move(**job);
}

}  // namespace

std::optional<LoadedJob> LoadJob(ApiContext& ctx, HttpResponse* error) {
  auto project = LoadProject(ctx, error);
  if (!project) return std::nullopt;
  LoadedJob loaded;
  auto job = LoadJobOf(ctx, *project, &loaded.pipeline, error);
  if (!job) return std::nullopt;
  loaded.project = std::move(*project);
  loaded.job = std::move(*job);
  return loaded;
}

std::optional<PageRequest> ParsePage(const HttpRequest& req, HttpResponse* error) {
  PageRequest page;
  for (auto [key, target] : {std::pair<const char*, int*>{"page", &page.page},
                             std::pair<const char*, int*>{"per_page", &page.per_page}}) {
    auto text = req.Query(key);
    if (!text || text->empty()) continue;
    auto value = ParseId(*text);
    if (!value) {
      *error = JsonError(400, std::string("400 Bad request - ") + key + " is invalid");
      return std::nullopt;
    }
    *target = static_cast<int>(std::min<int64_t>(*value, 1 << 30));
  }
  page.per_page = std::clamp(page.per_page, 1, 100);
  return page;
}

void SetPaginationHeaders(const ApiContext& ctx, const PageRequest& page, int64_t total,
                          HttpResponse* response) {
  int64_t pages = std::max<int64_t>(1, (total + page.per_page - 1) / page.per_page);
  response->SetHeader("X-Total", std::to_string(total));
  response->SetHeader("X-Total-Pages", std::to_string(pages));
  response->SetHeader("X-Per-Page", std::to_string(page.per_page));
  response->SetHeader("X-Page", std::to_string(page.page));
  response->SetHeader("X-Next-Page", page.page < pages ? std::to_string(page.page + 1) : "");
  response->SetHeader("X-Prev-Page",
                      page.page > 1 ? std::to_string(std::min<int64_t>(page.page - 1, pages)) : "");
  // Link: the request's URL with page (and per_page) replaced.
  std::string query;
  for (const auto& [k, v] : ctx.req.query) {
    if (k == "page" || k == "per_page" || k == "private_token") continue;
    query += PercentEncode(k) + "=" + PercentEncode(v) + "&";
  }
  auto link = [&](int64_t p, const char* rel) {
    return "<" + ctx.base_url + ctx.req.path + "?" + query + "page=" + std::to_string(p) +
           "&per_page=" + std::to_string(page.per_page) + ">; rel=\"" + rel + "\"";
  };
  std::vector<std::string> links;
  if (page.page > 1) links.push_back(link(std::min<int64_t>(page.page - 1, pages), "prev"));
  if (page.page < pages) links.push_back(link(page.page + 1, "next"));
  links.push_back(link(1, "first"));
  links.push_back(link(pages, "last"));
  std::string header;
  for (const std::string& l : links) header += (header.empty() ? "" : ", ") + l;
  response->SetHeader("Link", header);
}

json JobJsonFor(ApiContext& ctx, const JobRecord& job, const PipelineRecord& pipeline,
                const ProjectRecord& project) {
  auto artifacts = ctx.store->ListArtifacts(job.id);
  json j = JobJson(job, pipeline, project,
                   artifacts.ok() ? *artifacts : std::vector<ArtifactRecord>{}, ctx.base_url);
  if (auto coverage = ctx.store->ListJobCoverage(pipeline.id); coverage.ok()) {
    for (const JobCoverage& c : *coverage) {
      if (c.job_id == job.id) j["coverage"] = std::strtod(c.coverage.c_str(), nullptr);
    }
  }
  // The remote runner that took it (docs/runners.md): stored with the job;
  // online as the hub sees it now.
  if (job.runner.id != 0 && ctx.runners != nullptr && ctx.runners->Online(job.runner.id)) {
    j["runner"]["online"] = true;
    j["runner"]["status"] = "online";
  }
  // GitLab's stuck job: pending, and no connected runner can take it.
  std::optional<std::string> stuck;
  if (job.status == CiStatus::kPending && ctx.runners != nullptr) {
    stuck = ctx.runners->StuckReason(job.id);
  }
  j["stuck"] = stuck.has_value();
  j["stuck_reason"] = stuck ? json(*stuck) : json(nullptr);
  return j;
}

std::optional<std::string> PipelineCoverage(ApiContext& ctx, int64_t pipeline_id) {
  auto coverage = ctx.store->ListJobCoverage(pipeline_id);
  if (!coverage.ok()) return std::nullopt;
  double sum = 0;
  int count = 0;
  for (const JobCoverage& c : *coverage) {
    if (c.retried) continue;
    sum += std::strtod(c.coverage.c_str(), nullptr);
    ++count;
  }
  if (count == 0) return std::nullopt;
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", sum / count);
  return std::string(text);
}

}  // namespace slipway
