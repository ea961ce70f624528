// Routing, authentication, caching and the endpoints outside /api/v4
// (/healthz, /metrics, the web UI).
#include "server/api.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "server/api_handlers.h"
#include "server/web_assets.h"
#include "store/replica_notices.h"
#include "util/logger.h"
#include "util/same_bytes.h"

namespace slipway {

namespace {

// kNone: no token needed. kRunner: a runner token and no other (api_runners.cc).
enum class Role { kNone, kRead, kRun, kAdmin, kRunner };

struct RouteEntry {
  const char* method;
  std::vector<std::string_view> pattern;  // ":name" captures a segment, "*path" the rest.
  Role role;
  HttpResponse (*handler)(ApiContext&);
};

const std::vector<RouteEntry>& ApiRoutes() {
  static const std::vector<RouteEntry> routes = {
      {"GET", {"user"}, Role::kRead, GetUser},
      {"GET", {"runners"}, Role::kAdmin, ListRunners},
      {"GET", {"runners", "connect"}, Role::kRunner, ConnectRunner},
      {"POST", {"runners", "slots"}, Role::kRunner, SetRunnerSlots},
      {"POST", {"runners", "jobs", ":job_id", "heartbeat"}, Role::kRunner, RunnerHeartbeat},
      {"POST", {"runners", "jobs", ":job_id", "trace"}, Role::kRunner, RunnerAppendTrace},
      {"PUT", {"runners", "jobs", ":job_id"}, Role::kRunner, RunnerFinishJob},
      {"GET", {"runners", "jobs", ":job_id", "repository"}, Role::kRunner, RunnerJobRepository},
      {"PUT", {"runners", "jobs", ":job_id", "artifacts"}, Role::kRunner, RunnerUploadArtifacts},
      {"GET",
       {"runners", "jobs", ":job_id", "artifacts", ":from_job_id"},
       Role::kRunner,
       RunnerDownloadArtifacts},
      {"GET", {"version"}, Role::kRead, GetVersion},
      {"GET", {"projects"}, Role::kRead, ListProjects},
      {"POST", {"projects"}, Role::kAdmin, CreateProject},
      {"GET", {"projects", ":id"}, Role::kRead, GetProject},
      {"PUT", {"projects", ":id"}, Role::kAdmin, UpdateProject},
      {"DELETE", {"projects", ":id"}, Role::kAdmin, DeleteProject},
      {"GET", {"projects", ":id", "resource_groups"}, Role::kRead, ListResourceGroups},
      {"GET", {"projects", ":id", "resource_groups", ":key"}, Role::kRead, GetResourceGroup},
      {"PUT", {"projects", ":id", "resource_groups", ":key"}, Role::kAdmin, UpdateResourceGroup},
      {"GET",
       {"projects", ":id", "resource_groups", ":key", "upcoming_jobs"},
       Role::kRead,
       ListUpcomingResourceJobs},
      {"GET", {"projects", ":id", "pipelines"}, Role::kRead, ListPipelines},
      {"POST", {"projects", ":id", "pipeline"}, Role::kRun, CreatePipeline},
      {"GET", {"projects", ":id", "pipelines", ":pipeline_id"}, Role::kRead, GetPipeline},
      {"DELETE", {"projects", ":id", "pipelines", ":pipeline_id"}, Role::kAdmin, DeletePipeline},
      {"POST",
       {"projects", ":id", "pipelines", ":pipeline_id", "cancel"},
       Role::kRun,
       CancelPipeline},
      {"POST",
       {"projects", ":id", "pipelines", ":pipeline_id", "retry"},
       Role::kRun,
       RetryPipeline},
      {"GET",
       {"projects", ":id", "pipelines", ":pipeline_id", "jobs"},
       Role::kRead,
       ListPipelineJobs},
      {"GET",
       {"projects", ":id", "pipelines", ":pipeline_id", "bridges"},
       Role::kRead,
       ListPipelineBridges},
      {"GET",
       {"projects", ":id", "pipelines", ":pipeline_id", "test_report"},
       Role::kRead,
       GetTestReport},
      {"GET",
       {"projects", ":id", "pipelines", ":pipeline_id", "test_report_summary"},
       Role::kRead,
       GetTestReportSummary},
      {"GET", {"projects", ":id", "jobs"}, Role::kRead, ListProjectJobs},
      {"GET", {"projects", ":id", "jobs", ":job_id"}, Role::kRead, GetJob},
      {"GET", {"projects", ":id", "jobs", ":job_id", "trace"}, Role::kRead, GetTrace},
      {"GET", {"projects", ":id", "jobs", ":job_id", "trace", "stream"}, Role::kRead, StreamTrace},
      {"POST", {"projects", ":id", "jobs", ":job_id", "retry"}, Role::kRun, RetryJob},
      {"POST", {"projects", ":id", "jobs", ":job_id", "cancel"}, Role::kRun, CancelJob},
      {"POST", {"projects", ":id", "jobs", ":job_id", "play"}, Role::kRun, PlayJob},
      // By ref name before by id: a ref may be called "artifacts".
      {"GET",
       {"projects", ":id", "jobs", "artifacts", ":ref_name", "download"},
       Role::kRead,
       GetRefArtifactsArchive},
      {"GET",
       {"projects", ":id", "jobs", "artifacts", ":ref_name", "raw", "*path"},
       Role::kRead,
       GetRefArtifactFile},
      {"GET",
       {"projects", ":id", "jobs", ":job_id", "artifacts"},
       Role::kRead,
       GetArtifactsArchive},
      {"GET",
       {"projects", ":id", "jobs", ":job_id", "artifacts_files"},
       Role::kRead,
       ListArtifactFiles},
      {"DELETE",
       {"projects", ":id", "jobs", ":job_id", "artifacts"},
       Role::kAdmin,
       DeleteArtifacts},
      {"POST",
       {"projects", ":id", "jobs", ":job_id", "artifacts", "keep"},
       Role::kRun,
       KeepArtifacts},
      {"GET",
       {"projects", ":id", "jobs", ":job_id", "artifacts", "*path"},
       Role::kRead,
       GetArtifactFile},
      {"GET", {"projects", ":id", "environments"}, Role::kRead, ListEnvironments},
      {"GET", {"projects", ":id", "environments", ":environment_id"}, Role::kRead, GetEnvironment},
      {"POST", {"projects", ":id", "environments"}, Role::kRun, CreateEnvironment},
      {"PUT",
       {"projects", ":id", "environments", ":environment_id"},
       Role::kRun,
       UpdateEnvironment},
      {"DELETE",
       {"projects", ":id", "environments", ":environment_id"},
       Role::kRun,
       DeleteEnvironment},
      {"POST",
       {"projects", ":id", "environments", ":environment_id", "stop"},
       Role::kRun,
       StopEnvironment},
      {"GET", {"projects", ":id", "deployments"}, Role::kRead, ListDeployments},
      {"POST", {"projects", ":id", "deployments"}, Role::kRun, CreateDeployment},
      {"GET", {"projects", ":id", "deployments", ":deployment_id"}, Role::kRead, GetDeployment},
      {"PUT", {"projects", ":id", "deployments", ":deployment_id"}, Role::kRun, UpdateDeployment},
      {"POST",
       {"projects", ":id", "deployments", ":deployment_id", "rollback"},
       Role::kRun,
       RollbackDeployment},
      {"POST",
       {"projects", ":id", "deployments", ":deployment_id", "approval"},
       Role::kRun,
       ApproveDeployment},
      {"GET", {"projects", ":id", "freeze_periods"}, Role::kRead, ListFreezePeriods},
      {"POST", {"projects", ":id", "freeze_periods"}, Role::kAdmin, CreateFreezePeriod},
      {"GET",
       {"projects", ":id", "freeze_periods", ":freeze_period_id"},
       Role::kRead,
       GetFreezePeriod},
      {"PUT",
       {"projects", ":id", "freeze_periods", ":freeze_period_id"},
       Role::kAdmin,
       UpdateFreezePeriod},
      {"DELETE",
       {"projects", ":id", "freeze_periods", ":freeze_period_id"},
       Role::kAdmin,
       DeleteFreezePeriod},
      {"GET",
       {"projects", ":id", "protected_environments"},
       Role::kRead,
       ListProtectedEnvironments},
      {"POST", {"projects", ":id", "protected_environments"}, Role::kAdmin, ProtectEnvironment},
      {"GET",
       {"projects", ":id", "protected_environments", ":name"},
       Role::kRead,
       GetProtectedEnvironment},
      {"DELETE",
       {"projects", ":id", "protected_environments", ":name"},
       Role::kAdmin,
       UnprotectEnvironment},
      {"GET", {"projects", ":id", "issues"}, Role::kRead, ListIncidents},
      {"POST", {"projects", ":id", "issues"}, Role::kRun, CreateIncident},
      {"GET", {"projects", ":id", "issues", ":issue_iid"}, Role::kRead, GetIncident},
      {"PUT", {"projects", ":id", "issues", ":issue_iid"}, Role::kRun, UpdateIncident},
      {"POST", {"projects", ":id", "alert_token"}, Role::kAdmin, CreateAlertToken},
      {"GET", {"projects", ":id", "dora", "metrics"}, Role::kRead, GetDoraMetrics},
      {"GET",
       {"projects", ":id", "pipelines", ":pipeline_id", "variables"},
       Role::kRun,
       ListPipelineVariables},
      {"GET", {"projects", ":id", "pipeline_schedules"}, Role::kRead, ListSchedules},
      {"POST", {"projects", ":id", "pipeline_schedules"}, Role::kRun, CreateSchedule},
      {"GET", {"projects", ":id", "pipeline_schedules", ":schedule_id"}, Role::kRead, GetSchedule},
      {"PUT",
       {"projects", ":id", "pipeline_schedules", ":schedule_id"},
       Role::kRun,
       UpdateSchedule},
      {"DELETE",
       {"projects", ":id", "pipeline_schedules", ":schedule_id"},
       Role::kRun,
       DeleteSchedule},
      {"POST",
       {"projects", ":id", "pipeline_schedules", ":schedule_id", "play"},
       Role::kRun,
       PlaySchedule},
      {"GET",
       {"projects", ":id", "pipeline_schedules", ":schedule_id", "pipelines"},
       Role::kRead,
       ListSchedulePipelines},
      {"POST",
       {"projects", ":id", "pipeline_schedules", ":schedule_id", "variables"},
       Role::kRun,
       SetScheduleVariable},
      {"PUT",
       {"projects", ":id", "pipeline_schedules", ":schedule_id", "variables", ":key"},
       Role::kRun,
       SetScheduleVariable},
      {"DELETE",
       {"projects", ":id", "pipeline_schedules", ":schedule_id", "variables", ":key"},
       Role::kRun,
       DeleteScheduleVariable},
      {"GET", {"projects", ":id", "triggers"}, Role::kRun, ListTriggers},
      {"POST", {"projects", ":id", "triggers"}, Role::kRun, CreateTrigger},
      {"GET", {"projects", ":id", "triggers", ":trigger_id"}, Role::kRun, GetTrigger},
      {"PUT", {"projects", ":id", "triggers", ":trigger_id"}, Role::kRun, UpdateTrigger},
      {"DELETE", {"projects", ":id", "triggers", ":trigger_id"}, Role::kRun, DeleteTrigger},
      // Authenticated by a trigger token in the request, not an API token.
      {"POST", {"projects", ":id", "trigger", "pipeline"}, Role::kNone, TriggerPipeline},
      {"GET", {"projects", ":id", "ci", "lint"}, Role::kRead, GetProjectLint},
      {"POST", {"projects", ":id", "ci", "lint"}, Role::kRead, PostProjectLint},
      {"GET", {"projects", ":id", "repository", "branches"}, Role::kRead, ListBranches},
      {"GET", {"projects", ":id", "repository", "branches", ":branch"}, Role::kRead, GetBranch},
      {"GET", {"projects", ":id", "repository", "commits"}, Role::kRead, ListCommits},
      {"GET", {"projects", ":id", "repository", "commits", ":sha"}, Role::kRead, GetCommit},
      {"GET",
       {"projects", ":id", "repository", "files", ":file_path"},
       Role::kRead,
       GetRepositoryFile},
      {"GET",
       {"projects", ":id", "repository", "files", ":file_path", "raw"},
       Role::kRead,
       GetRawRepositoryFile},
      {"POST", {"projects", ":id", "statuses", ":sha"}, Role::kRun, CreateCommitStatus},
      {"GET", {"projects", ":id", "statuses", ":sha"}, Role::kRead, ListCommitStatuses},
      {"GET",
       {"projects", ":id", "repository", "commits", ":sha", "statuses"},
       Role::kRead,
       ListCommitStatuses},
      {"GET", {"projects", ":id", "hooks"}, Role::kAdmin, ListProjectHooks},
      {"POST", {"projects", ":id", "hooks"}, Role::kAdmin, CreateProjectHook},
      {"GET", {"projects", ":id", "hooks", ":hook_id"}, Role::kAdmin, GetProjectHook},
      {"DELETE", {"projects", ":id", "hooks", ":hook_id"}, Role::kAdmin, DeleteProjectHook},
      {"GET", {"projects", ":id", "variables"}, Role::kAdmin, ListProjectVariables},
      {"POST", {"projects", ":id", "variables"}, Role::kAdmin, CreateProjectVariable},
      {"GET", {"projects", ":id", "variables", ":key"}, Role::kAdmin, GetProjectVariable},
      {"PUT", {"projects", ":id", "variables", ":key"}, Role::kAdmin, UpdateProjectVariable},
      {"DELETE", {"projects", ":id", "variables", ":key"}, Role::kAdmin, DeleteProjectVariable},
  };
  return routes;
}

const std::vector<RouteEntry>& HookRoutes() {
  static const std::vector<RouteEntry> routes = {
      {"POST", {":forge", ":id"}, Role::kNone, HandleWebhook},
  };
  return routes;
}

bool Matches(const RouteEntry& route, const std::vector<std::string>& segments,
             std::map<std::string, std::string>* params) {
  params->clear();
  size_t i = 0;
  for (; i < route.pattern.size(); ++i) {
    std::string_view p = route.pattern[i];
    if (p.front() == '*') {
      if (i >= segments.size()) return false;
      std::string rest;
      for (size_t j = i; j < segments.size(); ++j) rest += (j > i ? "/" : "") + segments[j];
      (*params)[std::string(p.substr(1))] = rest;
      return true;
    }
    if (i >= segments.size()) return false;
    if (p.front() == ':') {
      if (segments[i].empty()) return false;
      (*params)[std::string(p.substr(1))] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  return i == segments.size();
}

// Splits a path into percent-decoded segments ("/a/b%2Fc/" → a, b/c).
std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(PercentDecode(path.substr(start, slash - start), false));
    start = slash + 1;
  }
  return out;
}

bool Allowed(Role needed, TokenRole have) {
  // A runner token takes and reports jobs and does nothing else; only a
  // runner token does that.
  if ((needed == Role::kRunner) != (have == TokenRole::kRunner)) return false;
  switch (needed) {
    case Role::kNone:
    case Role::kRead:
    case Role::kRunner:
      return true;
    case Role::kRun:
      return have == TokenRole::kRun || have == TokenRole::kAdmin;
    case Role::kAdmin:
      return have == TokenRole::kAdmin;
  }
  return false;
}

bool IsRead(const std::string& method) { return method == "GET" || method == "HEAD"; }

std::string ETagOf(std::string_view body) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "W/\"%016zx\"", std::hash<std::string_view>()(body));
  return buf;
}

