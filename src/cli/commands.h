// Each subcommand registers itself on the app and stores its exit code.
#ifndef SLIPWAY_CLI_COMMANDS_H_
#define SLIPWAY_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace slipway {

void AddLintCommand(CLI::App* app, int* exit_code);
void AddListCommand(CLI::App* app, int* exit_code);
void AddConfigCommand(CLI::App* app, int* exit_code);
void AddRunCommand(CLI::App* app, int* exit_code);
void AddRunsCommand(CLI::App* app, int* exit_code);  // runs and show
void AddServeCommand(CLI::App* app, int* exit_code);
void AddRunnerCommand(CLI::App* app, int* exit_code);  // runner_command.cc
void AddProjectCommand(CLI::App* app, int* exit_code);
// project set|remove (project_change_command.cc), under `project`.
void AddProjectChangeCommands(CLI::App* project, int* exit_code);
void AddTokenCommand(CLI::App* app, int* exit_code);
void AddDoraCommand(CLI::App* app, int* exit_code);  // dora_command.cc
void AddScheduleCommand(CLI::App* app, int* exit_code);
void AddImageCommand(CLI::App* app, int* exit_code);  // image pull|ls|rm|prune|import
// Hidden: __man and __completions SHELL, run by the build.
void AddDocsCommands(CLI::App* app, int* exit_code);

}  // namespace slipway

#endif  // SLIPWAY_CLI_COMMANDS_H_
