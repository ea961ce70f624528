// What `slipway serve`, `slipway project` and `slipway token` share: where
// the server's state lives.
#ifndef SLIPWAY_CLI_SERVER_COMMANDS_H_
#define SLIPWAY_CLI_SERVER_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace slipway {

struct DataOptions {
  std::string data_dir = "./slipway-data";
  std::string database;          // Empty: sqlite:DATA/slipway.db.
  std::string secrets_key_file;  // Empty: DATA/secrets.key.
};

// Adds --data DIR, --database URL and --secrets-key-file FILE to cmd.
void AddDataOptions(CLI::App* cmd, DataOptions* options);

// Sets the umask to 077 (server/server_dirs.h), creates the data directory
// if needed and narrows its mode (and the SQLite files') to the server's
// user, then opens (and migrates) the store with the secrets key. Errors are
// printed to stderr; returns null then. Call before any thread starts.
// clock (null: the machine's) stamps the store's rows and must outlive it.
std::unique_ptr<Store> OpenDataStore(const DataOptions& options, Clock* clock = nullptr);

// OpenDataStore for commands that read or change what is there (`list`,
// `revoke`, `remove`): a --data that holds no server data is an error, and
// no directory is made where a mistyped --data points.
std::unique_ptr<Store> OpenExistingDataStore(const DataOptions& options);

// A table for the terminal: columns padded to their widest cell (display
// width), two spaces apart; the last column is not padded.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace slipway

#endif  // SLIPWAY_CLI_SERVER_COMMANDS_H_
