#include "pipeline/pipeline_context.h"

#include "config/loader.h"
#include "pipeline/builder.h"
#include "util/git.h"

namespace slipway {

StatusOr<PipelineContext> MakePipelineContext(const ContextOptions& options) {
  PipelineContext context;
  context.project_dir = options.predefined.project_dir;
  StatusOr<RepositoryInfo> repo = ReadRepositoryInfo(options.predefined);
  if (!repo.ok()) return repo.status();
  context.predefined = PredefinedVariablesFor(*repo, options.predefined);
  if (!options.predefined.revision.empty()) {
    context.commit = repo->sha;
    context.commit_label = options.predefined.revision;
  }
  context.cli_variables = options.cli_variables;
  if (options.changes_since) {
    StatusOr<std::vector<std::string>> files =
        ChangedFilesSince(options.predefined.project_dir, *options.changes_since, context.commit);
    if (!files.ok()) return files.status();
    context.changed_files = *std::move(files);
  }
  return context;
}

std::optional<LoadedPipeline> LoadPipelineFile(PipelineContext context, const std::string& file,
                                               Diagnostics* diags, IncludeFetcher* fetcher,
                                               std::vector<IncludeSource>* sources,
                                               const std::string* root_text) {
  LoadedPipeline out;
  out.context = std::move(context);
  LoadOptions load;
  load.project_dir = out.context.project_dir;
  load.file = file;
  load.commit = out.context.commit;
  load.commit_label = out.context.commit_label;
  load.variables = out.context.predefined;
  load.variables.Merge(out.context.cli_variables);
  load.fetcher = fetcher;
  load.sources = sources;
  load.root_text = root_text;
  if (!LoadAndBuild(load, &out, diags)) return std::nullopt;
  return out;
}

bool LoadAndBuild(const LoadOptions& load, LoadedPipeline* out, Diagnostics* diags) {
  std::optional<Node> root = LoadConfig(load, diags);
  if (!root) return false;
  std::optional<PipelineConfig> config = BuildPipelineConfig(*root, diags);
  if (!config) return false;
  out->root = std::move(*root);
  out->config = std::move(*config);
  return true;
}

VariableList JobVariables(const Job& job, int64_t job_id, const VariableList& predefined,
                          const std::vector<const VariableList*>& dotenv,
                          const VariableList& pipeline_variables) {
  VariableList vars = predefined;
  vars.Merge(JobPredefinedVariables(job, job_id, predefined, job.variables));
  vars.Merge(job.variables);
  for (const VariableList* report : dotenv) vars.Merge(*report);
  vars.Merge(pipeline_variables);
  return vars;
}

VariableList FinalJobVariables(const Job& job, int64_t job_id, const PipelineContext& context) {
  return JobVariables(job, job_id, context.predefined, {}, context.cli_variables);
}

}  // namespace slipway
