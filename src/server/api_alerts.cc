// Prometheus Alertmanager's webhook, at GitLab's Prometheus integration URL
// POST /<project path>/prometheus/alerts/notify.json (and GitLab's HTTP
// endpoint URL /<project path>/alerts/notify.json), authenticated by the
// project's alert token as `Authorization: Bearer <token>` (Alertmanager's
// http_config.authorization). A firing alert opens an incident, once per
// fingerprint; a resolved one resolves it (docs/dora.md).
#include <strings.h>

#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/gitlab_json.h"
#include "server/incident_links.h"
#include "util/bounded_json.h"
#include "util/sha256.h"

namespace slipway {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxAlertBodyBytes = 1 << 20;
constexpr size_t kMaxAlerts = 1000;
constexpr size_t kMaxTitleBytes = 255;

std::string Text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// One alert of the payload, checked before anything is written.
struct Alert {
  bool firing = false;
  std::string fingerprint;
  std::string title;
  std::string description;
  std::string environment;  // Label gitlab_environment_name, as GitLab reads it.
  std::optional<int64_t> starts_at, ends_at;
};

std::optional<Alert> ReadAlert(const json& a, std::string* why) {
  if (!a.is_object()) {
    *why = "an alert is not an object";
    return std::nullopt;
  }
  Alert alert;
  std::string status = Text(a, "status");
  if (status != "firing" && status != "resolved") {
    *why = "alert status must be firing or resolved, not '" + status + "'";
    return std::nullopt;
  }
  alert.firing = status == "firing";
  const json labels =
      a.contains("labels") && a["labels"].is_object() ? a["labels"] : json::object();
  const json annotations =
      a.contains("annotations") && a["annotations"].is_object() ? a["annotations"] : json::object();
  alert.fingerprint = Text(a, "fingerprint");
  // Alertmanager always sends one; other senders are keyed by their labels.
  if (alert.fingerprint.empty()) alert.fingerprint = "labels:" + Sha256Hex(labels.dump());
  alert.title = Text(annotations, "title");
  if (alert.title.empty()) alert.title = Text(annotations, "summary");
  if (alert.title.empty()) alert.title = Text(labels, "alertname");
  if (alert.title.empty()) alert.title = "Alert " + alert.fingerprint;
  if (alert.title.size() > kMaxTitleBytes) alert.title.resize(kMaxTitleBytes);
  alert.description = Text(annotations, "description");
  std::string label_lines;
  for (const auto& [key, value] : labels.items()) {
    if (value.is_string()) label_lines += "- " + key + ": " + value.get<std::string>() + "\n";
  }
  if (!label_lines.empty()) {
    alert.description +=
        (alert.description.empty() ? "" : "\n\n") + std::string("Labels:\n") + label_lines;
  }
  alert.environment = Text(labels, "gitlab_environment_name");
  alert.starts_at = ParseIsoTime(Text(a, "startsAt"));
  alert.ends_at = ParseIsoTime(Text(a, "endsAt"));
  // Alertmanager's "no end" is year 1.
  if (alert.ends_at && *alert.ends_at <= 0) alert.ends_at.reset();
  if (alert.starts_at && *alert.starts_at <= 0) alert.starts_at.reset();
  return alert;
}

// The deployment a firing alert is about: its root cause line, else the
// last successful deployment of the environment its labels name.
StatusOr<std::optional<int64_t>> AlertDeployment(ApiContext& ctx, int64_t project_id,
                                                 const Alert& alert) {
  StatusOr<std::optional<int64_t>> root =
      DeploymentOfRootCause(ctx.store, project_id, alert.description);
  if (!root.ok() || *root || alert.environment.empty()) return root;
  auto environments = ctx.store->ListEnvironments(project_id);
  if (!environments.ok()) return environments.status();
  for (const EnvironmentRecord& e : *environments) {
    if (e.name != alert.environment) continue;
    auto last = ctx.store->LastSuccessfulDeployment(e.id);
    if (!last.ok()) return last.status();
    if (*last) return std::optional<int64_t>((*last)->id);
  }
  return std::optional<int64_t>();
}

}  // namespace

HttpResponse HandleAlertNotify(ApiContext& ctx) {
  // Unknown project and wrong token get the same answer: the endpoint says
  // nothing about which projects exist.
  HttpResponse unauthorized = JsonError(401, "401 Unauthorized");
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error.status == 404 ? unauthorized : error;
  std::string auth = ctx.req.Header("authorization");
  std::string token;
  if (auth.size() > 7 && strncasecmp(auth.c_str(), "Bearer ", 7) == 0) token = auth.substr(7);
  auto valid = ctx.store->CheckAlertToken(project->id, token);
  if (!valid.ok()) return StoreError(valid.status());
  if (!*valid) return unauthorized;

  if (ctx.req.body.size() > kMaxAlertBodyBytes) {
    return JsonError(413, "413 Payload Too Large - at most " + std::to_string(kMaxAlertBodyBytes) +
                              " bytes of alerts");
  }
  BoundedJson parsed = ParseBoundedJson(ctx.req.body);
  if (parsed.error != JsonParseError::kNone) {
    return JsonError(400, "400 Bad request - the body is not a JSON Alertmanager payload");
  }
  const json& payload = parsed.value;
  if (!payload.is_object() || !payload.contains("alerts") || !payload["alerts"].is_array()) {
    return JsonError(400, "400 Bad request - alerts is missing (Alertmanager's webhook payload)");
  }
  if (payload["alerts"].size() > kMaxAlerts) {
    return JsonError(400, "400 Bad request - more than " + std::to_string(kMaxAlerts) + " alerts");
  }
  std::vector<Alert> alerts;
  for (const json& a : payload["alerts"]) {
    std::string why;
    std::optional<Alert> alert = ReadAlert(a, &why);
    if (!alert) return JsonError(400, "400 Bad request - " + why);
    alerts.push_back(std::move(*alert));
  }

  json opened = json::array(), resolved = json::array();
  for (const Alert& alert : alerts) {
    if (alert.firing) {
      IncidentRecord incident = NewIncident(project->id, std::nullopt, alert.title, "alertmanager");
      incident.description = alert.description;
      incident.external_key = alert.fingerprint;
      incident.created_at = alert.starts_at.value_or(0);
      auto deployment = AlertDeployment(ctx, project->id, alert);
      if (!deployment.ok()) return StoreError(deployment.status());
      incident.deployment_id = *deployment;
      auto created = ctx.store->CreateIncident(incident);
      if (!created.ok()) return StoreError(created.status());
      opened.push_back(created->iid);
    } else {
      auto done = ctx.store->ResolveIncidentByKey(project->id, alert.fingerprint, alert.ends_at);
      if (!done.ok()) return StoreError(done.status());
      if (*done) resolved.push_back((*done)->iid);
    }
  }
  return JsonOk(200, {{"opened", opened}, {"resolved", resolved}});
}

}  // namespace slipway
