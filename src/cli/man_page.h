// slipway(1): the man page, made from the command definitions.
#ifndef SLIPWAY_CLI_MAN_PAGE_H_
#define SLIPWAY_CLI_MAN_PAGE_H_

#include <string>
#include <vector>

#include "cli/command_tree.h"

namespace slipway {

// The man page in roff (man macros) for commands (DescribeCommands: root
// first): every command with its description, arguments and options, then
// environment, exit status and files. No date, so that a build reproduces it.
std::string ManPage(const std::vector<CommandDoc>& commands, const std::string& version);

}  // namespace slipway

#endif  // SLIPWAY_CLI_MAN_PAGE_H_
