// Shell completion scripts for bash, zsh and fish, made from the command
// definitions (cli/command_tree.h): subcommands, options with their
// descriptions, the values of options that list them (`--color`), and file
// names for other option values and for arguments.
#ifndef SLIPWAY_CLI_COMPLETIONS_H_
#define SLIPWAY_CLI_COMPLETIONS_H_

#include <string>
#include <vector>

#include "cli/command_tree.h"
#include "util/status.h"

namespace slipway {

// The script for shell ("bash", "zsh" or "fish"); an error naming the
// shells for any other. Installed as (cmake --install):
//   bash: share/bash-completion/completions/slipway
//   zsh:  share/zsh/site-functions/_slipway
//   fish: share/fish/vendor_completions.d/slipway.fish
StatusOr<std::string> CompletionScript(const std::string& shell,
                                       const std::vector<CommandDoc>& commands);

}  // namespace slipway

#endif  // SLIPWAY_CLI_COMPLETIONS_H_