// Answers 304 when If-None-Match names the response's ETag.
HttpResponse WithETag(const HttpRequest& req, HttpResponse response) {
  const std::string* etag = response.FindHeader("ETag");
  if (etag != nullptr && req.Header("if-none-match") == *etag) {
    HttpResponse not_modified;
    not_modified.status = 304;
    not_modified.headers = {{"ETag", *etag}};
    return not_modified;
  }
  return response;
}

HttpResponse ServeStatic(const HttpRequest& req) {
  if (!IsRead(req.method)) return JsonError(405, "405 Method Not Allowed");
  std::vector<std::string> segments = Segments(req.path);
  std::string path;
  for (const std::string& s : segments) path += (path.empty() ? "" : "/") + s;
  const WebAsset* asset = FindWebAsset(path.empty() ? "index.html" : path);
  // Paths without an extension are the UI's own routes: index.html handles them.
  if (asset == nullptr && path.find('.') == std::string::npos) asset = FindWebAsset("index.html");
  if (asset == nullptr) return JsonError(404, "404 Not Found");
  HttpResponse response;
  response.headers = {{"Content-Type", std::string(asset->content_type)},
                      {"ETag", std::string(asset->etag)},
                      {"Cache-Control", "no-cache"}};
  response.body = std::string(asset->data);
  return WithETag(req, std::move(response));
}

