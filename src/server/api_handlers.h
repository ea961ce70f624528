// Internal to the API: the handlers of each endpoint group, defined in
// api_projects.cc, api_pipelines.cc, api_jobs.cc and api_hooks.cc. Each
// handler answers one route of the table in api.cc; the route has already
// checked the token's role. This header is that table's list of entries.
#ifndef SLIPWAY_SERVER_API_HANDLERS_H_
#define SLIPWAY_SERVER_API_HANDLERS_H_

#include "server/api_util.h"
#include "server/http_message.h"

namespace slipway {

HttpResponse GetUser(ApiContext& ctx);
// Remote runners (api_runners.cc, docs/runners.md).
HttpResponse ListRunners(ApiContext& ctx);
HttpResponse ConnectRunner(ApiContext& ctx);
HttpResponse SetRunnerSlots(ApiContext& ctx);
HttpResponse RunnerHeartbeat(ApiContext& ctx);
HttpResponse RunnerAppendTrace(ApiContext& ctx);
HttpResponse RunnerFinishJob(ApiContext& ctx);
HttpResponse RunnerJobRepository(ApiContext& ctx);
HttpResponse RunnerUploadArtifacts(ApiContext& ctx);
HttpResponse RunnerDownloadArtifacts(ApiContext& ctx);
HttpResponse GetVersion(ApiContext& ctx);
HttpResponse ListProjects(ApiContext& ctx);
HttpResponse GetProject(ApiContext& ctx);
HttpResponse CreateProject(ApiContext& ctx);
// PUT /projects/:id and resource groups (api_resource_groups.cc).
HttpResponse UpdateProject(ApiContext& ctx);
HttpResponse ListResourceGroups(ApiContext& ctx);
HttpResponse GetResourceGroup(ApiContext& ctx);
HttpResponse UpdateResourceGroup(ApiContext& ctx);
HttpResponse ListUpcomingResourceJobs(ApiContext& ctx);
// Deployment gates: freeze periods (api_freeze_periods.cc), protected
// environments (api_protected_environments.cc), approvals (api_deployments.cc).
HttpResponse ListFreezePeriods(ApiContext& ctx);
HttpResponse GetFreezePeriod(ApiContext& ctx);
HttpResponse CreateFreezePeriod(ApiContext& ctx);
HttpResponse UpdateFreezePeriod(ApiContext& ctx);
HttpResponse DeleteFreezePeriod(ApiContext& ctx);
HttpResponse ListProtectedEnvironments(ApiContext& ctx);
HttpResponse GetProtectedEnvironment(ApiContext& ctx);
HttpResponse ProtectEnvironment(ApiContext& ctx);
HttpResponse UnprotectEnvironment(ApiContext& ctx);
HttpResponse ApproveDeployment(ApiContext& ctx);

HttpResponse ListPipelines(ApiContext& ctx);
HttpResponse CreatePipeline(ApiContext& ctx);
HttpResponse GetPipeline(ApiContext& ctx);
HttpResponse CancelPipeline(ApiContext& ctx);
HttpResponse RetryPipeline(ApiContext& ctx);
HttpResponse DeletePipeline(ApiContext& ctx);

HttpResponse ListPipelineJobs(ApiContext& ctx);
HttpResponse ListPipelineBridges(ApiContext& ctx);
HttpResponse ListProjectJobs(ApiContext& ctx);
HttpResponse GetJob(ApiContext& ctx);
HttpResponse GetTrace(ApiContext& ctx);
HttpResponse StreamTrace(ApiContext& ctx);
HttpResponse RetryJob(ApiContext& ctx);
HttpResponse CancelJob(ApiContext& ctx);
HttpResponse PlayJob(ApiContext& ctx);

// Job artifacts (api_artifacts.cc).
HttpResponse GetArtifactFile(ApiContext& ctx);
HttpResponse GetArtifactsArchive(ApiContext& ctx);
HttpResponse GetRefArtifactsArchive(ApiContext& ctx);
HttpResponse GetRefArtifactFile(ApiContext& ctx);
HttpResponse KeepArtifacts(ApiContext& ctx);
HttpResponse DeleteArtifacts(ApiContext& ctx);
HttpResponse ListArtifactFiles(ApiContext& ctx);
HttpResponse GetTestReport(ApiContext& ctx);
HttpResponse GetTestReportSummary(ApiContext& ctx);

HttpResponse ListEnvironments(ApiContext& ctx);
HttpResponse GetEnvironment(ApiContext& ctx);
HttpResponse CreateEnvironment(ApiContext& ctx);
HttpResponse UpdateEnvironment(ApiContext& ctx);
HttpResponse DeleteEnvironment(ApiContext& ctx);
HttpResponse StopEnvironment(ApiContext& ctx);
HttpResponse CreateDeployment(ApiContext& ctx);
HttpResponse UpdateDeployment(ApiContext& ctx);
HttpResponse ListDeployments(ApiContext& ctx);
HttpResponse GetDeployment(ApiContext& ctx);
HttpResponse RollbackDeployment(ApiContext& ctx);

// Incidents (api_incidents.cc), Alertmanager (api_alerts.cc), DORA
// metrics (api_dora.cc).
HttpResponse ListIncidents(ApiContext& ctx);
HttpResponse GetIncident(ApiContext& ctx);
HttpResponse CreateIncident(ApiContext& ctx);
HttpResponse UpdateIncident(ApiContext& ctx);
HttpResponse CreateAlertToken(ApiContext& ctx);
HttpResponse HandleAlertNotify(ApiContext& ctx);  // ctx.params["id"]: the project's path.
HttpResponse GetDoraMetrics(ApiContext& ctx);

// Project CI/CD variables (api_variables.cc).
HttpResponse ListProjectVariables(ApiContext& ctx);
HttpResponse DeleteProject(ApiContext& ctx);  // api_projects.cc
// api_lint.cc
HttpResponse GetProjectLint(ApiContext& ctx);
HttpResponse PostProjectLint(ApiContext& ctx);
// api_repository.cc
HttpResponse ListBranches(ApiContext& ctx);
HttpResponse GetBranch(ApiContext& ctx);
HttpResponse ListCommits(ApiContext& ctx);
HttpResponse GetCommit(ApiContext& ctx);
HttpResponse GetRepositoryFile(ApiContext& ctx);
HttpResponse GetRawRepositoryFile(ApiContext& ctx);
HttpResponse GetProjectVariable(ApiContext& ctx);
HttpResponse CreateProjectVariable(ApiContext& ctx);
HttpResponse UpdateProjectVariable(ApiContext& ctx);
HttpResponse DeleteProjectVariable(ApiContext& ctx);
HttpResponse ListPipelineVariables(ApiContext& ctx);
// Pipeline schedules (api_schedules.cc).
HttpResponse ListSchedules(ApiContext& ctx);
HttpResponse GetSchedule(ApiContext& ctx);
HttpResponse CreateSchedule(ApiContext& ctx);
HttpResponse UpdateSchedule(ApiContext& ctx);
HttpResponse DeleteSchedule(ApiContext& ctx);
HttpResponse PlaySchedule(ApiContext& ctx);
HttpResponse ListSchedulePipelines(ApiContext& ctx);
HttpResponse SetScheduleVariable(ApiContext& ctx);  // POST .../variables, PUT .../variables/:key
HttpResponse DeleteScheduleVariable(ApiContext& ctx);
// Pipeline trigger tokens (api_triggers.cc).
HttpResponse ListTriggers(ApiContext& ctx);
HttpResponse GetTrigger(ApiContext& ctx);
HttpResponse CreateTrigger(ApiContext& ctx);
HttpResponse UpdateTrigger(ApiContext& ctx);
HttpResponse DeleteTrigger(ApiContext& ctx);
HttpResponse TriggerPipeline(ApiContext& ctx);  // Authenticated by a trigger token.
HttpResponse HandleWebhook(ApiContext& ctx);
// Commit statuses (api_commit_statuses.cc).
HttpResponse CreateCommitStatus(ApiContext& ctx);
HttpResponse ListCommitStatuses(ApiContext& ctx);
// Outgoing project hooks (api_project_hooks.cc).
HttpResponse ListProjectHooks(ApiContext& ctx);
HttpResponse GetProjectHook(ApiContext& ctx);
HttpResponse CreateProjectHook(ApiContext& ctx);
HttpResponse DeleteProjectHook(ApiContext& ctx);
// The pipeline badge (api_badge.cc): params id (project path) and ref.
// BadgePath splits a badge URL's path into them.
std::optional<std::pair<std::string, std::string>> BadgePath(std::string_view path);
HttpResponse HandleBadge(ApiContext& ctx);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_API_HANDLERS_H_
