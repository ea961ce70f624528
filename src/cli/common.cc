#include "cli/common.h"

#include <cstdio>
#include <cstdlib>

#include "config/network_fetcher.h"
#include "pipeline/builder.h"
#include "pipeline/merge_request.h"
#include "pipeline/pipeline_context.h"
#include "util/secret_mask.h"

namespace slipway {

void AddPipelineOptions(CLI::App* cmd, PipelineOptions* options) {
  cmd->add_option("-C,--directory", options->project_dir, "Project directory")
      ->capture_default_str();
  cmd->add_option("-f,--file", options->file, "Pipeline file, relative to the project directory")
      ->capture_default_str();
  cmd->add_option("--variable", options->variables,
                  "KEY=VALUE, overrides every other variable (repeatable)");
  cmd->add_option("--secret", options->secrets,
                  "KEY or KEY=VALUE: a variable, as --variable, whose value is shown as [MASKED] "
                  "in job logs; KEY alone takes the value of KEY in slipway's environment "
                  "(repeatable)");
  cmd->add_option("--ref", options->ref,
                  "Use this commit (branch, tag or SHA) exactly as committed: its pipeline file, "
                  "its files and CI_COMMIT_* variables, not the working tree");
  cmd->add_option("--merge-request", options->merge_request,
                  "Run as a merge-request pipeline of the current branch into TARGET "
                  "(CI_PIPELINE_SOURCE=merge_request_event, CI_MERGE_REQUEST_*; rules:changes "
                  "compare with the merge base)");
  // What the values are, for the usage, the man page and the completions.
  cmd->get_option("--directory")->type_name("DIR");
  cmd->get_option("--file")->type_name("FILE");
  cmd->get_option("--variable")->type_name("KEY=VALUE");
  cmd->get_option("--secret")->type_name("KEY[=VALUE]");
  cmd->get_option("--ref")->type_name("REV");
  cmd->get_option("--merge-request")->type_name("TARGET");
  cmd->add_flag("--offline", options->offline,
                "Read remote and template includes only from the include cache; fail naming "
                "any include it lacks");
  cmd->add_flag("--allow-http-includes", options->allow_http_includes,
                "Allow remote includes over plain HTTP (only HTTPS otherwise)");
  cmd->add_flag("--refresh-includes", options->refresh_includes,
                "Fetch remote, template and project includes again even when the cache has them");
  cmd->add_option("--include-server", options->include_server,
                  "Where include:project finds projects (a git URL or directory; the project's "
                  "repository is URL/PROJECT.git); default: the forge of the origin remote")
      ->type_name("URL");
}

std::optional<LoadedPipeline> LoadPipelineFromOptions(const PipelineOptions& options,
                                                      Diagnostics* diags,
                                                      std::vector<IncludeSource>* sources) {
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
  context.cli_variables.Merge(SecretVariables(options, diags));
  if (diags->HasErrors()) return std::nullopt;
  if (const std::string* source = context.cli_variables.Get("CI_PIPELINE_SOURCE")) {
    context.predefined.pipeline_source = *source;
  }
  StatusOr<PipelineContext> made = MakePipelineContext(context);
  if (!made.ok()) {
    diags->Error({options.project_dir}, made.status().message());
    return std::nullopt;
  }
  if (!options.merge_request.empty()) {
    StatusOr<MergeRequest> mr = LocalMergeRequest(*made, options.merge_request);
    Status applied = mr.ok() ? ApplyMergeRequest(*mr, &*made) : mr.status();
    if (!applied.ok()) {
      diags->Error({options.project_dir}, applied.message());
      return std::nullopt;
    }
  }
  std::unique_ptr<IncludeFetcher> fetcher = MakeIncludeFetcher(options);
  return LoadPipelineFile(std::move(*made), options.file, diags, fetcher.get(), sources);
}

VariableList SecretVariables(const PipelineOptions& options, Diagnostics* diags) {
  VariableList secrets;
  for (const std::string& arg : options.secrets) {
    size_t eq = arg.find('=');
    std::string key = arg.substr(0, eq);
    std::optional<std::string> value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (const char* env = std::getenv(key.c_str())) {
      value = env;
    }
    if (key.empty()) {
      diags->Error({"--secret"}, "expected KEY or KEY=VALUE, got '" + arg + "'");
    } else if (!value) {
      diags->Error({"--secret"}, key + " is not set in slipway's environment (--secret " + key +
                                     " takes its value from there)");
    } else if (std::string why = ValidateMaskedValue(*value); !why.empty()) {
      diags->Error({"--secret"}, key + ": " + why);
    } else {
      secrets.Set(key, *value);
    }
  }
  return secrets;
}

std::unique_ptr<IncludeFetcher> MakeIncludeFetcher(const PipelineOptions& options) {
  FetchOptions fetch = FetchOptionsFromEnvironment();
  fetch.http.allow_http = options.allow_http_includes;
  fetch.offline = options.offline;
  fetch.refresh = options.refresh_includes;
  fetch.include_server = options.include_server;
  fetch.project_dir = options.project_dir;
  return std::make_unique<NetworkFetcher>(std::move(fetch));
}

void PrintDiagnostics(const Diagnostics& diags) {
  for (const Diagnostic& d : diags.items()) std::fprintf(stderr, "%s\n", d.Format().c_str());
}

}  // namespace slipway
