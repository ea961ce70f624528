#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/help.h"

namespace slipway {

int RunCli(int argc, char** argv) {
  CLI::App app{"slipway: run GitLab CI pipelines on this machine, exactly as GitLab would",
               "slipway"};
  app.set_version_flag("--version", std::string("slipway ") + SLIPWAY_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  AddLintCommand(&app, &exit_code);
  AddListCommand(&app, &exit_code);
  AddConfigCommand(&app, &exit_code);
  AddRunCommand(&app, &exit_code);
  AddRunsCommand(&app, &exit_code);
  AddServeCommand(&app, &exit_code);
  AddRunnerCommand(&app, &exit_code);
  AddProjectCommand(&app, &exit_code);
  AddTokenCommand(&app, &exit_code);
  AddDoraCommand(&app, &exit_code);
  AddScheduleCommand(&app, &exit_code);
  AddImageCommand(&app, &exit_code);
  AddHelpCommand(&app, &exit_code);
  AddDocsCommands(&app, &exit_code);
  app.footer("Run `slipway help COMMAND` for a command's options and subcommands.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors are invalid input: exit 2.
    return ReportParseError(&app, e);
  }
  return exit_code;
}

}  // namespace slipway
