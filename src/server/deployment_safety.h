// GitLab's "prevent outdated deployment jobs" (doc/ci/environments/
// deployment_safety.md): a deployment job (environment action start) of an
// older pipeline that would start after a newer pipeline's deployment to the
// same environment succeeded fails with failure reason
// forward_deployment_failure instead of deploying older code over newer.
// On unless the project turns it off (ci_forward_deployment_enabled). A
// retried job (a later attempt: a rollback from the environment's page or
// RollbackTo, or a job retried by hand) may still deploy while
// ci_forward_deployment_rollback_allowed ("allow job retries for rollback
// deployments", on by default); a first attempt, including a manual job
// played late, may not. A deployment of the same commit as the newest
// successful one is not outdated.
#ifndef SLIPWAY_SERVER_DEPLOYMENT_SAFETY_H_
#define SLIPWAY_SERVER_DEPLOYMENT_SAFETY_H_

#include <optional>

#include "exec/executor.h"
#include "exec/job_gate.h"
#include "store/store.h"

namespace slipway {

inline constexpr char kForwardDeploymentFailure[] = "forward_deployment_failure";
// GitLab's message for the failure reason, which the job's log shows.
inline constexpr char kOutdatedDeploymentMessage[] =
    "The deployment job is older than the latest deployment, and therefore failed.";

// Whether the attempt spec (its CI_ENVIRONMENT_* variables, attempt) of a
// job of pipeline must fail as outdated; a store error lets it run (the
// check protects against a race, and says so on stderr).
std::optional<JobRefusal> OutdatedDeployment(Store* store, const ProjectRecord& project,
                                             const PipelineRecord& pipeline, const JobSpec& spec);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_DEPLOYMENT_SAFETY_H_
