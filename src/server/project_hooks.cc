#include "server/project_hooks.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <set>

#include "server/gitlab_json.h"

namespace slipway {
namespace {

using json = nlohmann::json;

json OptTime(const std::optional<int64_t>& t) { return t ? json(IsoTime(*t)) : json(nullptr); }
json OptSeconds(const std::optional<int64_t>& ms) {
  return ms ? json(static_cast<double>(*ms) / 1000.0) : json(nullptr);
}

// A random version 4 UUID, for X-Gitlab-Event-UUID and Idempotency-Key.
std::string NewUuid() {
  unsigned char b[16] = {};
  if (RAND_bytes(b, sizeof b) != 1) return "00000000-0000-4000-8000-000000000000";
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xf];
  }
  return out;
}

json HookUser() {
  return {{"id", 0},
          {"name", "slipway"},
          {"username", "slipway"},
          {"avatar_url", nullptr},
          {"email", "[REDACTED]"}};
}

json HookProject(const ProjectRecord& project, const std::string& base_url) {
  const std::string& path = project.path_with_namespace;
  size_t slash = path.rfind('/');
  return {{"id", project.id},
          {"name", project.name},
          {"description", nullptr},
          {"web_url", base_url + "/" + path},
          {"avatar_url", nullptr},
          {"git_ssh_url", nullptr},
          {"git_http_url", base_url + "/" + path + ".git"},
          {"namespace", slash == std::string::npos ? std::string() : path.substr(0, slash)},
          {"visibility_level", 0},
          {"path_with_namespace", path},
          {"default_branch", project.default_branch},
          {"ci_config_path", ".gitlab-ci.yml"}};
}

json HookCommit(const ProjectRecord& project, const PipelineRecord& p,
                const std::string& base_url) {
  return {{"id", p.sha},
          {"message", ""},
          {"title", ""},
          {"timestamp", IsoTime(p.created_at)},
          {"url", base_url + "/" + project.path_with_namespace + "/-/commit/" + p.sha},
          {"author", {{"name", ""}, {"email", ""}}}};
}

std::optional<int64_t> QueuedMs(const JobRecord& job) {
  if (!job.queued_at || !job.started_at) return std::nullopt;
  return *job.started_at - *job.queued_at;
}

json FailureReason(const JobRecord& job) {
  return job.failure_reason.empty() ? json(nullptr) : json(job.failure_reason);
}

}  // namespace

json PipelineHookPayload(const ProjectRecord& project, const PipelineRecord& p,
                         const std::vector<JobRecord>& jobs, const std::string& base_url) {
  std::vector<std::string> stages;
  std::set<std::string> seen;
  json builds = json::array();
  for (const JobRecord& job : jobs) {
    if (seen.insert(job.stage).second) stages.push_back(job.stage);
    builds.push_back({{"id", job.id},
                      {"stage", job.stage},
                      {"name", job.name},
                      {"status", CiStatusName(job.status)},
                      {"created_at", IsoTime(job.created_at)},
                      {"started_at", OptTime(job.started_at)},
                      {"finished_at", OptTime(job.finished_at)},
                      {"duration", OptSeconds(job.duration_ms)},
                      {"queued_duration", OptSeconds(QueuedMs(job))},
                      {"failure_reason", FailureReason(job)},
                      {"when", job.when},
                      {"manual", job.when == "manual"},
                      {"allow_failure", job.allow_failure},
                      {"user", HookUser()},
                      {"runner", nullptr},
                      {"artifacts_file", {{"filename", nullptr}, {"size", nullptr}}},
                      {"environment", nullptr}});
  }
  json merge_request = nullptr;
  if (p.merge_request) {
    merge_request = {{"id", p.merge_request->iid},
                     {"iid", p.merge_request->iid},
                     {"title", p.merge_request->title},
                     {"source_branch", p.merge_request->source_branch},
                     {"source_project_id", project.id},
                     {"target_branch", p.merge_request->target_branch},
                     {"target_project_id", project.id},
                     {"state", "opened"},
                     {"url", nullptr}};
  }
  return {{"object_kind", "pipeline"},
          {"object_attributes",
           {{"id", p.id},
            {"iid", p.iid},
            {"name", p.name.empty() ? json(nullptr) : json(p.name)},
            {"ref", p.ref},
            {"tag", p.tag},
            {"sha", p.sha},
            {"before_sha", p.before_sha.empty() ? std::string(40, '0') : p.before_sha},
            {"source", p.source},
            {"status", CiStatusName(p.status)},
            {"detailed_status", CiStatusName(p.status)},
            {"stages", stages},
            {"created_at", IsoTime(p.created_at)},
            {"finished_at", OptTime(p.finished_at)},
            {"duration", p.duration_ms ? json(*p.duration_ms / 1000) : json(nullptr)},
            {"queued_duration", nullptr},
            {"variables", json::array()},
            {"url", base_url + "/" + project.path_with_namespace + "/-/pipelines/" +
                        std::to_string(p.id)}}},
          {"merge_request", merge_request},
          {"user", HookUser()},
          {"project", HookProject(project, base_url)},
          {"commit", HookCommit(project, p, base_url)},
          {"source_pipeline", nullptr},
          {"builds", builds}};
}

