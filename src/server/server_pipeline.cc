#include "server/server_pipeline.h"

#include <ctime>
#include <filesystem>

#include "exec/file_tree.h"
#include "pipeline/predefined.h"

namespace slipway {
namespace {

constexpr const char* kZeroSha = "0000000000000000000000000000000000000000";

// ms <= 0 (a pipeline not stored yet, whose variables are read only to
// decide whether it is created): now on the machine's clock, a stamp for
// users to read that decides nothing.
std::string Iso8601(int64_t ms) {
  std::time_t t = ms > 0 ? static_cast<std::time_t>(ms / 1000) : std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// CI_PROJECT_* from the project record instead of the checkout's origin.
void SetProjectVariables(const ProjectRecord& project, VariableList* v) {
  const std::string& path = project.path_with_namespace;
  size_t slash = path.rfind('/');
  std::string name_space = slash == std::string::npos ? "" : path.substr(0, slash);
  v->Set("CI_PROJECT_ID", std::to_string(project.id));
  v->Set("CI_PROJECT_NAME", slash == std::string::npos ? path : path.substr(slash + 1));
  v->Set("CI_PROJECT_TITLE", project.name);
  v->Set("CI_PROJECT_PATH", path);
  v->Set("CI_PROJECT_PATH_SLUG", Slugify(path));
  v->Set("CI_PROJECT_NAMESPACE", name_space);
  v->Set("CI_PROJECT_NAMESPACE_SLUG", Slugify(name_space));
  v->Set("CI_PROJECT_ROOT_NAMESPACE", name_space.substr(0, name_space.find('/')));
}

}  // namespace

StatusOr<ServerPipeline> LoadServerPipeline(const ServerPipelineInput& input) {
  ContextOptions options;
  options.predefined.project_dir = input.checkout_dir;
  options.predefined.pipeline_source = input.source;
  if (input.tag) {
    options.predefined.tag = input.ref;
  } else {
    options.predefined.branch = input.ref;
  }
  options.predefined.default_branch = input.project.default_branch;
  options.predefined.pipeline_id = input.pipeline_id;
  options.predefined.pipeline_iid = input.pipeline_iid;
  options.predefined.created_at = Iso8601(input.created_at_ms);
  for (const StoredVariable& var : input.variables) {
    if (var.variable_type != "file") {
      options.cli_variables.Set(var.key, var.value);
      continue;
    }
    std::error_code ec;
    std::filesystem::create_directories(input.file_variables_dir, ec);
    std::string path = input.file_variables_dir + "/" + Slugify(var.key);
    (void)WriteFile(path, var.value);
    options.cli_variables.Set(var.key, path);
  }
  StatusOr<PipelineContext> context = MakePipelineContext(options);
  if (!context.ok()) return context.status();
  VariableList& predefined = context->predefined;
  SetProjectVariables(input.project, &predefined);
  std::string short_sha = input.sha.substr(0, 8);
  predefined.Set("CI_COMMIT_SHA", input.sha);
  predefined.Set("CI_COMMIT_SHORT_SHA", short_sha);
  predefined.Set("CI_COMMIT_BEFORE_SHA", input.before_sha.empty() ? kZeroSha : input.before_sha);
  if (input.deploy_freeze) predefined.Set("CI_DEPLOY_FREEZE", "true");
  // The pipeline file, its includes and rules:exists come from the commit's
  // objects, as GitLab reads them, not from the checkout's files: a pushed
  // symbolic link is then the text of its target and never leads the
  // server to a file outside the repository. Messages name files by path.
  context->commit = input.sha;
  context->commit_label.clear();

  ServerPipeline out;
  Diagnostics diags;
  std::optional<LoadedPipeline> loaded =
      LoadPipelineFile(*context, ".gitlab-ci.yml", &diags, input.fetcher);
  if (loaded) out.pipeline = InstantiatePipeline(loaded->config, loaded->context, &diags);
  if (!out.pipeline) {
    for (const Diagnostic& d : diags.items()) {
      if (!out.errors.empty()) out.errors += "\n";
      out.errors += d.Format();
    }
    if (out.errors.empty()) out.errors = ".gitlab-ci.yml: invalid";
  }
  out.context = std::move(*context);
  return out;
}

}  // namespace slipway
