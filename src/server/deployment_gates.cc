#include "server/deployment_gates.h"

#include <string>
#include <vector>

#include "server/deploy_freeze.h"
#include "server/deployment_safety.h"
#include "server/gitlab_json.h"

namespace slipway {
namespace {

GateVerdict Hold(std::string message) { return {GateVerdict::Kind::kHold, "", std::move(message)}; }

GateVerdict Refuse(const char* reason, std::string message) {
  return {GateVerdict::Kind::kRefuse, reason, std::move(message)};
}

std::string Var(const JobSpec& spec, const char* key) {
  const std::string* v = spec.variables.Get(key);
  return v != nullptr ? *v : std::string();
}

// The job's deployment, made `blocked` if it has none yet (the run's
// recorder moves it on when the job starts: run_recorder.cc).
StatusOr<DeploymentRecord> BlockedDeployment(Store* store, const ProjectRecord& project,
                                             const PipelineRecord& pipeline, const Job& job,
                                             const JobSpec& spec) {
  StatusOr<std::optional<DeploymentRecord>> known = store->DeploymentOfJob(spec.job_id);
  if (!known.ok()) return known.status();
  if (*known) return **known;
  EnvironmentRecord environment;
  environment.project_id = project.id;
  environment.name = Var(spec, "CI_ENVIRONMENT_NAME");
  environment.external_url = Var(spec, "CI_ENVIRONMENT_URL");
  environment.tier = Var(spec, "CI_ENVIRONMENT_TIER");
  if (environment.tier.empty()) environment.tier = "other";
  StatusOr<EnvironmentRecord> saved = store->SaveEnvironment(environment);
  if (!saved.ok()) return saved.status();
  DeploymentRecord deployment;
  deployment.project_id = project.id;
  deployment.environment_id = saved->id;
  deployment.pipeline_id = pipeline.id;
  deployment.job_id = spec.job_id;
  deployment.ref = pipeline.ref;
  deployment.sha = pipeline.sha;
  deployment.status = "blocked";
  if (job.environment) deployment.on_stop = job.environment->on_stop;
  return store->CreateDeployment(deployment);
}

std::string TokenLabel(const std::optional<TokenRecord>& token) {
  if (!token) return "no token (a push, schedule or trigger started it)";
  return "token '" + token->name + "' (role " + TokenRoleName(token->role) + ")";
}

const char* RoleForLevel(int level) { return level <= 30 ? "run" : "admin"; }

}  // namespace

int AccessLevel(TokenRole role) {
  switch (role) {
    case TokenRole::kRead:
      return 20;
    case TokenRole::kRun:
      return 30;
    case TokenRole::kAdmin:
      return 40;
    case TokenRole::kRunner:
      return 0;  // The API refuses runner tokens before any gate.
  }
  return 0;
}

std::optional<int64_t> DeployerOf(const JobRecord& job, const PipelineRecord& pipeline) {
  return job.user_token_id ? job.user_token_id : pipeline.user_token_id;
}

GateVerdict CheckDeployment(Store* store, const ProjectRecord& project,
                            const PipelineRecord& pipeline, const Job& job, const JobSpec& spec,
                            int64_t now_ms) {
  std::string name = Var(spec, "CI_ENVIRONMENT_NAME");
  if (name.empty() || Var(spec, "CI_ENVIRONMENT_ACTION") != "start") return {};
  if (std::optional<JobRefusal> outdated = OutdatedDeployment(store, project, pipeline, spec)) {
    return Refuse(outdated->failure_reason.c_str(), outdated->message);
  }
  auto cannot_check = [](const Status& s) {
    return Hold("Deployment gates cannot be checked (" + s.message() + "); the job waits.");
  };
  StatusOr<std::optional<ProtectedEnvironmentRecord>> protection =
      store->FindProtectedEnvironment(project.id, name);
  if (!protection.ok()) return cannot_check(protection.status());
  StatusOr<std::vector<FreezePeriodRecord>> periods = store->ListFreezePeriods(project.id);
  if (!periods.ok()) return cannot_check(periods.status());
  StatusOr<std::optional<ActiveFreeze>> freeze = ActiveFreezeAt(*periods, now_ms);
  if (!freeze.ok()) return cannot_check(freeze.status());
  if (!*protection && !*freeze) return {};

  // Approvals given so far: only a deployment that exists has any.
  StatusOr<std::optional<DeploymentRecord>> existing = store->DeploymentOfJob(spec.job_id);
  if (!existing.ok()) return cannot_check(existing.status());
  std::vector<DeploymentApprovalRecord> approvals;
  if (*existing) {
    StatusOr<std::vector<DeploymentApprovalRecord>> listed =
        store->ListDeploymentApprovals((*existing)->id);
    if (!listed.ok()) return cannot_check(listed.status());
    approvals = std::move(*listed);
  }
  int approved = 0;
  bool admin_approved = false;
  for (const DeploymentApprovalRecord& a : approvals) {
    if (a.status == "rejected") {
      std::string why = "The deployment was rejected by token '" + a.token_name + "'";
      if (!a.comment.empty()) why += ": " + a.comment;
      return Refuse(kDeploymentRejected, why);
    }
    ++approved;
    admin_approved |= a.token_role == "admin";
  }

  if (*protection) {
    const ProtectedEnvironmentRecord& p = **protection;
    StatusOr<std::optional<JobRecord>> record = store->GetJob(spec.job_id);
    if (!record.ok()) return cannot_check(record.status());
    std::optional<int64_t> deployer = *record ? DeployerOf(**record, pipeline) : std::nullopt;
    std::optional<TokenRecord> token;
    if (deployer) {
      StatusOr<std::vector<TokenRecord>> tokens = store->ListTokens();
      if (!tokens.ok()) return cannot_check(tokens.status());
      for (const TokenRecord& t : *tokens) {
        if (t.id == *deployer && !t.revoked) token = t;
      }
    }
    if (!token || AccessLevel(token->role) < p.deploy_access_level) {
      return Refuse(kProtectedEnvironmentFailure,
                    "The environment '" + name + "' is protected: deploying to it needs a token " +
                        "of role " + RoleForLevel(p.deploy_access_level) + ", and " +
                        TokenLabel(token) +
                        " started this job. Retry or play it with such a token.");
    }
    if (approved < p.required_approval_count) {
      StatusOr<DeploymentRecord> blocked = BlockedDeployment(store, project, pipeline, job, spec);
      if (!blocked.ok()) return cannot_check(blocked.status());
      return Hold("Waiting for approval: deployment #" + std::to_string(blocked->iid) + " (id " +
                  std::to_string(blocked->id) + ") to the protected environment '" + name +
                  "' has " + std::to_string(approved) + " of " +
                  std::to_string(p.required_approval_count) + " required approvals.");
    }
  }
  if (*freeze && !admin_approved) {
    const FreezePeriodRecord& f = (*freeze)->period;
    StatusOr<DeploymentRecord> blocked = BlockedDeployment(store, project, pipeline, job, spec);
    if (!blocked.ok()) return cannot_check(blocked.status());
    return Hold("Deploy freeze until " + IsoTime((*freeze)->ends_at_ms) + " (freeze period " +
                std::to_string(f.id) + ": '" + f.freeze_start + "' to '" + f.freeze_end + "' " +
                f.cron_timezone + "): deployment #" + std::to_string(blocked->iid) + " (id " +
                std::to_string(blocked->id) +
                ") waits; an admin token's approval of it deploys now.");
  }
  return {};
}

}  // namespace slipway
