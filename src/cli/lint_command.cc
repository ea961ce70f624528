// `slipway lint`: validate the pipeline file, then simulate creating its
// pipeline for the current git state, as GitLab's CI Lint does with its
// pipeline simulation (dry run): rules, needs on jobs that rules removed,
// workflow:name; trigger: jobs and the child pipelines whose files are
// known (pipeline/trigger_lint.h). Exit 0 with a one-line summary that names the simulated
// ref, or every error on stderr and exit 1.
#include <cstdio>
#include <set>

#include "cli/commands.h"
#include "cli/common.h"
#include "pipeline/trigger_lint.h"

namespace slipway {
namespace {

// What the pipeline was simulated for, as rules see it: "branch main" or
// "tag v1.0", with ", source schedule" for anything but a push; "merge
// request feature into main" for --merge-request.
std::string SimulatedFor(const PipelineContext& context) {
  VariableList vars = context.predefined;
  vars.Merge(context.cli_variables);
  auto get = [&](std::string_view name) {
    const std::string* value = vars.Get(name);
    return value != nullptr ? *value : std::string();
  };
  if (vars.Get("CI_MERGE_REQUEST_IID") != nullptr) {
    return "merge request " + get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") + " into " +
           get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME");
  }
  std::string out = vars.Get("CI_COMMIT_TAG") != nullptr ? "tag " + get("CI_COMMIT_TAG")
                                                         : "branch " + get("CI_COMMIT_REF_NAME");
  std::string source = get("CI_PIPELINE_SOURCE");
  if (!source.empty() && source != "push") out += ", source " + source;
  return out;
}

std::string Plural(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

void AddLintCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<PipelineOptions>();
  CLI::App* cmd = app->add_subcommand("lint", "Validate a pipeline file and its includes");
  AddPipelineOptions(cmd, options.get());
  cmd->callback([options, exit_code] {
    Diagnostics diags;
    std::optional<LoadedPipeline> loaded = LoadPipelineFromOptions(*options, &diags);
    std::optional<Pipeline> pipeline;
    std::string simulated;
    if (loaded) {
      simulated = " (simulated for " + SimulatedFor(loaded->context);
      pipeline = InstantiatePipeline(loaded->config, loaded->context, &diags);
      if (pipeline && !pipeline->created) {
        simulated += ": no pipeline: " + pipeline->not_created_reason;
      }
      simulated += ")";
    }
    int children = 0;
    if (loaded) {
      std::unique_ptr<IncludeFetcher> fetcher = MakeIncludeFetcher(*options);
      children = CheckTriggerJobs(*loaded, fetcher.get(), &diags);
    }
    PrintDiagnostics(diags);
    // Named as diagnostics name it: `REV:path` when read from a commit.
    std::string file = options->ref.empty() ? options->file : options->ref + ":" + options->file;
    if (!pipeline || diags.HasErrors()) {
      std::fprintf(stderr, "%s: invalid: %s%s\n", file.c_str(),
                   Plural(diags.ErrorCount(), "error").c_str(), simulated.c_str());
      *exit_code = 1;
      return;
    }
    std::set<std::string> used_stages;
    for (const Job& job : loaded->config.jobs) used_stages.insert(job.stage);
    std::string warnings;
    if (diags.WarningCount() > 0) warnings = ", " + Plural(diags.WarningCount(), "warning");
    std::string child_text;
    if (children > 0) child_text = ", " + Plural(children, "child pipeline");
    std::printf("%s: valid: %s in %s%s%s%s\n", file.c_str(),
                Plural(static_cast<int>(loaded->config.jobs.size()), "job").c_str(),
                Plural(static_cast<int>(used_stages.size()), "stage").c_str(), child_text.c_str(),
                warnings.c_str(), simulated.c_str());
    *exit_code = 0;
  });
}

}  // namespace slipway
