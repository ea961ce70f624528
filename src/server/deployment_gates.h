// What a deploy job (environment action start) of `slipway serve` meets
// before it starts (docs/deployments.md), in this order:
//  1. outdated deployment jobs fail (deployment_safety.h);
//  2. a rejection of its deployment fails it (deployment_rejected);
//  3. a protected environment: whoever deploys — the token that played or
//     retried the job, else the token that created its pipeline; nobody for
//     pipelines of webhooks, schedules and triggers — needs the protection's
//     access level (30: the run role, 40: admin), else the job fails
//     (protected_environment_failure); then, with required_approval_count,
//     the job is held, its deployment `blocked`, until that many tokens
//     other than the deployer approved it;
//  4. a deploy freeze of the project (deploy_freeze.h) holds it, its
//     deployment `blocked`, until the freeze ends or an admin token
//     approves the deployment.
// A held job is asked again whenever its scheduler wakes (every second, by
// the server's timer). Store errors hold the job (and say so): a gate that
// cannot be checked does not open.
#ifndef SLIPWAY_SERVER_DEPLOYMENT_GATES_H_
#define SLIPWAY_SERVER_DEPLOYMENT_GATES_H_

#include <cstdint>
#include <optional>

#include "exec/job_gate.h"
#include "store/store.h"

namespace slipway {

inline constexpr char kDeploymentRejected[] = "deployment_rejected";
inline constexpr char kProtectedEnvironmentFailure[] = "protected_environment_failure";

GateVerdict CheckDeployment(Store* store, const ProjectRecord& project,
                            const PipelineRecord& pipeline, const Job& job, const JobSpec& spec,
                            int64_t now_ms);

// GitLab's access level of a token role: read 20 (reporter), run 30
// (developer), admin 40 (maintainer).
int AccessLevel(TokenRole role);

// Who deploys with job: its user_token_id, else its pipeline's; none for
// neither.
std::optional<int64_t> DeployerOf(const JobRecord& job, const PipelineRecord& pipeline);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_DEPLOYMENT_GATES_H_