json JobHookPayload(const ProjectRecord& project, const PipelineRecord& p, const JobRecord& job,
                    const std::string& base_url) {
  return {
      {"object_kind", "build"},
      {"ref", p.ref},
      {"tag", p.tag},
      {"before_sha", p.before_sha.empty() ? std::string(40, '0') : p.before_sha},
      {"sha", p.sha},
      {"retries_count", job.retry_count},
      {"build_id", job.id},
      {"build_name", job.name},
      {"build_stage", job.stage},
      {"build_status", CiStatusName(job.status)},
      {"build_created_at", IsoTime(job.created_at)},
      {"build_started_at", OptTime(job.started_at)},
      {"build_finished_at", OptTime(job.finished_at)},
      {"build_duration", OptSeconds(job.duration_ms)},
      {"build_queued_duration", OptSeconds(QueuedMs(job))},
      {"build_allow_failure", job.allow_failure},
      {"build_failure_reason", job.failure_reason.empty() ? "unknown_failure" : job.failure_reason},
      {"pipeline_id", p.id},
      {"project_id", project.id},
      {"project_name", project.name},
      {"user", HookUser()},
      {"commit",
       {{"id", p.id},
        {"name", p.name.empty() ? json(nullptr) : json(p.name)},
        {"sha", p.sha},
        {"message", ""},
        {"author_name", ""},
        {"author_email", ""},
        {"status", CiStatusName(p.status)},
        {"duration", p.duration_ms ? json(*p.duration_ms / 1000) : json(nullptr)},
        {"started_at", OptTime(p.started_at)},
        {"finished_at", OptTime(p.finished_at)}}},
      {"repository",
       {{"name", project.name},
        {"url", nullptr},
        {"description", nullptr},
        {"homepage", base_url + "/" + project.path_with_namespace},
        {"git_http_url", base_url + "/" + project.path_with_namespace + ".git"},
        {"git_ssh_url", nullptr},
        {"visibility_level", 0}}},
      {"project", HookProject(project, base_url)},
      {"runner", nullptr},
      {"environment", nullptr}};
}

HttpFetchRequest ProjectHookRequest(const ProjectHookRecord& hook, const std::string& event,
                                    const json& payload) {
  HttpFetchRequest request;
  request.url = hook.url;
  request.method = "POST";
  request.body = DumpJson(payload);
  std::string uuid = NewUuid();
  request.headers = {{"Content-Type", "application/json"},
                     {"User-Agent", "slipway"},
                     {"X-Gitlab-Event", event},
                     {"X-Gitlab-Event-UUID", uuid},
                     {"Idempotency-Key", uuid}};
  if (!hook.token.empty()) request.headers.push_back({"X-Gitlab-Token", hook.token});
  return request;
}

ProjectHookPublisher::ProjectHookPublisher(Store* store, ProjectHookOptions options,
                                           int64_t start_ms)
    : store_(store),
      options_(std::move(options)),
      scanned_to_ms_(start_ms),
      claims_(store, "project_hook", options_.claims, options_.clock),
      sender_(options_.retry),
      scanner_(options_.scan_interval, ScanTick("project hooks", options_.clock,
                                                [this](int64_t now) { return Scan(now); })) {}

ProjectHookPublisher::~ProjectHookPublisher() = default;

void ProjectHookPublisher::Queue(const std::vector<ProjectHookRecord>& hooks,
                                 const DeliveryClaim& claim, const json& payload) {
  const bool pipeline_event = claim.subject.starts_with("pipeline:");
  std::vector<const ProjectHookRecord*> to;
  for (const ProjectHookRecord& hook : hooks) {
    if (pipeline_event ? hook.pipeline_events : hook.job_events) to.push_back(&hook);
  }
  std::function<void()> finished = claims_.Completion(claim, static_cast<int>(to.size()));
  for (const ProjectHookRecord* hook : to) {
    RetryingSender::Request request;
    request.http =
        ProjectHookRequest(*hook, pipeline_event ? "Pipeline Hook" : "Job Hook", payload);
    request.done = [finished](bool, const std::string&) { finished(); };
    sender_.Send(std::move(request));
  }
}

