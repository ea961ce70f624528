// GitLab's project-level CI/CD variables API: GET/POST
// /projects/:id/variables, GET/PUT/DELETE /projects/:id/variables/:key
// (docs/api.md). Admin tokens only, as GitLab asks for the Maintainer role;
// the values of hidden variables are never sent back. And a pipeline's own
// variables: GET /projects/:id/pipelines/:pipeline_id/variables.
#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/request_params.h"
#include "util/secret_mask.h"

namespace slipway {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxKeyLength = 255;  // GitLab's limit.

json VariableJson(const ProjectVariableRecord& v) {
  return {{"variable_type", v.variable_type},
          {"key", v.key},
          {"value", v.hidden ? json(nullptr) : json(v.value)},
          {"protected", v.is_protected},
          {"masked", v.masked},
          {"hidden", v.hidden},
          {"raw", v.raw},
          {"environment_scope", v.environment_scope},
          {"description", v.description.empty() ? json(nullptr) : json(v.description)}};
}

bool ValidKey(const std::string& key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  for (char c : key) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// Applies the request's fields onto *v (a new variable's defaults, or the
// stored one for an update) and checks the result. nullopt when fine.
std::optional<HttpResponse> ApplyFields(const json& params, bool creating,
                                        ProjectVariableRecord* v) {
  if (params.contains("value")) v->value = ParamString(params, "value");
  if (params.contains("variable_type")) v->variable_type = ParamString(params, "variable_type");
  if (params.contains("description")) v->description = ParamString(params, "description");
  bool bad = false;
  auto flag = [&](const char* name, bool* field) {
    if (std::optional<bool> b = ParamBool(params, name, &bad)) *field = *b;
  };
  flag("protected", &v->is_protected);
  flag("masked", &v->masked);
  flag("raw", &v->raw);
  if (creating) {
    bool hidden = false;
    flag("masked_and_hidden", &hidden);
    if (hidden) v->masked = v->hidden = true;
  } else if (v->hidden && !v->masked) {
    return FieldError("masked", "a hidden variable stays masked");
  }
  if (bad) return BadParam("protected, masked, raw or masked_and_hidden");
  if (v->variable_type != "env_var" && v->variable_type != "file") {
    return BadParam("variable_type");
  }
  std::string scope = ParamString(params, "environment_scope");
  if (!scope.empty() && scope != "*") {
    return FieldError("environment_scope",
                      "slipway applies project variables to every environment: only '*' is "
                      "supported");
  }
  if (v->masked) {
    if (std::string why = ValidateMaskedValue(v->value); !why.empty()) {
      return FieldError("value", "is invalid: " + why);
    }
    if (v->value.find_first_of("\r\n") != std::string::npos) {
      return FieldError("value", "is invalid: a masked value must be a single line");
    }
  }
  return std::nullopt;
}

// The variable ctx.params["key"] of project; nullopt with *error set (404,
// or 500) otherwise.
std::optional<ProjectVariableRecord> LoadVariable(ApiContext& ctx, const ProjectRecord& project,
                                                  HttpResponse* error) {
  auto variables = ctx.store->ListProjectVariables(project.id);
  if (!variables.ok()) {
    *error = StoreError(variables.status());
    return std::nullopt;
  }
  for (ProjectVariableRecord& v : *variables) {
    if (v.key == ctx.params["key"]) return std::move(v);
  }
  *error = JsonError(404, "404 Variable Not Found");
  return std::nullopt;
}

}  // namespace

HttpResponse ListProjectVariables(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto variables = ctx.store->ListProjectVariables(project->id);
  if (!variables.ok()) return StoreError(variables.status());
  json items = json::array();
  for (const ProjectVariableRecord& v : *variables) items.push_back(VariableJson(v));
  return JsonOk(200, items);
}

HttpResponse GetProjectVariable(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto variable = LoadVariable(ctx, *project, &error);
  if (!variable) return error;
  return JsonOk(200, VariableJson(*variable));
}

HttpResponse CreateProjectVariable(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  ProjectVariableRecord v;
  v.project_id = project->id;
  v.key = ParamString(*params, "key");
  if (!params->contains("key") || !params->contains("value")) {
    return JsonError(400, "400 Bad request - key and value are required");
  }
  if (!ValidKey(v.key)) {
    return FieldError("key", "can contain only letters, digits and '_', at most 255 of them");
  }
  if (auto invalid = ApplyFields(*params, true, &v)) return *invalid;
  auto created = ctx.store->CreateProjectVariable(v);
  if (!created.ok()) return StoreError(created.status());
  if (!*created) return FieldError("key", "(" + v.key + ") has already been taken");
  return JsonOk(201, VariableJson(v));
}

HttpResponse UpdateProjectVariable(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  auto variable = LoadVariable(ctx, *project, &error);
  if (!variable) return error;
  if (auto invalid = ApplyFields(*params, false, &*variable)) return *invalid;
  auto updated = ctx.store->UpdateProjectVariable(*variable);
  if (!updated.ok()) return StoreError(updated.status());
  if (!*updated) return JsonError(404, "404 Variable Not Found");  // Deleted meanwhile.
  return JsonOk(200, VariableJson(*variable));
}

HttpResponse DeleteProjectVariable(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto deleted = ctx.store->DeleteProjectVariable(project->id, ctx.params["key"], "*");
  if (!deleted.ok()) return StoreError(deleted.status());
  if (!*deleted) return JsonError(404, "404 Variable Not Found");
  HttpResponse response;
  response.status = 204;
  return response;
}

HttpResponse ListPipelineVariables(ApiContext& ctx) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto pipeline = LoadPipeline(ctx, *project, &error);
  if (!pipeline) return error;
  json items = json::array();
  for (const StoredVariable& v : pipeline->variables) {
    items.push_back({{"key", v.key}, {"variable_type", v.variable_type}, {"value", v.value}});
  }
  return JsonOk(200, items);
}

}  // namespace slipway