// GitLab's web URLs (the web_url fields: /group/app, /group/app/-/pipelines/7,
// /group/app/-/jobs/9) lead to the UI's hash routes. nullopt if the path
// names no project.
std::optional<HttpResponse> RedirectWebUrl(Store* store, const HttpRequest& req) {
  if (!IsRead(req.method)) return std::nullopt;
  std::vector<std::string> segments = Segments(req.path);
  auto dash = std::find(segments.begin(), segments.end(), "-");
  std::string path;
  for (auto it = segments.begin(); it != dash; ++it) path += (path.empty() ? "" : "/") + *it;
  if (path.empty()) return std::nullopt;
  auto project = store->GetProjectByPath(path);
  if (!project.ok() || !project->has_value()) return std::nullopt;
  std::string hash = "/#/projects/" + std::to_string((*project)->id);
  size_t rest = static_cast<size_t>(segments.end() - dash);
  if (rest == 3 && (dash[1] == "pipelines" || dash[1] == "jobs") && ParseId(dash[2])) {
    hash += "/" + dash[1] + "/" + dash[2];
  } else if (rest != 0) {
    return std::nullopt;
  }
  HttpResponse response;
  response.status = 302;
  response.headers = {{"Location", hash}};
  return response;
}

// The project path of GitLab's alert notification URLs,
// /<path>/prometheus/alerts/notify.json and /<path>/alerts/notify.json.
std::optional<std::string> AlertProjectPath(std::string_view path) {
  for (std::string_view suffix : {"/prometheus/alerts/notify.json", "/alerts/notify.json"}) {
    if (path.size() > suffix.size() + 1 && path.ends_with(suffix)) {
      std::vector<std::string> segments = Segments(path.substr(0, path.size() - suffix.size()));
      std::string project;
      for (const std::string& s : segments) project += (project.empty() ? "" : "/") + s;
      if (!project.empty()) return project;
    }
  }
  return std::nullopt;
}

