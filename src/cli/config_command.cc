// `slipway config`: the fully merged configuration (includes, anchors,
// !reference and extends resolved) as YAML, like GitLab's "full configuration" view.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "config/emit.h"
#include "config/loader.h"
#include "config/extends.h"

namespace slipway {

void AddConfigCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<PipelineOptions>();
  CLI::App* cmd = app->add_subcommand("config", "Print the merged configuration as YAML");
  AddPipelineOptions(cmd, options.get());
  cmd->callback([options, exit_code] {
    Diagnostics diags;
    std::optional<LoadedPipeline> loaded = LoadPipelineFromOptions(*options, &diags);
    PrintDiagnostics(diags);
    if (!loaded) {
      *exit_code = 1;
      return;
    }
    // The pipeline was valid, so extends resolves without errors here.
    Node merged = loaded->root;
    Diagnostics ignored;
    ResolveExtends(&merged.entries, &ignored);
    std::string yaml = EmitYaml(merged);
    std::fwrite(yaml.data(), 1, yaml.size(), stdout);
    *exit_code = 0;
  });
}

}  // namespace slipway
