// GitLab's environments and deployments APIs (docs/api.md,
// docs/deployments.md): reading both, and what a person or an outside tool
// does to them: create, update, stop and delete environments; create and
// update deployments that no job made.
#include "pipeline/environment_tier.h"
#include "pipeline/predefined.h"
#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/deployment_gates.h"
#include "server/gitlab_json.h"
#include "util/bounded_json.h"

namespace slipway {
namespace {

using json = nlohmann::json;

json EnvironmentJson(const EnvironmentRecord& e) {
  std::string slug = Slugify(e.name).substr(0, 24);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return {{"id", e.id},
          {"name", e.name},
          {"slug", slug},
          {"external_url", e.external_url.empty() ? json(nullptr) : json(e.external_url)},
          {"state", e.state},
          {"tier", e.tier},
          {"created_at", IsoTime(e.created_at)},
          {"updated_at", IsoTime(e.updated_at)},
          {"auto_stop_at", e.auto_stop_at ? json(IsoTime(*e.auto_stop_at)) : json(nullptr)}};
}

bool IsApiDeploymentStatus(const std::string& status) {
  return status == "running" || status == "success" || status == "failed" || status == "canceled";
}

// An approval as GitLab shows it; the token stands for the user.
json ApprovalJson(const DeploymentApprovalRecord& a) {
  return {{"user", {{"id", a.token_id}, {"username", a.token_name}, {"name", a.token_name}}},
          {"status", a.status},
          {"created_at", IsoTime(a.created_at)},
          {"comment", a.comment}};
}

// GitLab's deployment: its environment, and its job as `deployable`.
json DeploymentJson(ApiContext& ctx, const DeploymentRecord& d, const ProjectRecord& project) {
  json out = {{"id", d.id},
              {"iid", d.iid},
              {"ref", d.ref},
              {"sha", d.sha},
              {"status", d.status},
              {"created_at", IsoTime(d.created_at)},
              {"updated_at", IsoTime(d.updated_at)},
              {"finished_at", d.finished_at ? json(IsoTime(*d.finished_at)) : json(nullptr)},
              {"user", nullptr},
              {"environment", nullptr},
              {"deployable", nullptr}};
  // slipway's own fields (docs/api.md): the checks' results and the
  // deployment a rollback undid.
  BoundedJson checks = ParseBoundedJson(d.checks);
  out["checks"] = checks.error == JsonParseError::kNone && checks.value.is_array() ? checks.value
                                                                                   : json::array();
  out["rollback_of"] = d.rollback_of ? json(*d.rollback_of) : json(nullptr);
  // GitLab's approvals of a blocked deployment (docs/deployments.md).
  out["approvals"] = json::array();
  if (auto approvals = ctx.store->ListDeploymentApprovals(d.id); approvals.ok()) {
    for (const DeploymentApprovalRecord& a : *approvals)
      out["approvals"].push_back(ApprovalJson(a));
  }
  if (auto e = ctx.store->GetEnvironment(d.environment_id); e.ok() && *e) {
    out["environment"] = EnvironmentJson(**e);
  }
  if (d.job_id) {
    auto job = ctx.store->GetJob(*d.job_id);
    if (job.ok() && *job) {
      auto pipeline = ctx.store->GetPipeline((*job)->pipeline_id);
      if (pipeline.ok() && *pipeline) {
        out["deployable"] = JobJsonFor(ctx, **job, **pipeline, project);
      }
    }
  }
  return out;
}

std::optional<EnvironmentRecord> LoadEnvironment(ApiContext& ctx, const ProjectRecord& project,
                                                 HttpResponse* error) {
  return LoadOwned<EnvironmentRecord>(
      ctx, project, "environment_id", "404 Environment Not Found",
      [&](int64_t id) { return ctx.store->GetEnvironment(id); }, error);
}

std::optional<DeploymentRecord> LoadDeployment(ApiContext& ctx, const ProjectRecord& project,
                                               HttpResponse* error) {
  return LoadOwned<DeploymentRecord>(
      ctx, project, "deployment_id", "404 Deployment Not Found",
      [&](int64_t id) { return ctx.store->GetDeployment(id); }, error);
}

}  // namespace

HttpResponse ListEnvironments(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto environments = ctx.store->ListEnvironments(project->id);
  if (!environments.ok()) return StoreError(environments.status());
  std::string name = ctx.req.Query("name").value_or("");
  std::string search = ctx.req.Query("search").value_or("");
  std::string states = ctx.req.Query("states").value_or("");
  json items = json::array();
  for (const EnvironmentRecord& e : *environments) {
    if (!name.empty() && e.name != name) continue;
    if (!search.empty() && e.name.find(search) == std::string::npos) continue;
    if (!states.empty() && e.state != states) continue;
    items.push_back(EnvironmentJson(e));
  }
  return JsonOk(200, items);
}

HttpResponse GetEnvironment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto environment = LoadEnvironment(ctx, *project, &error);
  if (!environment) return error;
  json out = EnvironmentJson(*environment);
  out["last_deployment"] = nullptr;
  auto last = ctx.store->LastSuccessfulDeployment(environment->id);
  if (!last.ok()) return StoreError(last.status());
  if (*last) out["last_deployment"] = DeploymentJson(ctx, **last, *project);
  return JsonOk(200, out);
}

