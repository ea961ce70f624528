#include "server/forge_status.h"

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "util/logger.h"
#include "util/percent_encode.h"

namespace slipway {
namespace {

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool IsOwnerRepo(const std::string& s) {
  size_t slash = s.find('/');
  return slash != std::string::npos && slash > 0 && slash + 1 < s.size() &&
         s.find('/', slash + 1) == std::string::npos;
}

// owner/repo with each part percent-encoded (a name never adds a path).
std::string RepoPath(const std::string& owner_repo) {
  size_t slash = owner_repo.find('/');
  return PercentEncode(owner_repo.substr(0, slash)) + "/" +
         PercentEncode(owner_repo.substr(slash + 1));
}

std::string Description(CiStatus status) {
  switch (status) {
    case CiStatus::kSuccess:
      return "The pipeline passed";
    case CiStatus::kFailed:
      return "The pipeline failed";
    case CiStatus::kCanceled:
      return "The pipeline was canceled";
    case CiStatus::kSkipped:
      return "The pipeline was skipped";
    case CiStatus::kRunning:
      return "The pipeline is running";
    default:
      return "The pipeline is pending";
  }
}

}  // namespace

std::string ForgeDisplayName(const std::string& kind) {
  if (kind == "gitlab") return "GitLab";
  if (kind == "github") return "GitHub";
  if (kind == "gitea") return "Gitea";
  return kind;
}

Status CheckForgeSettings(ProjectForgeSettings* settings) {
  const std::string& kind = settings->kind;
  if (kind != "gitlab" && kind != "github" && kind != "gitea") {
    return Status::Error("--forge " + kind + ": expected gitlab, github or gitea");
  }
  if (settings->api_url.empty() && kind == "github") settings->api_url = "https://api.github.com";
  if (settings->api_url.empty()) {
    return Status::Error(
        "--forge " + kind + " needs --forge-url (the API's base URL, e.g. " +
        (kind == "gitlab" ? "https://gitlab.example/api/v4" : "https://gitea.example/api/v1") +
        ")");
  }
  HttpUrl parsed;
  if (!ParseHttpUrl(settings->api_url, &parsed)) {
    return Status::Error("--forge-url: not an http(s) URL");
  }
  settings->api_url = TrimSlash(settings->api_url);
  if (settings->forge_project.empty()) {
    return Status::Error("--forge " + kind + " needs --forge-project (" +
                         (kind == "gitlab" ? "the project's id or path" : "owner/repo") + ")");
  }
  if (kind != "gitlab" && !IsOwnerRepo(settings->forge_project)) {
    return Status::Error("--forge-project " + settings->forge_project + ": expected owner/repo");
  }
  if (settings->token.empty()) {
    return Status::Error("--forge " + kind +
                         " needs a token (--forge-token-env VARIABLE names the environment "
                         "variable that holds it)");
  }
  return Status::Ok();
}

std::string ForgeState(const std::string& kind, CiStatus status) {
  bool gitlab = kind == "gitlab";
  switch (status) {
    case CiStatus::kRunning:
      return gitlab ? "running" : "pending";
    case CiStatus::kSuccess:
      return "success";
    case CiStatus::kFailed:
      return gitlab ? "failed" : "failure";
    case CiStatus::kCanceled:
      return gitlab ? "canceled" : "error";
    case CiStatus::kSkipped:
      return gitlab ? "skipped" : "error";
    default:
      return "pending";
  }
}

std::string ForgeStatusContext(const PipelineRecord& pipeline) {
  return "slipway/" + (pipeline.source.empty() ? std::string("push") : pipeline.source);
}

HttpFetchRequest ForgeStatusRequest(const ProjectForgeSettings& forge,
                                    const PipelineRecord& pipeline, const std::string& target_url) {
  HttpFetchRequest request;
  request.method = "POST";
  nlohmann::json body = {{"state", ForgeState(forge.kind, pipeline.status)},
                         {"target_url", target_url},
                         {"description", Description(pipeline.status)}};
  std::string api = TrimSlash(forge.api_url);
  if (forge.kind == "gitlab") {
    request.url =
        api + "/projects/" + PercentEncode(forge.forge_project) + "/statuses/" + pipeline.sha;
    request.headers.push_back({"PRIVATE-TOKEN", forge.token});
    body["ref"] = pipeline.ref;
    body["name"] = ForgeStatusContext(pipeline);
  } else {
    request.url = api + "/repos/" + RepoPath(forge.forge_project) + "/statuses/" + pipeline.sha;
    if (forge.kind == "github") {
      request.headers.push_back({"Authorization", "Bearer " + forge.token});
      request.headers.push_back({"Accept", "application/vnd.github+json"});
      request.headers.push_back({"X-GitHub-Api-Version", "2022-11-28"});
    } else {
      request.headers.push_back({"Authorization", "token " + forge.token});
      request.headers.push_back({"Accept", "application/json"});
    }
    body["context"] = ForgeStatusContext(pipeline);
  }
  request.headers.push_back({"Content-Type", "application/json"});
  request.headers.push_back({"User-Agent", "slipway"});
  request.body = body.dump();
  return request;
}

ForgeStatusPublisher::ForgeStatusPublisher(Store* store, ForgeStatusOptions options,
                                           int64_t start_ms)
    : store_(store),
      options_(std::move(options)),
      scanned_to_ms_(start_ms),
      claims_(store, "commit_status", options_.claims, options_.clock),
      sender_(options_.retry),
      scanner_(options_.scan_interval, ScanTick("commit statuses", options_.clock,
                                                [this](int64_t now) { return Scan(now); })) {}

ForgeStatusPublisher::~ForgeStatusPublisher() = default;

void ForgeStatusPublisher::Post(const ProjectRecord& project, const ProjectForgeSettings& forge,
                                const PipelineRecord& pipeline, const DeliveryClaim& claim) {
  RetryingSender::Request request;
  request.key =
      std::to_string(project.id) + ":" + pipeline.sha + ":" + ForgeStatusContext(pipeline);
  request.http = ForgeStatusRequest(forge, pipeline,
                                    options_.base_url + "/" + project.path_with_namespace +
                                        "/-/pipelines/" + std::to_string(pipeline.id));
  ForgeStatusResult result;
  result.pipeline_id = pipeline.id;
  result.forge = forge.kind;
  result.state = ForgeState(result.forge, pipeline.status);
  Store* store = store_;
  request.done = [store, result, finished = claims_.Completion(claim, 1, request.key)](
                     bool ok, const std::string& error) mutable {
    result.ok = ok;
    result.error = error;
    if (Status s = store->RecordForgeStatus(result); !s.ok()) {
      LogLine(LogLevel::kError, "commit_status_error")
          .Int("pipeline_id", result.pipeline_id)
          .Str("error", s.message());
    }
    finished();
  };
  sender_.Send(std::move(request));
}

Status ForgeStatusPublisher::Resend(const DeliveryClaim& claim) {
  std::optional<CiStatus> status = ParseCiStatus(claim.state);
  int64_t id = std::atoll(claim.subject.c_str() + claim.subject.find(':') + 1);
  auto pipeline = store_->GetPipeline(id);
  if (!pipeline.ok()) return pipeline.status();
  auto project = store_->GetProject(claim.project_id);
  if (!project.ok()) return project.status();
  auto forge = store_->GetProjectForge(claim.project_id);
  if (!forge.ok()) return forge.status();
  if (!status || !*pipeline || !*project || !*forge) {
    claims_.Completion(claim, 0);  // Gone since: nothing to send.
    return Status::Ok();
  }
  PipelineRecord p = **pipeline;
  p.status = *status;
  Post(**project, **forge, p, claim);
  return Status::Ok();
}

Status ForgeStatusPublisher::Scan(int64_t now_ms) {
  auto projects = store_->ListProjects();
  if (!projects.ok()) return projects.status();
  // A second of overlap with the previous scan; queued_ keeps each state
  // queued once.
  const int64_t since = scanned_to_ms_ - 1000;
  for (const ProjectRecord& project : *projects) {
    StatusOr<std::optional<ProjectForgeSettings>> forge = store_->GetProjectForge(project.id);
    if (!forge.ok()) return forge.status();
    if (!*forge) continue;
    PipelineFilter filter;
    filter.project_id = project.id;
    filter.updated_after = since;
    filter.order_by = "updated_at";
    filter.sort = "asc";
    filter.per_page = 100;
    for (filter.page = 1;; ++filter.page) {
      auto page = store_->ListPipelines(filter);
      if (!page.ok()) return page.status();
      for (const PipelineRecord& p : page->items) {
        auto queued = queued_.find(p.id);
        if (queued != queued_.end() && queued->second.first == p.status) continue;
        DeliveryClaim claim;
        claim.subject = "pipeline:" + std::to_string(p.id);
        claim.state = CiStatusName(p.status);
        claim.version = p.updated_at;
        claim.project_id = project.id;
        StatusOr<bool> mine = claims_.Claim(claim, now_ms);
        if (!mine.ok()) return mine.status();
        queued_[p.id] = {p.status, p.updated_at};
        if (*mine) Post(project, **forge, p, claim);
      }
      if (static_cast<int64_t>(filter.page) * filter.per_page >= page->total) break;
    }
  }
  for (auto it = queued_.begin(); it != queued_.end();) {
    it = it->second.second < since ? queued_.erase(it) : std::next(it);
  }
  scanned_to_ms_ = now_ms;
  auto left = claims_.Tick(now_ms);
  if (!left.ok()) return left.status();
  for (const DeliveryClaim& claim : *left) {
    if (Status s = Resend(claim); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace slipway
