// `slipway help [COMMAND...]`, and what a mistaken command line gets: the
// usage of the command it named (a missing subcommand), or the error and
// where to find the usage.
#ifndef SLIPWAY_CLI_HELP_H_
#define SLIPWAY_CLI_HELP_H_

#include <CLI/CLI.hpp>
#include <string>

namespace slipway {

// Adds `help [COMMAND...]` to app (the root): it prints the usage of the
// named command, its options and subcommands, on stdout; exit 2 with the
// nearest command's name for an unknown one.
void AddHelpCommand(CLI::App* app, int* exit_code);

// After app.parse threw e: prints what the user needs on stderr and returns
// the exit code (0 for --help and --version, which print on stdout; else 2).
// A command that needs a subcommand and got none (`slipway`,
// `slipway project`) gets its usage; an unknown subcommand gets "did you
// mean"; any other error names `slipway help COMMAND`.
int ReportParseError(CLI::App* app, const CLI::ParseError& e);

// "slipway project add": the command line that reaches command.
std::string CommandPath(const CLI::App* command);

}  // namespace slipway

#endif  // SLIPWAY_CLI_HELP_H_
