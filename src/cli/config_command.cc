// `slipway config`: the fully merged configuration (includes, anchors,
// !reference and extends resolved) as YAML, like GitLab's "full configuration" view.
// `slipway config --sources`: instead, every file that was read and where
// from, one a line: "NAME<TAB>ORIGIN" (ORIGIN: `local`, or the URL with
// credentials masked, followed by " (cached)" when read from the include cache).
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "config/emit.h"
#include "config/extends.h"
#include "config/loader.h"

namespace slipway {

void AddConfigCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<PipelineOptions>();
  auto sources = std::make_shared<bool>(false);
  CLI::App* cmd = app->add_subcommand("config", "Print the merged configuration as YAML");
  AddPipelineOptions(cmd, options.get());
  cmd->add_flag("--sources", *sources,
                "Print every file read (the pipeline file and its includes) and where from, "
                "instead of the configuration");
  cmd->callback([options, sources, exit_code] {
    Diagnostics diags;
    std::vector<IncludeSource> read;
    std::optional<LoadedPipeline> loaded = LoadPipelineFromOptions(*options, &diags, &read);
    PrintDiagnostics(diags);
    if (!loaded) {
      *exit_code = 1;
      return;
    }
    if (*sources) {
      for (const IncludeSource& source : read) {
        std::printf("%s\t%s%s\n", source.name.c_str(), source.origin.c_str(),
                    source.from_cache ? " (cached)" : "");
      }
      *exit_code = 0;
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
