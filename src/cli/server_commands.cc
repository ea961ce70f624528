// `slipway token create|list|revoke`, and what every server command shares.
#include "cli/server_commands.h"

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "server/project_spec.h"
#include "server/server_dirs.h"
#include "util/display_width.h"
#include "util/iso_time.h"

namespace slipway {

void AddDataOptions(CLI::App* cmd, DataOptions* options) {
  cmd->add_option("--data", options->data_dir, "The server's data directory")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->add_option("--database", options->database,
                  "sqlite:PATH or postgresql://... (default: sqlite:DATA/slipway.db)")
      ->type_name("URL");
  cmd->add_option("--secrets-key-file", options->secrets_key_file,
                  "Key that encrypts stored secrets; created if missing; servers sharing a "
                  "database share it (default: DATA/secrets.key)")
      ->type_name("FILE");
}

std::unique_ptr<Store> OpenDataStore(const DataOptions& options, Clock* clock) {
  UseServerUmask();
  std::string url =
      options.database.empty()
          ? "sqlite:" + (std::filesystem::path(options.data_dir) / "slipway.db").string()
          : options.database;
  bool postgres = url.starts_with("postgresql://") || url.starts_with("postgres://");
  std::string sqlite_path = url.starts_with("sqlite:") ? url.substr(7) : url;
  std::vector<std::string> sqlite_files;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    if (!postgres && sqlite_path != ":memory:") sqlite_files.push_back(sqlite_path + suffix);
  }
  std::vector<std::string> notes;
  Status secured = SecureDataDir(options.data_dir, sqlite_files, &notes);
  for (const std::string& note : notes) std::fprintf(stderr, "slipway: %s\n", note.c_str());
  if (!secured.ok()) {
    std::fprintf(stderr, "slipway: %s\n", secured.message().c_str());
    return nullptr;
  }
  StoreOptions store_options;
  store_options.clock = clock;
  store_options.secrets_key_file =
      options.secrets_key_file.empty()
          ? (std::filesystem::path(options.data_dir) / "secrets.key").string()
          : options.secrets_key_file;
  auto store = OpenStore(url, store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "slipway: %s\n", store.status().message().c_str());
    return nullptr;
  }
  return std::move(*store);
}

std::unique_ptr<Store> OpenExistingDataStore(const DataOptions& options) {
  std::error_code ec;
  std::filesystem::path db = std::filesystem::path(options.data_dir) / "slipway.db";
  if (options.database.empty() && !std::filesystem::exists(db, ec)) {
    std::fprintf(stderr, "slipway: no server data in %s (no %s); is --data right?\n",
                 options.data_dir.c_str(), db.c_str());
    return nullptr;
  }
  return OpenDataStore(options);
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      bool last = i + 1 == row.size();
      line += last ? row[i] : PadToWidth(row[i], widths[i]) + "  ";
    }
    std::printf("%s\n", line.c_str());
  }
}

namespace {

void AddTokenList(CLI::App* token, int* exit_code) {
  auto data = std::make_shared<DataOptions>();
  CLI::App* list =
      token->add_subcommand("list", "List the API tokens (never the tokens themselves)");
  AddDataOptions(list, data.get());
  list->callback([data, exit_code] {
    std::unique_ptr<Store> store = OpenExistingDataStore(*data);
    if (!store) {
      *exit_code = 1;
      return;
    }
    auto tokens = store->ListTokens();
    if (!tokens.ok()) {
      std::fprintf(stderr, "slipway: %s\n", tokens.status().message().c_str());
      *exit_code = 1;
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "name", "role", "created", "last used", "state"}};
    for (const TokenRecord& t : *tokens) {
      rows.push_back({std::to_string(t.id), t.name, TokenRoleName(t.role),
                      Iso8601Seconds(t.created_at),
                      t.last_used_at ? Iso8601Seconds(*t.last_used_at) : "never",
                      t.revoked ? "revoked" : "active"});
    }
    PrintTable(rows);
  });
}

void AddTokenRevoke(CLI::App* token, int* exit_code) {
  auto data = std::make_shared<DataOptions>();
  auto id = std::make_shared<int64_t>(0);
  CLI::App* revoke = token->add_subcommand(
      "revoke", "Revoke an API token; a running server refuses it within 5 s");
  AddDataOptions(revoke, data.get());
  revoke->add_option("id", *id, "The token's id (see `slipway token list`)")
      ->type_name("ID")
      ->required();
  revoke->callback([data, id, exit_code] {
    std::unique_ptr<Store> store = OpenExistingDataStore(*data);
    if (!store) {
      *exit_code = 1;
      return;
    }
    if (Status revoked = store->RevokeToken(*id); !revoked.ok()) {
      std::fprintf(stderr, "slipway: %s\n", revoked.message().c_str());
      *exit_code = 1;
      return;
    }
    std::printf("revoked token %lld\n", static_cast<long long>(*id));
  });
}

}  // namespace

void AddTokenCommand(CLI::App* app, int* exit_code) {
  CLI::App* token = app->add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  auto data = std::make_shared<DataOptions>();
  auto name = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>();
  CLI::App* create = token->add_subcommand("create", "Create a token; prints it (only this once)");
  AddDataOptions(create, data.get());
  create->add_option("--name", *name, "What the token is for")->type_name("NAME")->required();
  create->add_option("--role", *role, "read, run, admin, or runner (for `slipway runner`)")
      ->type_name("ROLE")
      ->required()
      ->check(CLI::IsMember({"read", "run", "admin", "runner"}));
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
  AddTokenList(token, exit_code);
  AddTokenRevoke(token, exit_code);
}

}  // namespace slipway