std::string CacheKey(const HttpRequest& req) {
  std::string key =
      req.Header("host") + "\n" + req.Header("x-forwarded-proto") + "\n" + req.path + "?";
  for (const auto& [k, v] : req.query) {
    if (k != "private_token") key += k + "=" + v + "&";
  }
  return key;
}

}  // namespace

std::vector<Api::RouteSummary> Api::ApiRouteSummaries() {
  std::vector<RouteSummary> out;
  for (const RouteEntry& route : ApiRoutes()) {
    RouteSummary summary;
    summary.method = route.method;
    summary.path = "/api/v4";
    for (std::string_view segment : route.pattern) summary.path += "/" + std::string(segment);
    summary.runner_only = route.role == Role::kRunner;
    summary.open = route.role == Role::kNone;
    out.push_back(std::move(summary));
  }
  return out;
}

size_t Api::cached_response_bytes() {
  std::lock_guard<std::mutex> lock(cache_mu_);
  return cache_bytes_;
}

Api::Api(Store* store, PipelineService* service, LogHub* hub, ApiOptions options)
    : store_(store), service_(service), hub_(hub), options_(std::move(options)), metrics_(Now()) {
  // A write through another replica empties this one's cache too (SQLite:
  // no other replica, no listening).
  if (ReplicaNotices* notices = NoticesOf(store_); notices != nullptr) {
    auto listening = notices->Listen([this](const ReplicaNotice& notice) {
      if (notice.kind == ReplicaNotice::Kind::kChanged ||
          notice.kind == ReplicaNotice::Kind::kMissed) {
        EmptyCache();
      }
    });
    if (listening.ok()) notices_ = std::move(*listening);
  }
}

