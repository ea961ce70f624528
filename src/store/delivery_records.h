// The store's records of delivery (docs/deployments.md, docs/dora.md):
// environments and deployments, the gates on them (resource groups, deploy
// freezes, protected environments, approvals), incidents, and the facts
// DORA metrics are computed from. The Store interface (store.h) reads and
// writes them.
#ifndef SLIPWAY_STORE_DELIVERY_RECORDS_H_
#define SLIPWAY_STORE_DELIVERY_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slipway {

// GitLab's environment (docs/deployments.md): one per project and name,
// made by the first deployment to it.
struct EnvironmentRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string name;                 // As expanded for the job: "review/feature-x".
  std::string external_url;         // environment:url, expanded; empty: none.
  std::string tier = "other";       // production, staging, testing, development, other.
  std::string state = "available";  // available, stopping, stopped.
  int64_t created_at = 0;
  int64_t updated_at = 0;
  // When it stops by itself (environment:auto_stop_in of its last
  // successful deployment); none: never.
  std::optional<int64_t> auto_stop_at;
};

// A job's deployment to an environment (environment:action start, the
// default): created → running → success | failed | canceled, following its
// job (GitLab's Deployment statuses).
struct DeploymentRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  int64_t iid = 0;  // 1, 2, ... per project; assigned by the store.
  int64_t environment_id = 0;
  std::optional<int64_t> pipeline_id;
  std::optional<int64_t> job_id;
  std::string ref;
  std::string sha;
  std::string status = "created";
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> finished_at;  // When it reached success, failed or canceled.
  // The job of its pipeline that stops the environment (environment:on_stop);
  // empty: none. Not set for a deployment made through the API.
  std::string on_stop;
  // The results of its deployment checks, as a JSON array (docs/database.md);
  // empty when none ran.
  std::string checks;
  // The deployment this one rolled back (automatically or from the API);
  // unset for an ordinary deployment.
  std::optional<int64_t> rollback_of;
};

// A resource group of a project (GitLab's Ci::ResourceGroup): at most one
// job of the project with this resource_group key runs at a time, across
// pipelines; process_mode says which waiting job goes next
// (server/resource_groups.h). Made when a pipeline with the key is created.
struct ResourceGroupRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string key;
  std::string process_mode =
      "unordered";  // unordered, oldest_first, newest_first, newest_ready_first
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// A deploy freeze (GitLab's freeze period): from each match of freeze_start
// until the next match of freeze_end, in cron_timezone (server/cron.h).
struct FreezePeriodRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string freeze_start;
  std::string freeze_end;
  std::string cron_timezone = "UTC";
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// A protected environment (GitLab's): who may deploy to the environment of
// that name, and how many approvals each deployment needs.
struct ProtectedEnvironmentRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string name;
  // GitLab's access level the deployer needs: 30 (developer: slipway's run
  // role) or 40 (maintainer: admin).
  int deploy_access_level = 40;
  int required_approval_count = 0;
  int64_t created_at = 0;
};

// An approval or rejection of a blocked deployment, by a token.
struct DeploymentApprovalRecord {
  int64_t id = 0;
  int64_t deployment_id = 0;
  int64_t token_id = 0;
  std::string token_name;
  std::string token_role;  // read, run, admin: the role when it approved.
  std::string status;      // approved, rejected
  std::string comment;
  int64_t created_at = 0;
};

// An incident (docs/dora.md): something wrong in an environment, opened
// through the API (GitLab shows it as an issue of type incident), by an
// Alertmanager alert or by an automatic rollback, and linked to the
// deployment that caused it when that is known.
struct IncidentRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  int64_t iid = 0;  // 1, 2, ... per project; assigned by the store.
  std::string title;
  std::string description;
  std::string status = "open";  // open, resolved.
  std::string source = "api";   // api, alertmanager, rollback.
  std::optional<int64_t> deployment_id;
  // Alertmanager's fingerprint: at most one open incident per project and
  // key. Empty: none.
  std::string external_key;
  int64_t created_at = 0;  // 0 on create: now (an alert gives its startsAt).
  int64_t updated_at = 0;
  std::optional<int64_t> resolved_at;
};

// The incident an automatic rollback (or any caller) opens about a
// deployment: CreateIncident(NewIncident(project, deployment, title, "rollback")).
inline IncidentRecord NewIncident(int64_t project_id, std::optional<int64_t> deployment_id,
                                  std::string title, std::string source) {
  IncidentRecord incident;
  incident.project_id = project_id;
  incident.deployment_id = deployment_id;
  incident.title = std::move(title);
  incident.source = std::move(source);
  return incident;
}

struct IncidentFilter {
  int64_t project_id = 0;
  std::string status;                   // Empty: any; else open or resolved.
  std::string order_by = "created_at";  // created_at, updated_at, iid
  std::string sort = "desc";            // asc, desc
  int page = 1;
  int per_page = 20;
};

// A commit a successful deployment shipped (docs/dora.md): every commit
// reachable from its sha and not from the previous successful deployment of
// its environment, taken from the server's mirror when it succeeded.
struct DeploymentCommit {
  std::string sha;
  int64_t committed_at = 0;  // The committer date, Unix milliseconds.
  bool operator==(const DeploymentCommit&) const = default;
};

// What the DORA metrics are computed from (server/dora.h): one project,
// environments of some tiers, a time range.
struct DoraQuery {
  int64_t project_id = 0;
  std::vector<std::string> tiers = {"production"};
  int64_t from_ms = 0;  // Inclusive.
  int64_t to_ms = 0;    // Exclusive.
  // Which facts to load (a metric needs one kind): the others stay empty.
  bool deployments = true, lead_times = true, incidents = true;
};
struct DoraDeployment {
  int64_t id = 0;
  int64_t environment_id = 0;
  bool success = false;     // Else it failed (canceled ones are left out).
  int64_t finished_at = 0;  // When it succeeded or failed.
  // The earliest incident linked to it, and when the last of them was
  // resolved (none while one is open).
  std::optional<int64_t> incident_at, incidents_resolved_at;
};
struct DoraFacts {
  // Deployments that finished (success or failed) at or after from_ms, plus
  // the last one of each environment before it, by finished_at then id.
  std::vector<DoraDeployment> deployments;
  // For each commit shipped by a successful deployment finished in the
  // range: (its deployment's finished_at, lead time in ms).
  std::vector<std::pair<int64_t, int64_t>> lead_times;
  // Incidents of the project created in the range: (created_at, resolved_at).
  std::vector<std::pair<int64_t, std::optional<int64_t>>> incidents;
};

// GitLab's GET /projects/:id/deployments parameters.
struct DeploymentFilter {
  int64_t project_id = 0;
  std::optional<int64_t> environment_id;
  std::string status;  // Empty: any.
  std::optional<int64_t> updated_after, updated_before;
  std::string order_by = "id";  // id, iid, created_at, updated_at, finished_at
  std::string sort = "asc";     // asc, desc
  int page = 1;
  int per_page = 20;
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_DELIVERY_RECORDS_H_
