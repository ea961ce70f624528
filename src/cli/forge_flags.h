// The forge flags of `slipway project add` and `slipway project set`
// (--forge, --forge-url, --forge-project, --forge-token-env): where a
// project's commit statuses go (server/forge_status.h). The token comes from
// the environment variable --forge-token-env names, never the command line
// (which `ps` shows).
#ifndef SLIPWAY_CLI_FORGE_FLAGS_H_
#define SLIPWAY_CLI_FORGE_FLAGS_H_

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "store/store.h"
#include "util/status.h"

namespace slipway {

// Each unset when its flag is not given.
struct ForgeFlags {
  std::optional<std::string> kind, api_url, forge_project, token_env;
  bool any() const { return kind || api_url || forge_project || token_env; }
};

// Adds the four flags to cmd. For `set`, `--forge ''` removes the forge.
void AddForgeFlags(CLI::App* cmd, ForgeFlags* flags, bool for_set);

// The project's forge once flags are applied to current (nullopt: it has
// none), checked (CheckForgeSettings); nullopt when it then has none. A
// --forge that changes the kind starts afresh (URL and token must be given
// again: another forge's would be wrong); --forge-project defaults to
// current's, else to default_project. Errors say which flag is wrong.
StatusOr<std::optional<ProjectForgeSettings>> ApplyForgeFlags(
    const ForgeFlags& flags, const std::optional<ProjectForgeSettings>& current,
    const std::string& default_project);

}  // namespace slipway

#endif  // SLIPWAY_CLI_FORGE_FLAGS_H_
