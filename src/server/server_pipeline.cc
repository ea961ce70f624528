#include "server/server_pipeline.h"

#include <ctime>
#include <filesystem>

#include "exec/file_tree.h"
#include "pipeline/predefined.h"
#include "util/git.h"

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

// Sets key in *out; a file-type variable's value is written to a file in
// files_dir (one per key) and the variable is that file's path, as in GitLab.
void AddVariable(const std::string& key, const std::string& value, const std::string& variable_type,
                 bool expand, const std::string& files_dir, VariableList* out) {
  Variable v;
  v.name = key;
  v.value = value;
  v.expand = expand;
  if (variable_type == "file") {
    std::error_code ec;
    std::filesystem::create_directories(files_dir, ec);
    v.value = files_dir + "/" + Slugify(key);
    (void)WriteFile(v.value, value);
  }
  out->Set(std::move(v));
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
  StatusOr<PipelineContext> context = MakePipelineContext(options);
  if (!context.ok()) return context.status();
  ServerPipeline out;
  const std::string* ref_protected = context->predefined.Get("CI_COMMIT_REF_PROTECTED");
  // A merge request's code never gets protected variables (ApplyMergeRequest).
  bool protected_ref = !input.merge_request && ref_protected != nullptr && *ref_protected == "true";
  for (const ProjectVariableRecord& var : input.project_variables) {
    if (var.is_protected && !protected_ref) continue;
    AddVariable(var.key, var.value, var.variable_type, !var.raw, input.file_variables_dir,
                &out.project_variables);
    if (var.masked) out.masked_values.push_back(var.value);
  }
  VariableList pipeline_variables = out.project_variables;
  for (const StoredVariable& var : input.variables) {
    AddVariable(var.key, var.value, var.variable_type, true, input.file_variables_dir,
                &pipeline_variables);
  }
  context->cli_variables = std::move(pipeline_variables);
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
  if (!input.open_merge_requests.empty()) {
    predefined.Set("CI_OPEN_MERGE_REQUESTS", input.open_merge_requests);
  }
  if (input.merge_request) {
    if (Status s = ApplyMergeRequest(*input.merge_request, &*context); !s.ok()) return s;
  } else if (input.source == "push" && !input.tag && !input.before_sha.empty() &&
             input.before_sha != kZeroSha) {
    // GitLab compares a branch push's rules:changes with the commit the
    // branch was at before the push. A new branch (40 zeros), a tag, any
    // other source, or a before the mirror lacks (a force push after a gc):
    // changes are unknown and every `changes` is true, as in GitLab.
    StatusOr<std::vector<std::string>> changed =
        ChangedFilesSince(input.checkout_dir, input.before_sha, input.sha);
    if (changed.ok()) context->changed_files = std::move(*changed);
  }

  Diagnostics diags;
  std::optional<LoadedPipeline> loaded = LoadPipelineFile(
      *context, ".gitlab-ci.yml", &diags, input.fetcher, input.sources, input.root_text);
  if (loaded) out.pipeline = InstantiatePipeline(loaded->config, loaded->context, &diags);
  if (loaded) out.root = std::move(loaded->root);
  for (const Diagnostic& d : diags.items()) {
    if (d.severity == Severity::kWarning) out.warnings.push_back(d.Format());
  }
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
