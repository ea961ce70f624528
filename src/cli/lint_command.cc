// `slipway lint`: validate the pipeline; exit 0 with a one-line summary, or
// every error on stderr and exit 1.
#include <cstdio>
#include <set>

#include "cli/commands.h"
#include "cli/common.h"

namespace slipway {

void AddLintCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<PipelineOptions>();
  CLI::App* cmd = app->add_subcommand("lint", "Validate a pipeline file and its includes");
  AddPipelineOptions(cmd, options.get());
  cmd->callback([options, exit_code] {
    Diagnostics diags;
    std::optional<LoadedPipeline> loaded = LoadPipeline(*options, &diags, ContextUse::kIncludesOnly);
    PrintDiagnostics(diags);
    // Named as diagnostics name it: `REV:path` when read from a commit.
    std::string file = options->ref.empty() ? options->file : options->ref + ":" + options->file;
    if (!loaded) {
      std::fprintf(stderr, "%s: invalid: %d error%s\n", file.c_str(),
                   diags.ErrorCount(), diags.ErrorCount() == 1 ? "" : "s");
      *exit_code = 1;
      return;
    }
    std::set<std::string> used_stages;
    for (const Job& job : loaded->config.jobs) used_stages.insert(job.stage);
    int warnings = diags.WarningCount();
    std::printf("%s: valid: %zu jobs in %zu stages", file.c_str(),
                loaded->config.jobs.size(), used_stages.size());
    if (warnings > 0) std::printf(", %d warning%s", warnings, warnings == 1 ? "" : "s");
    std::printf("\n");
    *exit_code = 0;
  });
}

}  // namespace slipway