Api::~Api() { notices_.reset(); }

void Api::EmptyCache() {
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_.clear();
  cache_bytes_ = 0;
}

int64_t Api::Now() const {
  return UnixMillis((options_.clock != nullptr ? options_.clock : MachineClock())->WallNow());
}

bool Api::IsBlocking(const HttpRequest& request) {
  if (!IsRead(request.method)) return true;
  std::string_view path = request.path;
  // Whole traces can be large, archives are zipped, metrics may scan the store.
  return path == "/metrics" || path.ends_with("/artifacts") || path.ends_with("/download") ||
         path.ends_with("/trace") || path.ends_with("/test_report") ||
         path.ends_with("/test_report_summary") ||
         path.ends_with("/repository") ||            // A runner's bundle: git runs.
         path.starts_with("/api/v4/runners/jobs/");  // Artifacts archives.
}

std::optional<TokenRecord> Api::Authenticate(const HttpRequest& req) {
  std::string raw = req.Header("private-token");
  if (raw.empty()) {
    std::string auth = req.Header("authorization");
    if (auth.size() > 7 && strncasecmp(auth.c_str(), "Bearer ", 7) == 0) raw = auth.substr(7);
  }
  if (raw.empty()) raw = req.Query("private_token").value_or("");
  if (raw.empty()) return std::nullopt;
  int64_t now = Now();
  {
    std::lock_guard<std::mutex> lock(token_mu_);
    auto it = tokens_.find(raw);
    if (it != tokens_.end() && it->second.expires_ms > now) return it->second.token;
  }
  auto token = store_->LookupToken(raw);
  if (!token.ok() || !token->has_value()) return std::nullopt;
  std::lock_guard<std::mutex> lock(token_mu_);
  if (tokens_.size() >= 10000) tokens_.clear();
  tokens_[raw] = CachedToken{**token, now + options_.token_cache_ms};
  return **token;
}