HttpResponse ListDeployments(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto page = ParsePage(ctx.req, &error);
  if (!page) return error;
  const HttpRequest& req = ctx.req;
  DeploymentFilter filter;
  filter.project_id = project->id;
  filter.page = page->page;
  filter.per_page = page->per_page;
  if (auto name = req.Query("environment"); name && !name->empty()) {
    auto environments = ctx.store->ListEnvironments(project->id);
    if (!environments.ok()) return StoreError(environments.status());
    filter.environment_id = -1;  // None of the project's: nothing matches.
    for (const EnvironmentRecord& e : *environments) {
      if (e.name == *name) filter.environment_id = e.id;
    }
  }
  filter.status = req.Query("status").value_or("");
  if (!ParseUpdatedRange(req, &filter.updated_after, &filter.updated_before, &error)) return error;
  if (auto order = req.Query("order_by"); order && !order->empty()) filter.order_by = *order;
  if (auto sort = req.Query("sort"); sort && !sort->empty()) filter.sort = *sort;
  auto deployments = ctx.store->ListDeployments(filter);
  if (!deployments.ok()) {
    // The store refuses an unknown status, order_by or sort by name.
    return JsonError(400, "400 Bad request - " + deployments.status().message());
  }
  json items = json::array();
  for (const DeploymentRecord& d : deployments->items) {
    items.push_back(DeploymentJson(ctx, d, *project));
  }
  HttpResponse response = JsonOk(200, items);
  SetPaginationHeaders(ctx, *page, deployments->total, &response);
  return response;
}

HttpResponse GetDeployment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto deployment = LoadDeployment(ctx, *project, &error);
  if (!deployment) return error;
  return JsonOk(200, DeploymentJson(ctx, *deployment, *project));
}

HttpResponse CreateEnvironment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  EnvironmentRecord environment;
  environment.project_id = project->id;
  environment.name = ParamString(*params, "name");
  if (environment.name.empty()) return JsonError(400, "400 Bad request - name is missing");
  environment.external_url = ParamString(*params, "external_url");
  std::string tier = ParamString(*params, "tier");
  if (!tier.empty() && !IsEnvironmentTier(tier)) return BadParam("tier");
  environment.tier = EnvironmentTier(environment.name, tier);
  auto created = ctx.store->CreateEnvironment(environment);
  if (!created.ok()) {
    if (created.status().message() == "environment name has already been taken") {
      return JsonOk(400, {{"message", {{"name", {"has already been taken"}}}}});
    }
    return StoreError(created.status());
  }
  return JsonOk(201, EnvironmentJson(*created));
}

HttpResponse UpdateEnvironment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto environment = LoadEnvironment(ctx, *project, &error);
  if (!environment) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  if (params->contains("name") && ParamString(*params, "name") != environment->name) {
    // GitLab removed renaming (disallow_environment_name_update).
    return JsonError(400, "400 Bad request - an environment's name cannot be changed");
  }
  if (params->contains("external_url")) {
    environment->external_url = ParamString(*params, "external_url");
  }
  if (params->contains("tier")) {
    std::string tier = ParamString(*params, "tier");
    if (!IsEnvironmentTier(tier)) return BadParam("tier");
    environment->tier = tier;
  }
  auto updated = ctx.store->UpdateEnvironment(*environment);
  if (!updated.ok()) return StoreError(updated.status());
  return JsonOk(200, EnvironmentJson(*updated));
}

HttpResponse DeleteEnvironment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto environment = LoadEnvironment(ctx, *project, &error);
  if (!environment) return error;
  // GitLab's EnvironmentPolicy: only a stopped environment may be destroyed.
  if (environment->state != "stopped") return JsonError(403, "403 Forbidden");
  if (Status s = ctx.store->DeleteEnvironment(environment->id); !s.ok()) return StoreError(s);
  HttpResponse response;
  response.status = 204;
  return response;
}

HttpResponse StopEnvironment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto environment = LoadEnvironment(ctx, *project, &error);
  if (!environment) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  bool bad = false;
  std::optional<bool> force = ParamBool(*params, "force", &bad);
  if (bad) return BadParam("force");
  if (ctx.service == nullptr) return ServiceUnavailable();
  auto stopped = ctx.service->StopEnvironment(environment->id, force.value_or(false));
  if (!stopped.ok()) return JsonError(400, "400 Bad request - " + stopped.status().message());
  return JsonOk(200, EnvironmentJson(*stopped));
}

