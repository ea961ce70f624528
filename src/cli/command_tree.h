// slipway's commands as data, read from the CLI11 definitions the program
// parses with, so that the man page and the shell completions made from it
// (cli/man_page.h, cli/completions.h) cannot drift from the real options.
#ifndef SLIPWAY_CLI_COMMAND_TREE_H_
#define SLIPWAY_CLI_COMMAND_TREE_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace slipway {

struct OptionDoc {
  std::vector<std::string> flags;    // "-C", "--directory"; empty for a positional.
  std::string name;                  // A positional's name ("job"); else the value's type.
  std::string value;                 // "TEXT", "INT"; empty for a flag without a value.
  std::vector<std::string> choices;  // The accepted values, when a validator lists them.
  std::string description;
  std::string default_value;  // Empty: none shown.
  bool required = false;
  bool repeatable = false;
};

struct CommandDoc {
  std::vector<std::string> path;  // {} for slipway itself, {"project", "add"}.
  std::string description;
  std::vector<OptionDoc> options;        // Without -h/--help.
  std::vector<OptionDoc> positionals;    // In order.
  std::vector<std::string> subcommands;  // Visible ones, in definition order.
  bool needs_subcommand = false;

  // "slipway project add".
  std::string Title() const;
  // Title() with the arguments: "slipway run [OPTIONS] [job...]".
  std::string Synopsis() const;
};

// root and every visible subcommand below it, depth first in definition
// order (root first). Hidden subcommands (no group) are left out.
std::vector<CommandDoc> DescribeCommands(const CLI::App& root);

}  // namespace slipway

#endif  // SLIPWAY_CLI_COMMAND_TREE_H_
