// GitLab's project CI Lint: GET /projects/:id/ci/lint lints the project's
// .gitlab-ci.yml at a commit, POST lints given `content` in the project's
// context (pipeline_lint.h). docs/api.md, "CI Lint".
#include "config/emit.h"
#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/pipeline_lint.h"

namespace slipway {
namespace {

using json = nlohmann::json;

// GitLab's words when rules leave nothing to run (Gitlab::Ci::Lint's
// dry run).
constexpr const char* kNoJobs =
    "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs "
    "from being added to the pipeline.";

json LintJobJson(const Job& job) {
  json needs = json::array();
  if (job.needs) {
    for (const Need& need : *job.needs) needs.push_back({{"name", need.job}});
  }
  return {{"name", job.name},
          {"stage", job.stage},
          {"before_script", job.before_script},
          {"script", job.script},
          {"after_script", job.after_script},
          {"tag_list", job.tags},
          {"environment", job.environment ? json(job.environment->name) : json(nullptr)},
          {"when", WhenName(job.when)},
          {"allow_failure", job.allow_failure.value},
          {"needs", needs}};
}

json LintJson(const LintResult& result, bool root_listed, bool dry_run, bool include_jobs,
              const std::string& project_path) {
  const ServerPipeline& loaded = result.loaded;
  json errors = json::array();
  if (!loaded.pipeline) {
    size_t start = 0;
    while (start < loaded.errors.size()) {
      size_t end = loaded.errors.find('\n', start);
      if (end == std::string::npos) end = loaded.errors.size();
      errors.push_back(loaded.errors.substr(start, end - start));
      start = end + 1;
    }
  } else if (dry_run && !loaded.pipeline->created) {
    errors.push_back(kNoJobs);
  }
  json includes = json::array();
  for (size_t i = root_listed ? 1 : 0; i < result.sources.size(); ++i) {
    const IncludeSource& source = result.sources[i];
    bool local = source.origin == "local";
    includes.push_back({{"type", local ? "local" : "remote"},
                        {"location", source.name},
                        {"raw", local ? json(nullptr) : json(source.origin)},
                        {"extra", json::object()},
                        {"context_project", project_path},
                        {"context_sha", result.sha}});
  }
  json out = {{"valid", errors.empty()},
              {"errors", errors},
              {"warnings", loaded.warnings},
              {"merged_yaml", loaded.root.IsNull() ? json(nullptr) : json(EmitYaml(loaded.root))},
              {"includes", includes}};
  if (include_jobs) {
    json jobs = json::array();
    if (loaded.pipeline) {
      for (const Job& job : loaded.pipeline->jobs) jobs.push_back(LintJobJson(job));
    }
    out["jobs"] = jobs;
  }
  return out;
}

HttpResponse Lint(ApiContext& ctx, bool post) {
  HttpResponse error;
  auto project = LoadProject(ctx, &error);
  if (!project) return error;
  auto params = RequestParams(ctx.req, &error);
  if (!params) return error;
  if (ctx.service == nullptr) return ServiceUnavailable();
  bool bad = false;
  bool dry_run = ParamBool(*params, "dry_run", &bad).value_or(false);
  if (bad) return BadParam("dry_run");
  bool include_jobs = ParamBool(*params, "include_jobs", &bad).value_or(false);
  if (bad) return BadParam("include_jobs");
  LintRequest request;
  request.project_id = project->id;
  if (post) {
    if (!params->contains("content")) return JsonError(400, "400 Bad request - content is missing");
    request.content = ParamString(*params, "content");
    request.ref = ParamString(*params, "ref");
  } else {
    request.sha = ParamString(*params, "sha");
    if (request.sha.empty()) request.sha = ParamString(*params, "content_ref");
    request.ref = ParamString(*params, "dry_run_ref");
    if (request.ref.empty()) request.ref = ParamString(*params, "ref");
  }
  StatusOr<LintResult> result = ctx.service->Lint(request);
  // An unknown ref or sha, or a repository that cannot be fetched, is the
  // request's fault or the remote's, not an invalid file.
  if (!result.ok()) return JsonError(400, "400 Bad request - " + result.status().message());
  return JsonOk(200, LintJson(*result, !request.content.has_value(), dry_run, include_jobs,
                              project->path_with_namespace));
}

}  // namespace

HttpResponse GetProjectLint(ApiContext& ctx) { return Lint(ctx, false); }
HttpResponse PostProjectLint(ApiContext& ctx) { return Lint(ctx, true); }

}  // namespace slipway