HttpResponse Api::Handle(const HttpRequest& request) {
  ApiContext ctx{request};
  ctx.store = store_;
  ctx.service = service_;
  ctx.runners = options_.runners;
  ctx.metrics = &metrics_;
  ctx.max_trace_bytes = options_.max_trace_bytes;
  ctx.now_ms = Now();
  ctx.webhook_replay_window_ms = options_.webhook_replay_window_ms;
  std::string host = request.Header("host");
  // Links in answers (web_url …) use the scheme the client used: the
  // server's own, or the one a TLS-terminating proxy names.
  std::string scheme = request.Header("x-forwarded-proto");
  if (scheme != "https" && scheme != "http") scheme = options_.scheme;
  ctx.base_url = scheme + "://" + (host.empty() ? std::string("localhost") : host);
  HttpResponse response = Route(ctx);
  metrics_.CountRequest(response.status);
  return response;
}

HttpResponse Api::Route(ApiContext& ctx) {
  const HttpRequest& req = ctx.req;
  if (req.path == "/healthz") {
    if (!IsRead(req.method)) return JsonError(405, "405 Method Not Allowed");
    return TextResponse(200, "ok\n");
  }
  if (req.path == "/metrics") {
    if (!IsRead(req.method)) return JsonError(405, "405 Method Not Allowed");
    if (!options_.metrics_token.empty() &&
        !SameBytes(req.Header("authorization"), "Bearer " + options_.metrics_token)) {
      HttpResponse refused = JsonError(401, "401 Unauthorized");
      refused.headers.push_back({"WWW-Authenticate", "Bearer realm=\"slipway metrics\""});
      return refused;
    }
    return TextResponse(200, metrics_.Render(store_, service_, hub_, Now()),
                        "text/plain; version=0.0.4; charset=utf-8");
  }
  std::vector<std::string> segments = Segments(req.path);
  const std::vector<RouteEntry>* routes = nullptr;
  bool api = segments.size() >= 2 && segments[0] == "api" && segments[1] == "v4";
  if (api) {
    routes = &ApiRoutes();
    segments.erase(segments.begin(), segments.begin() + 2);
  } else if (!segments.empty() && segments[0] == "hooks") {
    routes = &HookRoutes();
    segments.erase(segments.begin());
  } else if (auto badge = BadgePath(req.path)) {
    // No API token: docs/api.md, "Pipeline badge".
    if (!IsRead(req.method)) return JsonError(405, "405 Method Not Allowed");
    ctx.params["id"] = badge->first;
    ctx.params["ref"] = badge->second;
    return HandleBadge(ctx);
  } else if (auto project = AlertProjectPath(req.path)) {
    // Alertmanager's webhook at GitLab's URL; the project's alert token
    // authenticates it (api_alerts.cc).
    if (req.method != "POST") return JsonError(405, "405 Method Not Allowed");
    ctx.params["id"] = *project;
    return HandleAlertNotify(ctx);
  } else {
    if (auto redirect = RedirectWebUrl(store_, req)) return std::move(*redirect);
    return ServeStatic(req);
  }
  // An API path that a route opens to requests without an API token
  // (Role::kNone: they carry their own credential) is not authenticated.
  bool open = false;
  for (const RouteEntry& route : *routes) {
    open = open || (api && route.role == Role::kNone && Matches(route, segments, &ctx.params));
  }
  if (api && !open) {
    ctx.token = Authenticate(req);
    if (!ctx.token) {
      if (segments.size() >= 1 && segments[0] == "runners") {
        // A runner with an unknown or revoked token: an operator should hear of it.
        LogLine(LogLevel::kWarn, "runner_refused")
            .Str("method", req.method)
            .Str("path", req.path)
            .Str("reason", "unknown or revoked token");
      }
      return JsonError(401, "401 Unauthorized");
    }
    if (ctx.token->role == TokenRole::kRunner && options_.runners != nullptr) {
      options_.runners->Contacted(ctx.token->id);
    }
  }
  std::string method = req.method == "HEAD" ? "GET" : req.method;
  const RouteEntry* found = nullptr;
  std::string allow;
  for (const RouteEntry& route : *routes) {
    if (!Matches(route, segments, &ctx.params)) continue;
    allow += (allow.empty() ? "" : ", ") + std::string(route.method);
    if (method == route.method) {
      found = &route;
      break;
    }
  }
  if (found == nullptr) {
    if (allow.empty()) return JsonError(404, "404 Not Found");
    HttpResponse response = JsonError(405, "405 Method Not Allowed");
    response.SetHeader("Allow", allow);
    return response;
  }
  Matches(*found, segments, &ctx.params);
  if (api && found->role != Role::kNone) {
    if (!ctx.token) return JsonError(401, "401 Unauthorized");
    if (!Allowed(found->role, ctx.token->role)) return JsonError(403, "403 Forbidden");
  }

  if (method == "GET" && api) {
    std::string key = CacheKey(req);
    {
      std::lock_guard<std::mutex> lock(cache_mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) return WithETag(req, *it->second);
    }
    HttpResponse response = found->handler(ctx);
    if (response.status == 200 && !response.stream && response.file_path.empty()) {
      response.SetHeader("ETag", ETagOf(response.body));
      size_t size = response.body.size();
      if (ctx.cacheable && size <= options_.max_cached_body_bytes) {
        std::lock_guard<std::mutex> lock(cache_mu_);
        if (cache_.size() >= 10000 || cache_bytes_ + size > options_.response_cache_bytes) {
          cache_.clear();
          cache_bytes_ = 0;
        }
        auto [it, inserted] = cache_.try_emplace(key, nullptr);
        if (!inserted) cache_bytes_ -= it->second->body.size();
        it->second = std::make_shared<const HttpResponse>(response);
        cache_bytes_ += size;
      }
    }
    return WithETag(req, std::move(response));
  }
  HttpResponse response = found->handler(ctx);
  // A runner's reports (several a second per job) change nothing a cached
  // answer says: only finished things are cached.
  if (response.status < 400 && found->role != Role::kRunner) {
    // A write may change what a cached answer says (a retried job, a deleted pipeline).
    EmptyCache();
    if (ReplicaNotices* notices = NoticesOf(store_); notices != nullptr) {
      Status told = notices->Notify({ReplicaNotice::Kind::kChanged, 0});
      if (!told.ok()) LogLine(LogLevel::kError, "notice_error").Str("error", told.message());
    }
  }
  return response;
}

}  // namespace slipway
