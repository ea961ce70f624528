#include "server/gitlab_json.h"

#include <cstdio>
#include <ctime>

#include "util/redact.h"

namespace slipway {

using nlohmann::json;

std::string IsoTime(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  int ms = static_cast<int>(unix_ms % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::optional<int64_t> ParseIsoTime(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3) return std::nullopt;
  size_t pos = static_cast<size_t>(consumed);
  int64_t ms = 0;
  int64_t offset_s = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != ' ') return std::nullopt;
    int n = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d:%2d%n", &h, &mi, &s, &n) != 3) {
      return std::nullopt;
    }
    pos += 1 + static_cast<size_t>(n);
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < text.size() && isdigit(static_cast<unsigned char>(text[pos]))) {
        if (digits < 3) ms = ms * 10 + (text[pos] - '0');
        ++digits;
        ++pos;
      }
      for (; digits < 3; ++digits) ms *= 10;
    }
    if (pos < text.size()) {
      char sign = text[pos];
      if (sign == 'Z' && pos + 1 == text.size()) {
        // UTC.
      } else if (sign == '+' || sign == '-') {
        int oh = 0, om = 0;
        if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
        offset_s = (oh * 3600 + om * 60) * (sign == '+' ? 1 : -1);
      } else {
        return std::nullopt;
      }
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t t = timegm(&tm);
  return (static_cast<int64_t>(t) - offset_s) * 1000 + ms;
}

namespace {

json OptTime(const std::optional<int64_t>& t) { return t ? json(IsoTime(*t)) : json(nullptr); }

std::string WebPath(const ProjectRecord& project) { return "/" + project.path_with_namespace; }

json SystemUser(const std::string& base_url) {
  return {{"id", 0},           {"username", "slipway"}, {"name", "slipway"},
          {"state", "active"}, {"avatar_url", nullptr}, {"web_url", base_url + "/"}};
}

json DetailedStatus(CiStatus status, const std::string& details_path) {
  std::string name = CiStatusName(status);
  std::string text = status == CiStatus::kSuccess ? "passed" : name;
  if (status == CiStatus::kWaitingForResource) text = "waiting";
  return {{"icon", "status_" + name},
          {"text", text},
          {"label", text},
          {"group", name},
          {"tooltip", text},
          {"has_details", true},
          {"details_path", details_path},
          {"illustration", nullptr},
          {"favicon", "/assets/ci_favicons/favicon_status_" + name + ".png"}};
}

std::string Namespace(const std::string& path_with_namespace) {
  size_t slash = path_with_namespace.rfind('/');
  return slash == std::string::npos ? std::string() : path_with_namespace.substr(0, slash);
}

}  // namespace