Status ProjectHookPublisher::Announce(const ProjectRecord& project,
                                      const std::vector<ProjectHookRecord>& hooks,
                                      const std::string& subject, CiStatus status, int64_t version,
                                      const json& payload, int64_t now_ms) {
  DeliveryClaim claim;
  claim.subject = subject;
  claim.state = CiStatusName(status);
  claim.version = version;
  claim.project_id = project.id;
  claim.payload = DumpJson(payload);
  StatusOr<bool> mine = claims_.Claim(claim, now_ms);
  if (!mine.ok()) return mine.status();
  if (*mine) Queue(hooks, claim, payload);
  return Status::Ok();
}

Status ProjectHookPublisher::ScanProject(const ProjectRecord& project,
                                         const std::vector<ProjectHookRecord>& hooks, int64_t since,
                                         int64_t now_ms) {
  // The pipelines updated since the last scan, and the running ones (a
  // job's change does not always change its pipeline).
  std::map<int64_t, PipelineRecord> candidates;
  for (const char* scope : {"", "running", "pending"}) {
    PipelineFilter filter;
    filter.project_id = project.id;
    filter.scope = scope;
    if (*scope == '\0') filter.updated_after = since;
    filter.per_page = 100;
    for (filter.page = 1;; ++filter.page) {
      auto page = store_->ListPipelines(filter);
      if (!page.ok()) return page.status();
      for (const PipelineRecord& p : page->items) candidates[p.id] = p;
      if (static_cast<int64_t>(filter.page) * filter.per_page >= page->total) break;
    }
  }
  for (const auto& [id, pipeline] : candidates) {
    if (pipeline.updated_at < scanned_to_ms_ - 1000 && !IsActive(pipeline.status) &&
        !pipelines_.count(id)) {
      continue;  // Finished before this publisher started.
    }
    JobFilter jobs_filter;
    jobs_filter.pipeline_id = id;
    jobs_filter.per_page = 100;
    std::vector<JobRecord> jobs;
    for (jobs_filter.page = 1;; ++jobs_filter.page) {
      auto page = store_->ListJobs(jobs_filter);
      if (!page.ok()) return page.status();
      jobs.insert(jobs.end(), page->items.begin(), page->items.end());
      if (static_cast<int64_t>(jobs_filter.page) * jobs_filter.per_page >= page->total) break;
    }
    for (const JobRecord& job : jobs) {
      auto [it, added] = jobs_.try_emplace(job.id, job.status, scans_);
      it->second.second = scans_;
      if (!added && it->second.first == job.status) continue;
      // A job has no updated_at; its times only grow with its status.
      int64_t version = std::max({job.created_at, job.queued_at.value_or(0),
                                  job.started_at.value_or(0), job.finished_at.value_or(0)});
      if (Status s = Announce(project, hooks, "job:" + std::to_string(job.id), job.status, version,
                              JobHookPayload(project, pipeline, job, options_.base_url), now_ms);
          !s.ok()) {
        jobs_.erase(job.id);  // Claimed again on the next scan.
        return s;
      }
      it->second.first = job.status;
    }
    auto [it, added] = pipelines_.try_emplace(id, pipeline.status, scans_);
    it->second.second = scans_;
    if (!added && it->second.first == pipeline.status) continue;
    if (Status s = Announce(
            project, hooks, "pipeline:" + std::to_string(id), pipeline.status, pipeline.updated_at,
            PipelineHookPayload(project, pipeline, jobs, options_.base_url), now_ms);
        !s.ok()) {
      pipelines_.erase(id);
      return s;
    }
    it->second.first = pipeline.status;
  }
  return Status::Ok();
}

Status ProjectHookPublisher::Scan(int64_t now_ms) {
  ++scans_;
  auto projects = store_->ListProjects();
  if (!projects.ok()) return projects.status();
  const int64_t since = scanned_to_ms_ - 1000;
  for (const ProjectRecord& project : *projects) {
    auto hooks = store_->ListProjectHooks(project.id);
    if (!hooks.ok()) return hooks.status();
    if (hooks->empty()) continue;
    if (Status s = ScanProject(project, *hooks, since, now_ms); !s.ok()) return s;
  }
  // What has not been seen for a while is not watched any more.
  for (auto* seen : {&pipelines_, &jobs_}) {
    for (auto it = seen->begin(); it != seen->end();) {
      it = scans_ - it->second.second > 10 ? seen->erase(it) : std::next(it);
    }
  }
  scanned_to_ms_ = now_ms;
  // What a server that died claimed but did not send, with the payload it
  // claimed it with.
  auto left = claims_.Tick(now_ms);
  if (!left.ok()) return left.status();
  for (const DeliveryClaim& claim : *left) {
    auto hooks = store_->ListProjectHooks(claim.project_id);
    if (!hooks.ok()) return hooks.status();
    json payload = json::parse(claim.payload, nullptr, /*allow_exceptions=*/false);
    Queue(payload.is_discarded() ? std::vector<ProjectHookRecord>() : *hooks, claim, payload);
  }
  return Status::Ok();
}

}  // namespace slipway
