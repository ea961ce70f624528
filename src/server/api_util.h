// Internal to the API: one request's state (ApiContext) and the helpers the
// handlers of every endpoint group share: lookups with GitLab's 404s, JSON
// answers and pagination headers (request parameters are in
// request_params.h).
#ifndef SLIPWAY_SERVER_API_UTIL_H_
#define SLIPWAY_SERVER_API_UTIL_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/http_message.h"
#include "server/log_hub.h"
#include "server/metrics.h"
#include "server/pipeline_service.h"
#include "server/request_params.h"
#include "server/runner_hub.h"
#include "store/store.h"

namespace slipway {

struct ApiContext {
  explicit ApiContext(const HttpRequest& request) : req(request) {}

  const HttpRequest& req;
  Store* store = nullptr;
  PipelineService* service = nullptr;  // May be null: actions answer 503.
  RunnerHub* runners = nullptr;        // May be null: runner routes answer 503.
  Metrics* metrics = nullptr;
  int64_t max_trace_bytes = 0;
  int64_t now_ms = 0;  // When the request is handled (the Api's clock).
  int64_t webhook_replay_window_ms = 0;
  std::string base_url;              // "http://" + Host.
  std::optional<TokenRecord> token;  // Set for /api/v4 routes.
  std::map<std::string, std::string>
      params;  // Route captures (decoded): id, pipeline_id, job_id, path.
  // Set by a handler whose answer describes something finished that only the
  // API can change: the response may be cached until the next write.
  bool cacheable = false;
};

HttpResponse StoreError(const Status& status);  // 500 with the message.
// 400 "<name> does not have a valid value", as Grape words it.
HttpResponse BadParam(const std::string& name);
// GitLab's validation error: 400 {"message": {"<field>": ["<why>"]}}.
HttpResponse FieldError(const std::string& field, const std::string& why);
// updated_after / updated_before (ISO 8601) into *after / *before; false with
// *error set (BadParam) for a value that is not a time.
bool ParseUpdatedRange(const HttpRequest& req, std::optional<int64_t>* after,
                       std::optional<int64_t>* before, HttpResponse* error);
HttpResponse ServiceUnavailable();
HttpResponse JsonOk(int status, const nlohmann::json& body);

// The project named by ctx.params["id"] (numeric id or path_with_namespace);
// nullopt with *error set (404 or 500) otherwise.
std::optional<ProjectRecord> LoadProject(ApiContext& ctx, HttpResponse* error);
// The pipeline ctx.params[key] of project; 404 if it belongs to another.
std::optional<PipelineRecord> LoadPipeline(ApiContext& ctx, const ProjectRecord& project,
                                           HttpResponse* error);
// The job ctx.params["job_id"] of the project ctx.params["id"], with its
// pipeline; 404 if the job belongs to another project.
struct LoadedJob {
  ProjectRecord project;
  PipelineRecord pipeline;
  JobRecord job;
};
std::optional<LoadedJob> LoadJob(ApiContext& ctx, HttpResponse* error);
// A boolean parameter as Grape reads one: true/false, 1/0, yes/no in any case;
// nullopt for anything else.
std::optional<bool> ParseBool(std::string text);
// The request parameter key as ParseBool reads it; nullopt when absent, and
// *bad set when it is not a boolean.
std::optional<bool> ParamBool(const nlohmann::json& params, const std::string& key, bool* bad);
// Parses a positive integer; nullopt if text is not one.
std::optional<int64_t> ParseId(const std::string& text);

// The record of project whose id is ctx.params[param], read with get (a
// Store getter: StatusOr<std::optional<Record>>(int64_t)); nullopt with
// *error set otherwise: 404 with the message not_found (GitLab's words,
// e.g. "404 Trigger Not Found") for a bad id, a missing record or another
// project's, 500 for a store error.
template <typename Record, typename Get>
std::optional<Record> LoadOwned(ApiContext& ctx, const ProjectRecord& project,
                                const std::string& param, const std::string& not_found, Get get,
                                HttpResponse* error) {
  std::optional<int64_t> id = ParseId(ctx.params[param]);
  StatusOr<std::optional<Record>> found =
      id ? get(*id) : StatusOr<std::optional<Record>>(std::optional<Record>());
  if (!found.ok()) {
    *error = StoreError(found.status());
    return std::nullopt;
  }
  if (!*found || (*found)->project_id != project.id) {
    *error = JsonError(404, not_found);
    return std::nullopt;
  }
  return std::move(**found);
}

struct PageRequest {
  int page = 1;
  int per_page = 20;
};
// page and per_page as GitLab reads them (per_page clamped to 1..100).
std::optional<PageRequest> ParsePage(const HttpRequest& req, HttpResponse* error);
// X-Total, X-Total-Pages, X-Per-Page, X-Page, X-Next-Page, X-Prev-Page, Link.
void SetPaginationHeaders(const ApiContext& ctx, const PageRequest& page, int64_t total,
                          HttpResponse* response);

// The JSON of a job (looks up its artifacts index and its coverage).
nlohmann::json JobJsonFor(ApiContext& ctx, const JobRecord& job, const PipelineRecord& pipeline,
                          const ProjectRecord& project);
// GitLab's pipeline coverage: the average of its latest jobs' coverage,
// "%.2f" as GitLab writes it; none when no job has one.
std::optional<std::string> PipelineCoverage(ApiContext& ctx, int64_t pipeline_id);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_API_UTIL_H_
