#include "server/cdevents.h"

#include "server/gitlab_json.h"

namespace slipway {

namespace {

// The artifact a deployment ran, as a package URL (what CDEvents
// recommends for artifactId): the project's commit.
std::string ArtifactId(const ProjectRecord& project, const DeploymentRecord& deployment) {
  return "pkg:generic/" + project.path_with_namespace + "@" + deployment.sha;
}

CdEvent Event(const std::string& base_url, const ProjectRecord& project, std::string id,
              std::string type, std::string subject_id, std::string subject_type, int64_t at_ms,
              nlohmann::json content) {
  CdEvent event;
  event.id = std::move(id);
  event.type = std::move(type);
  event.source = base_url + "/" + project.path_with_namespace;
  event.subject = std::move(subject_id);
  event.time = IsoTime(at_ms);
  event.body = {{"context",
                 {{"version", kCdEventsSpecVersion},
                  {"id", event.id},
                  {"source", event.source},
                  {"type", event.type},
                  {"timestamp", event.time}}},
                {"subject",
                 {{"id", event.subject},
                  {"source", event.source},
                  {"type", std::move(subject_type)},
                  {"content", std::move(content)}}}};
  return event;
}

}  // namespace

CdEvent DeploymentEvent(const std::string& base_url, const ProjectRecord& project,
                        const EnvironmentRecord& environment, const DeploymentRecord& deployment) {
  bool rollback = deployment.rollback_of.has_value();
  std::string source = base_url + "/" + project.path_with_namespace;
  return Event(
      base_url, project,
      "deployment-" + std::to_string(deployment.id) + (rollback ? "-rolledback" : "-deployed"),
      rollback ? "dev.cdevents.service.rolledback.0.2.0" : "dev.cdevents.service.deployed.0.2.0",
      project.path_with_namespace, "service",
      deployment.finished_at.value_or(deployment.updated_at),
      {{"environment", {{"id", environment.name}, {"source", source}}},
       {"artifactId", ArtifactId(project, deployment)}});
}

CdEvent IncidentEvent(const std::string& base_url, const ProjectRecord& project,
                      const IncidentRecord& incident,
                      const std::optional<EnvironmentRecord>& environment,
                      const std::optional<DeploymentRecord>& deployment, bool resolved) {
  std::string source = base_url + "/" + project.path_with_namespace;
  // The schema requires an environment: an incident linked to no
  // deployment names none it could be in.
  nlohmann::json content = {
      {"description", incident.title},
      {"environment", {{"id", environment ? environment->name : "unknown"}, {"source", source}}},
      {"service", {{"id", project.path_with_namespace}, {"source", source}}}};
  if (deployment) content["artifactId"] = ArtifactId(project, *deployment);
  int64_t at = resolved ? incident.resolved_at.value_or(incident.updated_at) : incident.created_at;
  return Event(
      base_url, project,
      "incident-" + std::to_string(incident.id) +
          (resolved ? "-resolved-" + std::to_string(at) : "-detected"),
      resolved ? "dev.cdevents.incident.resolved.0.2.0" : "dev.cdevents.incident.detected.0.2.0",
      project.path_with_namespace + "/-/issues/" + std::to_string(incident.iid), "incident", at,
      std::move(content));
}

std::vector<std::pair<std::string, std::string>> CloudEventHeaders(const CdEvent& event) {
  return {{"ce-specversion", "1.0"},           {"ce-id", event.id},
          {"ce-source", event.source},         {"ce-type", event.type},
          {"ce-subject", event.subject},       {"ce-time", event.time},
          {"Content-Type", "application/json"}};
}

}  // namespace slipway
