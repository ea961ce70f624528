// `slipway token create`, and the options every server command shares.
#include "cli/server_commands.h"

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"

namespace slipway {

void AddDataOptions(CLI::App* cmd, DataOptions* options) {
  cmd->add_option("--data", options->data_dir, "The server's data directory")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->add_option("--database", options->database,
                  "sqlite:PATH or postgresql://... (default: sqlite:DATA/slipway.db)")
      ->type_name("URL");
}

std::unique_ptr<Store> OpenDataStore(const DataOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "slipway: cannot create %s: %s\n", options.data_dir.c_str(),
                 ec.message().c_str());
    return nullptr;
  }
  std::string url = options.database.empty()
                        ? "sqlite:" + (std::filesystem::path(options.data_dir) / "slipway.db").string()
                        : options.database;
  auto store = OpenStore(url);
  if (!store.ok()) {
    std::fprintf(stderr, "slipway: %s\n", store.status().message().c_str());
    return nullptr;
  }
  return std::move(*store);
}

void AddTokenCommand(CLI::App* app, int* exit_code) {
  CLI::App* token = app->add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  auto data = std::make_shared<DataOptions>();
  auto name = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>();
  CLI::App* create = token->add_subcommand("create", "Create a token; prints it (only this once)");
  AddDataOptions(create, data.get());
  create->add_option("--name", *name, "What the token is for")->type_name("NAME")->required();
  create->add_option("--role", *role, "read, run or admin")
      ->type_name("ROLE")
      ->required()
      ->check(CLI::IsMember({"read", "run", "admin"}));
  create->callback([data, name, role, exit_code] {
    std::unique_ptr<Store> store = OpenDataStore(*data);
    if (!store) {
      *exit_code = 1;
      return;
    }
    auto created = store->CreateToken(*name, *ParseTokenRole(*role));
    if (!created.ok()) {
      std::fprintf(stderr, "slipway: %s\n", created.status().message().c_str());
      *exit_code = 1;
      return;
    }
    std::printf("%s\n", created->raw.c_str());
  });
}

}  // namespace slipway
