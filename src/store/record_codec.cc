#include "store/record_codec.h"

#include <nlohmann/json.hpp>

namespace slipway {

const char kProjectColumns[] =
    "id, name, path_with_namespace, repo_url, default_branch, webhook_secret, created_at, "
    "executor, "
    "allow_unsigned_webhooks, ci_forward_deployment_enabled, "
    "ci_forward_deployment_rollback_allowed";
const char kPipelineColumns[] =
    "id, project_id, iid, ref, tag, sha, before_sha, source, name, status, created_at, "
    "updated_at, started_at, finished_at, duration_ms, yaml_errors, variables, "
    "upstream_pipeline_id, "
    "upstream_job_id, user_token_id, merge_request, open_merge_requests";
const char kJobColumns[] =
    "id, pipeline_id, name, stage, stage_idx, status, run_when, allow_failure, exit_code, "
    "failure_reason, retried, retry_count, created_at, queued_at, started_at, finished_at, "
    "duration_ms, runner, needs, log_size, image, image_digest, bridge, resource_group, "
    "user_token_id, runner_id, runner_tags";
const char kArtifactColumns[] =
    "job_id, path, file_type, size, sha256, filename, file_format, expire_at";
const char kTokenColumns[] = "id, name, token_sha256, role, created_at, last_used_at, revoked";
const char kScheduleColumns[] =
    "id, project_id, description, cron, cron_timezone, ref, variables, active, next_run_at, "
    "last_pipeline_id, created_at, updated_at";

const char kEnvironmentColumns[] =
    "id, project_id, name, external_url, tier, state, created_at, updated_at, auto_stop_at";
const char kDeploymentColumns[] =
    "id, project_id, iid, environment_id, pipeline_id, job_id, ref, sha, status, created_at, "
    "updated_at, finished_at, on_stop, checks, rollback_of";

namespace {

CiStatus StatusFromText(const std::string& text) {
  return ParseCiStatus(text).value_or(CiStatus::kCreated);
}

}  // namespace

ProjectRecord ProjectFromRow(const SqlRow& row) {
  ProjectRecord p;
  p.id = row.Int(0);
  p.name = row.Text(1);
  p.path_with_namespace = row.Text(2);
  p.repo_url = row.Text(3);
  p.default_branch = row.Text(4);
  p.webhook_secret = row.Text(kProjectWebhookSecretIndex);
  p.created_at = row.Int(6);
  p.executor = row.Text(7);
  p.allow_unsigned_webhooks = row.Int(8) != 0;
  p.ci_forward_deployment_enabled = row.Int(9) != 0;
  p.ci_forward_deployment_rollback_allowed = row.Int(10) != 0;
  return p;
}

PipelineRecord PipelineFromRow(const SqlRow& row) {
  PipelineRecord p;
  p.id = row.Int(0);
  p.project_id = row.Int(1);
  p.iid = row.Int(2);
  p.ref = row.Text(3);
  p.tag = row.Int(4) != 0;
  p.sha = row.Text(5);
  p.before_sha = row.Text(6);
  p.source = row.Text(7);
  p.name = row.Text(8);
  p.status = StatusFromText(row.Text(9));
  p.created_at = row.Int(10);
  p.updated_at = row.Int(11);
  p.started_at = row.OptInt(12);
  p.finished_at = row.OptInt(13);
  p.duration_ms = row.OptInt(14);
  p.yaml_errors = row.Text(15);
  p.variables = VariablesFromJson(row.Text(kPipelineVariablesIndex));
  p.upstream_pipeline_id = row.OptInt(17);
  p.upstream_job_id = row.OptInt(18);
  p.user_token_id = row.OptInt(19);
  p.merge_request = MergeRequestFromJson(row.Text(20));
  p.open_merge_requests = row.Text(21);
  return p;
}

std::string MergeRequestToJson(const std::optional<MergeRequest>& mr) {
  if (!mr) return "";
  nlohmann::json j = {{"iid", mr->iid},
                      {"title", mr->title},
                      {"labels", mr->labels},
                      {"draft", mr->draft},
                      {"source_branch", mr->source_branch},
                      {"target_branch", mr->target_branch},
                      {"source_sha", mr->source_sha},
                      {"target_sha", mr->target_sha},
                      {"diff_base_sha", mr->diff_base_sha}};
  return j.dump();
}

std::optional<MergeRequest> MergeRequestFromJson(const std::string& text) {
  if (text.empty()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  MergeRequest mr;
  mr.iid = j.value("iid", int64_t{0});
  mr.title = j.value("title", std::string());
  if (auto labels = j.find("labels"); labels != j.end() && labels->is_array()) {
    for (const nlohmann::json& label : *labels) {
      if (label.is_string()) mr.labels.push_back(label.get<std::string>());
    }
  }
  mr.draft = j.value("draft", false);
  mr.source_branch = j.value("source_branch", std::string());
  mr.target_branch = j.value("target_branch", std::string());
  mr.source_sha = j.value("source_sha", std::string());
  mr.target_sha = j.value("target_sha", std::string());
  mr.diff_base_sha = j.value("diff_base_sha", std::string());
  return mr;
}

JobRecord JobFromRow(const SqlRow& row) {
  JobRecord j;
  j.id = row.Int(0);
  j.pipeline_id = row.Int(1);
  j.name = row.Text(2);
  j.stage = row.Text(3);
  j.stage_idx = static_cast<int>(row.Int(4));
  j.status = StatusFromText(row.Text(5));
  j.when = row.Text(6);
  j.allow_failure = row.Int(7) != 0;
  if (auto code = row.OptInt(8)) j.exit_code = static_cast<int>(*code);
  j.failure_reason = row.Text(9);
  j.retried = row.Int(10) != 0;
  j.retry_count = static_cast<int>(row.Int(11));
  j.created_at = row.Int(12);
  j.queued_at = row.OptInt(13);
  j.started_at = row.OptInt(14);
  j.finished_at = row.OptInt(15);
  j.duration_ms = row.OptInt(16);
  j.runner.description = row.Text(17);
  j.needs = StringsFromJson(row.Text(18));
  j.log_size = row.Int(19);
  j.image = row.Text(20);
  j.image_digest = row.Text(21);
  j.bridge = row.Int(22) != 0;
  j.resource_group = row.Text(23);
  j.user_token_id = row.OptInt(24);
  j.runner.id = row.OptInt(25).value_or(0);
  j.runner.tags = StringsFromJson(row.Text(26));
  return j;
}

ArtifactRecord ArtifactFromRow(const SqlRow& row) {
  ArtifactRecord a;
  a.job_id = row.Int(0);
  a.path = row.Text(1);
  a.file_type = row.Text(2);
  a.size = row.Int(3);
  a.sha256 = row.Text(4);
  a.filename = row.Text(5);
  a.file_format = row.Text(6);
  a.expire_at = row.OptInt(7);
  return a;
}

TokenRecord TokenFromRow(const SqlRow& row) {
  TokenRecord t;
  t.id = row.Int(0);
  t.name = row.Text(1);
  t.token_sha256 = row.Text(2);
  t.role = ParseTokenRole(row.Text(3)).value_or(TokenRole::kRead);
  t.created_at = row.Int(4);
  t.last_used_at = row.OptInt(5);
  t.revoked = row.Int(6) != 0;
  return t;
}

ScheduleRecord ScheduleFromRow(const SqlRow& row) {
  ScheduleRecord s;
  s.id = row.Int(0);
  s.project_id = row.Int(1);
  s.description = row.Text(2);
  s.cron = row.Text(3);
  s.cron_timezone = row.Text(4);
  s.ref = row.Text(5);
  s.variables = VariablesFromJson(row.Text(kScheduleVariablesIndex));
  s.active = row.Int(7) != 0;
  s.next_run_at = row.OptInt(8);
  s.last_pipeline_id = row.OptInt(9);
  s.created_at = row.Int(10);
  s.updated_at = row.Int(11);
  return s;
}

EnvironmentRecord EnvironmentFromRow(const SqlRow& row) {
  EnvironmentRecord e;
  e.id = row.Int(0);
  e.project_id = row.Int(1);
  e.name = row.Text(2);
  e.external_url = row.Text(3);
  e.tier = row.Text(4);
  e.state = row.Text(5);
  e.created_at = row.Int(6);
  e.updated_at = row.Int(7);
  e.auto_stop_at = row.OptInt(8);
  return e;
}

DeploymentRecord DeploymentFromRow(const SqlRow& row) {
  DeploymentRecord d;
  d.id = row.Int(0);
  d.project_id = row.Int(1);
  d.iid = row.Int(2);
  d.environment_id = row.Int(3);
  d.pipeline_id = row.OptInt(4);
  d.job_id = row.OptInt(5);
  d.ref = row.Text(6);
  d.sha = row.Text(7);
  d.status = row.Text(8);
  d.created_at = row.Int(9);
  d.updated_at = row.Int(10);
  d.finished_at = row.OptInt(11);
  d.on_stop = row.Text(12);
  d.checks = row.Text(13);
  d.rollback_of = row.OptInt(14);
  return d;
}

std::string VariablesToJson(const std::vector<StoredVariable>& variables) {
  nlohmann::json array = nlohmann::json::array();
  for (const StoredVariable& v : variables) {
    array.push_back({{"key", v.key}, {"value", v.value}, {"variable_type", v.variable_type}});
  }
  // Invalid UTF-8 is replaced rather than thrown on.
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<StoredVariable> VariablesFromJson(const std::string& json) {
  std::vector<StoredVariable> out;
  nlohmann::json array = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) return out;
  try {
    for (const nlohmann::json& item : array) {
      if (!item.is_object()) continue;
      StoredVariable v;
      v.key = item.value("key", "");
      v.value = item.value("value", "");
      v.variable_type = item.value("variable_type", "env_var");
      out.push_back(std::move(v));
    }
  } catch (const nlohmann::json::exception&) {
    // A field of the wrong type: keep what was read before it.
  }
  return out;
}

std::string StringsToJson(const std::vector<std::string>& strings) {
  return nlohmann::json(strings).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> StringsFromJson(const std::string& json) {
  std::vector<std::string> out;
  nlohmann::json array = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) return out;
  for (const nlohmann::json& item : array) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace slipway