// POST /projects/:id/deployments: a deployment an outside tool made; its
// environment is created when missing.
HttpResponse CreateDeployment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  for (const char* key : {"environment", "sha", "ref", "tag", "status"}) {
    if (ParamString(*params, key).empty()) {
      return JsonError(400, std::string("400 Bad request - ") + key + " is missing");
    }
  }
  bool bad = false;
  std::optional<bool> tag = ParamBool(*params, "tag", &bad);
  if (bad) return BadParam("tag");
  std::string status = ParamString(*params, "status");
  if (!IsApiDeploymentStatus(status)) return BadParam("status");
  std::string name = ParamString(*params, "environment");
  auto existing = ctx.store->FindEnvironment(project->id, name);
  if (!existing.ok()) return StoreError(existing.status());
  EnvironmentRecord environment;
  if (*existing) {
    environment = **existing;
  } else {
    EnvironmentRecord fresh;
    fresh.project_id = project->id;
    fresh.name = name;
    fresh.tier = EnvironmentTier(name, "");
    auto saved = ctx.store->SaveEnvironment(fresh);
    if (!saved.ok()) return JsonError(400, "400 Bad request - " + saved.status().message());
    environment = *saved;
  }
  DeploymentRecord deployment;
  deployment.project_id = project->id;
  deployment.environment_id = environment.id;
  deployment.ref = ParamString(*params, "ref");
  deployment.sha = ParamString(*params, "sha");
  deployment.status = status;
  (void)tag;  // Required by GitLab; slipway keeps the ref's name only.
  auto created = ctx.store->CreateDeployment(deployment);
  if (!created.ok()) return StoreError(created.status());
  return JsonOk(201, DeploymentJson(ctx, *created, *project));
}

// PUT /projects/:id/deployments/:deployment_id: only a deployment no job
// made, as in GitLab.
HttpResponse UpdateDeployment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto found = LoadDeployment(ctx, *project, &error);
  if (!found) return error;
  if (found->job_id || found->pipeline_id) {
    return JsonError(403,
                     "403 Forbidden - Deployments created using GitLab CI can not be updated "
                     "using the API");
  }
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  std::string status = ParamString(*params, "status");
  if (status.empty()) return JsonError(400, "400 Bad request - status is missing");
  if (!IsApiDeploymentStatus(status)) return BadParam("status");
  auto updated = ctx.store->SetDeploymentStatus(found->id, status);
  if (!updated.ok()) return StoreError(updated.status());
  return JsonOk(200, DeploymentJson(ctx, *updated, *project));
}

// slipway's own: GitLab rolls back by retrying the deployment's job (its
// "Rollback environment" button); this does the same and records the new
// deployment as a rollback (docs/api.md).
HttpResponse RollbackDeployment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto found = LoadDeployment(ctx, *project, &error);
  if (!found) return error;
  if (ctx.service == nullptr) return ServiceUnavailable();
  StatusOr<DeploymentRecord> rollback = ctx.service->RollbackTo(found->id);
  if (!rollback.ok()) return JsonError(400, "400 Bad request - " + rollback.status().message());
  return JsonOk(201, DeploymentJson(ctx, *rollback, *project));
}

// GitLab's "approve or reject a blocked deployment". Who may: an admin
// token always (GitLab's administrators), else a token whose role the
// environment's protection lets deploy; never the token that deploys (no
// self-approval); once per token.
HttpResponse ApproveDeployment(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto deployment = LoadDeployment(ctx, *project, &error);
  if (!deployment) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  std::string status = ParamString(*params, "status");
  if (status != "approved" && status != "rejected") return BadParam("status");
  if (deployment->status != "blocked") {
    return JsonError(400, "400 Bad request - Deployment is not blocked: it waits for no approval");
  }
  const TokenRecord& token = *ctx.token;
  if (deployment->job_id) {
    auto job = ctx.store->GetJob(*deployment->job_id);
    if (!job.ok()) return StoreError(job.status());
    auto pipeline = ctx.store->GetPipeline(*job ? (*job)->pipeline_id : 0);
    if (!pipeline.ok()) return StoreError(pipeline.status());
    if (*job && *pipeline && DeployerOf(**job, **pipeline) == token.id) {
      return JsonError(400, "400 Bad request - You cannot approve your own deployment.");
    }
  }
  if (token.role != TokenRole::kAdmin) {
    auto environment = ctx.store->GetEnvironment(deployment->environment_id);
    if (!environment.ok()) return StoreError(environment.status());
    auto protection = *environment
                          ? ctx.store->FindProtectedEnvironment(project->id, (*environment)->name)
                          : StatusOr<std::optional<ProtectedEnvironmentRecord>>(std::nullopt);
    if (!protection.ok()) return StoreError(protection.status());
    if (!*protection || AccessLevel(token.role) < (*protection)->deploy_access_level) {
      return JsonError(403, "403 Forbidden - this token may not approve this deployment");
    }
  }
  DeploymentApprovalRecord approval;
  approval.deployment_id = deployment->id;
  approval.token_id = token.id;
  approval.token_name = token.name;
  approval.token_role = TokenRoleName(token.role);
  approval.status = status;
  approval.comment = ParamString(*params, "comment");
  auto added = ctx.store->AddDeploymentApproval(approval);
  if (!added.ok()) return StoreError(added.status());
  if (!*added) {
    return JsonError(400,
                     "400 Bad request - This token already approved or rejected the deployment");
  }
  return JsonOk(201, ApprovalJson(**added));
}

}  // namespace slipway