std::string DumpJson(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string JsonString(std::string_view text) { return DumpJson(json(std::string(text))); }

json ProjectJson(const ProjectRecord& project, const std::string& base_url) {
  std::string ns = Namespace(project.path_with_namespace);
  std::string path =
      ns.empty() ? project.path_with_namespace : project.path_with_namespace.substr(ns.size() + 1);
  std::string ns_path = ns.empty() ? path : ns;
  std::string web_url = base_url + WebPath(project);
  // Credentials in the URL (https://user:token@host/…) are the server's to
  // fetch with, not the API's to show.
  std::string shown_url = RedactUrlCredentials(project.repo_url);
  json j = {
      {"id", project.id},
      {"description", ""},
      {"name", project.name},
      {"name_with_namespace", ns.empty() ? project.name : ns + " / " + project.name},
      {"path", path},
      {"path_with_namespace", project.path_with_namespace},
      {"created_at", IsoTime(project.created_at)},
      {"last_activity_at", IsoTime(project.created_at)},
      {"default_branch", project.default_branch},
      {"tag_list", json::array()},
      {"topics", json::array()},
      {"http_url_to_repo", shown_url},
      {"ssh_url_to_repo", shown_url},
      {"web_url", web_url},
      {"readme_url", nullptr},
      {"avatar_url", nullptr},
      {"forks_count", 0},
      {"star_count", 0},
      {"visibility", "private"},
      {"archived", false},
      {"jobs_enabled", true},
      {"executor", project.executor},  // slipway's own: what runs the jobs.
      {"namespace",
       {{"id", 0},
        {"name", ns_path},
        {"path", ns_path},
        {"kind", "group"},
        {"full_path", ns_path},
        {"parent_id", nullptr},
        {"avatar_url", nullptr},
        {"web_url", base_url + "/" + ns_path}}},
      // slipway: the repository the server fetches, and whether webhooks are verified.
      {"repo_url", shown_url},
      {"webhook_secret_set", !project.webhook_secret.empty()},
      {"allow_unsigned_webhooks", project.allow_unsigned_webhooks},
      {"ci_forward_deployment_enabled", project.ci_forward_deployment_enabled},
      {"ci_forward_deployment_rollback_allowed", project.ci_forward_deployment_rollback_allowed},
  };
  return j;
}

json UserJson(const TokenRecord& token, const std::string& base_url) {
  return {{"id", token.id},
          {"username", token.name},
          {"name", token.name},
          {"state", "active"},
          {"avatar_url", nullptr},
          {"web_url", base_url + "/"},
          {"created_at", IsoTime(token.created_at)},
          {"is_admin", token.role == TokenRole::kAdmin},
          {"bot", true},
          // slipway: the token's role (read, run or admin).
          {"role", TokenRoleName(token.role)}};
}

json PipelineJson(const PipelineRecord& p, const ProjectRecord& project,
                  const std::string& base_url) {
  std::string details = WebPath(project) + "/-/pipelines/" + std::to_string(p.id);
  json j = {
      {"id", p.id},
      {"iid", p.iid},
      {"project_id", p.project_id},
      {"name", p.name.empty() ? json(nullptr) : json(p.name)},
      {"sha", p.sha},
      {"before_sha", p.before_sha.empty() ? std::string(40, '0') : p.before_sha},
      {"ref", p.ref},
      {"tag", p.tag},
      {"status", CiStatusName(p.status)},
      {"source", p.source},
      {"yaml_errors", p.yaml_errors.empty() ? json(nullptr) : json(p.yaml_errors)},
      {"user", SystemUser(base_url)},
      {"created_at", IsoTime(p.created_at)},
      {"updated_at", IsoTime(p.updated_at)},
      {"started_at", OptTime(p.started_at)},
      {"finished_at", OptTime(p.finished_at)},
      {"committed_at", nullptr},
      {"duration", p.duration_ms ? json(*p.duration_ms / 1000) : json(nullptr)},
      {"queued_duration", p.started_at
                              ? json(static_cast<double>(*p.started_at - p.created_at) / 1000.0)
                              : json(nullptr)},
      {"coverage", nullptr},
      {"web_url", base_url + details},
      {"detailed_status", DetailedStatus(p.status, details)},
      // slipway's: the pipeline and trigger job that created a downstream
      // pipeline (docs/api.md).
      {"upstream_pipeline_id",
       p.upstream_pipeline_id ? json(*p.upstream_pipeline_id) : json(nullptr)},
      {"upstream_job_id", p.upstream_job_id ? json(*p.upstream_job_id) : json(nullptr)},
  };
  return j;
}

json RunnerJson(int64_t id, const std::string& description, bool active, bool online) {
  return {{"id", id},
          {"description", description},
          {"ip_address", nullptr},
          {"active", active},
          {"paused", !active},
          {"is_shared", true},
          {"runner_type", "instance_type"},
          {"name", "slipway"},
          {"online", online},
          {"status", online ? "online" : "offline"}};
}

json JobJson(const JobRecord& job, const PipelineRecord& p, const ProjectRecord& project,
             const std::vector<ArtifactRecord>& artifacts, const std::string& base_url) {
  std::string details = WebPath(project) + "/-/jobs/" + std::to_string(job.id);
  json artifact_list = json::array();
  json artifacts_file = nullptr;
  std::optional<int64_t> expire_at;  // All of a job's artifacts expire together.
  // A retried attempt lists none: the newer attempt's files replaced its own
  // (one job directory per job name).
  if (!job.retried) {
    for (const ArtifactRecord& a : artifacts) {
      artifact_list.push_back({{"file_type", a.file_type},
                               {"size", a.size},
                               {"filename", a.filename},
                               {"file_format", a.file_format}});
      if (a.file_type == "archive") artifacts_file = {{"filename", a.filename}, {"size", a.size}};
      if (a.expire_at) expire_at = a.expire_at;
    }
  }
  if (job.log_size > 0) {
    artifact_list.push_back({{"file_type", "trace"},
                             {"size", job.log_size},
                             {"filename", "job.log"},
                             {"file_format", "raw"}});
  }
  // The remote runner that took it (docs/runners.md); JobJsonFor says
  // whether it is online now.
  json runner = nullptr;
  if (job.runner.id != 0) {
    runner = RunnerJson(job.runner.id, job.runner.description, true, false);
    runner["tags"] = job.runner.tags;
  }
  json queued = nullptr;
  if (job.queued_at) {
    int64_t until = job.started_at ? *job.started_at : *job.queued_at;
    queued = static_cast<double>(until - *job.queued_at) / 1000.0;
  }
  json j = {
      {"id", job.id},
      {"status", CiStatusName(job.status)},
      {"stage", job.stage},
      {"name", job.name},
      {"ref", p.ref},
      {"tag", p.tag},
      {"coverage", nullptr},
      {"allow_failure", job.allow_failure},
      {"created_at", IsoTime(job.created_at)},
      {"started_at", OptTime(job.started_at)},
      {"finished_at", OptTime(job.finished_at)},
      {"erased_at", nullptr},
      {"duration",
       job.duration_ms ? json(static_cast<double>(*job.duration_ms) / 1000.0) : json(nullptr)},
      {"queued_duration", queued},
      {"user", SystemUser(base_url)},
      {"commit",
       {{"id", p.sha},
        {"short_id", p.sha.substr(0, 8)},
        {"title", ""},
        {"message", ""},
        {"created_at", IsoTime(p.created_at)}}},
      {"pipeline",
       {{"id", p.id},
        {"iid", p.iid},
        {"project_id", p.project_id},
        {"ref", p.ref},
        {"sha", p.sha},
        {"status", CiStatusName(p.status)},
        {"source", p.source},
        {"created_at", IsoTime(p.created_at)},
        {"updated_at", IsoTime(p.updated_at)},
        {"web_url", base_url + WebPath(project) + "/-/pipelines/" + std::to_string(p.id)}}},
      {"web_url", base_url + details},
      {"project", {{"ci_job_token_scope_enabled", false}}},
      {"artifacts", artifact_list},
      {"artifacts_expire_at", OptTime(expire_at)},
      {"archived", false},
      {"tag_list", json::array()},
      {"runner", runner},
      {"detailed_status", DetailedStatus(job.status, details)},
      // slipway additions (docs/api.md).
      {"needs", job.needs},
      {"stage_idx", job.stage_idx},
      {"retry_count", job.retry_count},
      {"retried", job.retried},
      {"when", job.when},
      {"exit_code", job.exit_code ? json(*job.exit_code) : json(nullptr)},
      {"image",
       job.image.empty() ? json(nullptr) : json{{"name", job.image}, {"digest", job.image_digest}}},
  };
  if (artifacts_file.is_object()) j["artifacts_file"] = artifacts_file;
  if (job.status == CiStatus::kFailed) {
    j["failure_reason"] = job.failure_reason.empty() ? "unknown_failure" : job.failure_reason;
  }
  return j;
}

}  // namespace slipway
