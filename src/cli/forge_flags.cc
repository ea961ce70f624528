#include "cli/forge_flags.h"

#include <cstdlib>

#include "server/forge_status.h"

namespace slipway {

void AddForgeFlags(CLI::App* cmd, ForgeFlags* flags, bool for_set) {
  cmd->add_option("--forge", flags->kind,
                  for_set ? "Post commit statuses to this forge: gitlab, github or gitea ('': "
                            "none)"
                          : "Post a commit status for every pipeline state to this forge: gitlab, "
                            "github or gitea")
      ->type_name("KIND");
  cmd->add_option("--forge-url", flags->api_url,
                  "The forge's API base URL (default for github: https://api.github.com)")
      ->type_name("URL");
  cmd->add_option("--forge-project", flags->forge_project,
                  "The project on the forge: GitLab's id or path, GitHub's and Gitea's "
                  "owner/repo (default: --path)")
      ->type_name("PROJECT");
  cmd->add_option("--forge-token-env", flags->token_env,
                  "The environment variable that holds the forge's API token (stored "
                  "encrypted, never shown)")
      ->type_name("VARIABLE");
}

StatusOr<std::optional<ProjectForgeSettings>> ApplyForgeFlags(
    const ForgeFlags& flags, const std::optional<ProjectForgeSettings>& current,
    const std::string& default_project) {
  bool others = flags.api_url || flags.forge_project || flags.token_env;
  if (flags.kind && flags.kind->empty()) {
    if (others) {
      return Status::Error(
          "--forge '' removes the forge: it takes no --forge-url, "
          "--forge-project or --forge-token-env");
    }
    return std::optional<ProjectForgeSettings>();
  }
  if (!flags.kind && !current) {
    if (others)
      return Status::Error("--forge-url, --forge-project and --forge-token-env need --forge");
    return std::optional<ProjectForgeSettings>();
  }
  ProjectForgeSettings settings;
  if (current) settings = *current;
  if (flags.kind && (!current || *flags.kind != current->kind)) {
    // Another forge: its URL and token are not the old one's.
    settings.kind = *flags.kind;
    settings.api_url.clear();
    settings.token.clear();
  }
  if (flags.api_url) settings.api_url = *flags.api_url;
  if (flags.forge_project) settings.forge_project = *flags.forge_project;
  if (settings.forge_project.empty()) settings.forge_project = default_project;
  if (flags.token_env) {
    const char* token = std::getenv(flags.token_env->c_str());
    if (token == nullptr || *token == '\0') {
      return Status::Error("--forge-token-env " + *flags.token_env +
                           ": not set in slipway's environment");
    }
    settings.token = token;
  }
  if (Status s = CheckForgeSettings(&settings); !s.ok()) return s;
  return std::optional<ProjectForgeSettings>(std::move(settings));
}

}  // namespace slipway
