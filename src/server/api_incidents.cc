// Incidents through GitLab's issues API (issues of type incident, as
// python-gitlab's project.issues reaches them): GET/POST /projects/:id/issues,
// GET/PUT /projects/:id/issues/:issue_iid, and slipway's
// POST /projects/:id/alert_token (docs/api.md, docs/dora.md).
#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/gitlab_json.h"
#include "server/incident_links.h"

namespace slipway {
namespace {

using json = nlohmann::json;

json IncidentJson(const IncidentRecord& i, const ProjectRecord& project,
                  const std::string& base_url) {
  bool closed = i.status == "resolved";
  std::string ref = "#" + std::to_string(i.iid);
  return {{"id", i.id},
          {"iid", i.iid},
          {"project_id", i.project_id},
          {"title", i.title},
          {"description", i.description},
          {"state", closed ? "closed" : "opened"},
          {"created_at", IsoTime(i.created_at)},
          {"updated_at", IsoTime(i.updated_at)},
          {"closed_at", closed && i.resolved_at ? json(IsoTime(*i.resolved_at)) : json(nullptr)},
          {"closed_by", nullptr},
          {"labels", json::array()},
          {"milestone", nullptr},
          {"assignees", json::array()},
          {"assignee", nullptr},
          {"author", nullptr},
          {"type", "INCIDENT"},
          {"issue_type", "incident"},
          {"severity", "UNKNOWN"},
          {"confidential", false},
          {"user_notes_count", 0},
          {"upvotes", 0},
          {"downvotes", 0},
          {"web_url",
           base_url + "/" + project.path_with_namespace + "/-/issues/" + std::to_string(i.iid)},
          {"references",
           {{"short", ref}, {"relative", ref}, {"full", project.path_with_namespace + ref}}},
          // slipway's: what caused it and where it came from.
          {"deployment_id", i.deployment_id ? json(*i.deployment_id) : json(nullptr)},
          {"incident_source", i.source},
          {"alert_fingerprint", i.external_key.empty() ? json(nullptr) : json(i.external_key)}};
}

// The deployment an incident links to from the request: deployment_id
// (one of the project's), else the description's root cause line. nullopt
// with *error set for a deployment_id that is not the project's; the
// optional inside is empty when nothing names a deployment.
std::optional<std::optional<int64_t>> RequestedDeployment(ApiContext& ctx,
                                                          const ProjectRecord& project,
                                                          const json& params,
                                                          const std::string& description,
                                                          HttpResponse* error) {
  std::string given = ParamString(params, "deployment_id");
  if (!given.empty()) {
    std::optional<int64_t> id = ParseId(given);
    auto found = id ? ctx.store->GetDeployment(*id)
                    : StatusOr<std::optional<DeploymentRecord>>(std::nullopt);
    if (!found.ok()) {
      *error = StoreError(found.status());
      return std::nullopt;
    }
    if (!*found || (*found)->project_id != project.id) {
      *error = JsonError(
          400, "400 Bad request - deployment_id " + given + " is not a deployment of this project");
      return std::nullopt;
    }
    return std::optional<int64_t>(*id);
  }
  StatusOr<std::optional<int64_t>> root = DeploymentOfRootCause(ctx.store, project.id, description);
  if (!root.ok()) {
    *error = StoreError(root.status());
    return std::nullopt;
  }
  return *root;
}

std::optional<IncidentRecord> LoadIncident(ApiContext& ctx, const ProjectRecord& project,
                                           HttpResponse* error) {
  std::optional<int64_t> iid = ParseId(ctx.params["issue_iid"]);
  auto found = iid ? ctx.store->GetIncidentByIid(project.id, *iid)
                   : StatusOr<std::optional<IncidentRecord>>(std::nullopt);
  if (!found.ok()) {
    *error = StoreError(found.status());
    return std::nullopt;
  }
  if (!*found) {
    *error = JsonError(404, "404 Issue Not Found");
    return std::nullopt;
  }
  return **found;
}

}  // namespace

HttpResponse ListIncidents(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto page = ParsePage(ctx.req, &error);
  if (!page) return error;
  IncidentFilter filter;
  filter.project_id = project->id;
  filter.page = page->page;
  filter.per_page = page->per_page;
  std::string state = ctx.req.Query("state").value_or("all");
  if (state == "opened") {
    filter.status = "open";
  } else if (state == "closed") {
    filter.status = "resolved";
  } else if (state != "all" && !state.empty()) {
    return BadParam("state");
  }
  if (auto order = ctx.req.Query("order_by"); order && !order->empty()) filter.order_by = *order;
  if (auto sort = ctx.req.Query("sort"); sort && !sort->empty()) filter.sort = *sort;
  json items = json::array();
  int64_t total = 0;
  // slipway keeps incidents only: asking for other issue types finds none.
  std::string type = ctx.req.Query("issue_type").value_or("");
  if (type.empty() || type == "incident") {
    auto incidents = ctx.store->ListIncidents(filter);
    if (!incidents.ok()) {
      return JsonError(400, "400 Bad request - " + incidents.status().message());
    }
    for (const IncidentRecord& i : incidents->items) {
      items.push_back(IncidentJson(i, *project, ctx.base_url));
    }
    total = incidents->total;
  }
  HttpResponse response = JsonOk(200, items);
  SetPaginationHeaders(ctx, *page, total, &response);
  return response;
}

HttpResponse GetIncident(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto incident = LoadIncident(ctx, *project, &error);
  if (!incident) return error;
  return JsonOk(200, IncidentJson(*incident, *project, ctx.base_url));
}

HttpResponse CreateIncident(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  IncidentRecord incident;
  incident.project_id = project->id;
  incident.title = ParamString(*params, "title");
  if (incident.title.empty()) return JsonError(400, "400 Bad request - title is missing");
  if (ParamString(*params, "issue_type") != "incident") {
    return JsonError(400,
                     "400 Bad request - slipway keeps incidents only: issue_type must be incident");
  }
  incident.description = ParamString(*params, "description");
  auto deployment = RequestedDeployment(ctx, *project, *params, incident.description, &error);
  if (!deployment) return error;
  incident.deployment_id = *deployment;
  auto created = ctx.store->CreateIncident(incident);
  if (!created.ok()) return StoreError(created.status());
  return JsonOk(201, IncidentJson(*created, *project, ctx.base_url));
}

HttpResponse UpdateIncident(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto incident = LoadIncident(ctx, *project, &error);
  if (!incident) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  std::string state_event = ParamString(*params, "state_event");
  if (!state_event.empty() && state_event != "close" && state_event != "reopen") {
    return BadParam("state_event");
  }
  IncidentRecord edited = *incident;
  if (params->contains("title")) edited.title = ParamString(*params, "title");
  if (edited.title.empty()) return JsonError(400, "400 Bad request - title is empty");
  bool described = params->contains("description");
  if (described) edited.description = ParamString(*params, "description");
  if (described || params->contains("deployment_id")) {
    auto deployment = RequestedDeployment(ctx, *project, *params, edited.description, &error);
    if (!deployment) return error;
    if (*deployment) edited.deployment_id = *deployment;  // Else the link stays.
  }
  auto updated = ctx.store->UpdateIncident(edited);
  if (!updated.ok()) return StoreError(updated.status());
  if (state_event == "close") updated = ctx.store->ResolveIncident(incident->id, std::nullopt);
  if (state_event == "reopen") {
    updated = ctx.store->ReopenIncident(incident->id);
    if (!updated.ok()) return JsonError(409, "409 Conflict - " + updated.status().message());
  }
  if (!updated.ok()) return StoreError(updated.status());
  return JsonOk(200, IncidentJson(*updated, *project, ctx.base_url));
}

HttpResponse CreateAlertToken(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto token = ctx.store->CreateAlertToken(project->id);
  if (!token.ok()) return StoreError(token.status());
  return JsonOk(201, {{"token", *token},
                      {"url", ctx.base_url + "/" + project->path_with_namespace +
                                  "/prometheus/alerts/notify.json"}});
}

}  // namespace slipway
