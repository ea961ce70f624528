#include "cli/common.h"

#include <cstdio>

#include "config/loader.h"
#include "pipeline/builder.h"
#include "pipeline/pipeline_context.h"

namespace slipway {

void AddPipelineOptions(CLI::App* cmd, PipelineOptions* options) {
  cmd->add_option("-C,--directory", options->project_dir, "Project directory")
      ->capture_default_str();
  cmd->add_option("-f,--file", options->file, "Pipeline file, relative to the project directory")
      ->capture_default_str();
  cmd->add_option("--variable", options->variables,
                  "KEY=VALUE, overrides every other variable (repeatable)");
  cmd->add_option("--ref", options->ref,
                  "Use this commit (branch, tag or SHA) exactly as committed: its pipeline file, "
                  "its files and CI_COMMIT_* variables, not the working tree");
  // What the values are, for the usage, the man page and the completions.
  cmd->get_option("--directory")->type_name("DIR");
  cmd->get_option("--file")->type_name("FILE");
  cmd->get_option("--variable")->type_name("KEY=VALUE");
  cmd->get_option("--ref")->type_name("REV");
}

std::optional<LoadedPipeline> LoadPipeline(const PipelineOptions& options, Diagnostics* diags,
                                           ContextUse use) {
  ContextOptions context;
  context.predefined.project_dir = options.project_dir;
  context.predefined.config_path = options.file;
  context.predefined.revision = options.ref;
  for (const std::string& kv : options.variables) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      diags->Error({"--variable"}, "expected KEY=VALUE, got '" + kv + "'");
      continue;
    }
    context.cli_variables.Set(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (diags->HasErrors()) return std::nullopt;
  if (const std::string* source = context.cli_variables.Get("CI_PIPELINE_SOURCE")) {
    context.predefined.pipeline_source = *source;
  }
  // A commit to read from is resolved with the rest of the context.
  if (use == ContextUse::kNeeded || !options.ref.empty()) {
    StatusOr<PipelineContext> made = MakePipelineContext(context);
    if (!made.ok()) {
      diags->Error({options.project_dir}, made.status().message());
      return std::nullopt;
    }
    return LoadPipelineFile(std::move(*made), options.file, diags);
  }
  LoadedPipeline out;
  LoadOptions load;
  load.project_dir = options.project_dir;
  load.file = options.file;
  // The one error MakePipelineContext can give, reported as eagerly.
  if (Status dir = CheckProjectDirectory(options.project_dir); !dir.ok()) {
    diags->Error({options.project_dir}, dir.message());
    return std::nullopt;
  }
  out.context.project_dir = options.project_dir;
  out.context.cli_variables = context.cli_variables;
  load.lazy_variables = [&context, &out] {
    if (StatusOr<PipelineContext> made = MakePipelineContext(context); made.ok()) {
      out.context = *std::move(made);
    }
    VariableList variables = out.context.predefined;
    variables.Merge(out.context.cli_variables);
    return variables;
  };
  if (!LoadAndBuild(load, &out, diags)) return std::nullopt;
  return out;
}

void PrintDiagnostics(const Diagnostics& diags) {
  for (const Diagnostic& d : diags.items()) std::fprintf(stderr, "%s\n", d.Format().c_str());
}

}  // namespace slipway
