#include "server/deployment_safety.h"
#include "util/logger.h"

#include <cstdio>
#include <string>

namespace slipway {

std::optional<JobRefusal> OutdatedDeployment(Store* store, const ProjectRecord& project,
                                             const PipelineRecord& pipeline, const JobSpec& spec) {
  if (!project.ci_forward_deployment_enabled) return std::nullopt;
  const std::string* name = spec.variables.Get("CI_ENVIRONMENT_NAME");
  const std::string* action = spec.variables.Get("CI_ENVIRONMENT_ACTION");
  if (name == nullptr || action == nullptr || *action != "start") return std::nullopt;
  if (spec.attempt > 1 && project.ci_forward_deployment_rollback_allowed) return std::nullopt;
  auto fail_open = [&](const Status& s) {
    LogLine(LogLevel::kWarn, "deployment_check_error")
        .Int("job_id", spec.job_id)
        .Str("error", s.message());
    return std::nullopt;
  };
  StatusOr<std::optional<EnvironmentRecord>> environment =
      store->FindEnvironment(project.id, *name);
  if (!environment.ok()) return fail_open(environment.status());
  if (!*environment) return std::nullopt;
  StatusOr<std::optional<DeploymentRecord>> last =
      store->LastSuccessfulDeployment((*environment)->id);
  if (!last.ok()) return fail_open(last.status());
  if (!*last || !(*last)->pipeline_id) return std::nullopt;
  if (*(*last)->pipeline_id <= pipeline.id || (*last)->sha == pipeline.sha) return std::nullopt;
  return JobRefusal{kForwardDeploymentFailure, kOutdatedDeploymentMessage};
}

}  // namespace slipway
