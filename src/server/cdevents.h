// CDEvents (cdevents.dev, specification v0.4.1) about deployments and
// incidents, and their CloudEvents HTTP binding in binary content mode
// (docs/deployments.md, "CDEvents"):
//   dev.cdevents.service.deployed.0.2.0     a deployment succeeded
//   dev.cdevents.service.rolledback.0.2.0   a rollback deployment succeeded
//   dev.cdevents.incident.detected.0.2.0    an incident was opened
//   dev.cdevents.incident.resolved.0.2.0    an incident was resolved
// Pure functions: what is sent, and when, is CdEventsPublisher's.
#ifndef SLIPWAY_SERVER_CDEVENTS_H_
#define SLIPWAY_SERVER_CDEVENTS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace slipway {

inline constexpr const char* kCdEventsSpecVersion = "0.4.1";

struct CdEvent {
  std::string id;       // Unique per source and stable: a resend has the same id.
  std::string type;     // dev.cdevents.<subject>.<predicate>.<version>
  std::string source;   // The project: <server base URL>/<project path>.
  std::string subject;  // The subject's id.
  std::string time;     // RFC 3339, UTC: when it happened.
  nlohmann::json body;  // The CDEvent: context, subject.
};

// A successful deployment: service.deployed, or service.rolledback when it
// is a rollback (rollback_of set). base_url: the server's, no trailing slash.
CdEvent DeploymentEvent(const std::string& base_url, const ProjectRecord& project,
                        const EnvironmentRecord& environment, const DeploymentRecord& deployment);

// An incident opened (resolved false) or resolved. environment and
// deployment: the ones it is linked to, when it is.
CdEvent IncidentEvent(const std::string& base_url, const ProjectRecord& project,
                      const IncidentRecord& incident,
                      const std::optional<EnvironmentRecord>& environment,
                      const std::optional<DeploymentRecord>& deployment, bool resolved);

// The CloudEvents attributes as HTTP headers (binary content mode: the
// body is the CDEvent itself, Content-Type application/json).
std::vector<std::pair<std::string, std::string>> CloudEventHeaders(const CdEvent& event);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_CDEVENTS_H_
