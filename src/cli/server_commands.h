// What `slipway serve`, `slipway project` and `slipway token` share: where
// the server's state lives.
#ifndef SLIPWAY_CLI_SERVER_COMMANDS_H_
#define SLIPWAY_CLI_SERVER_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "store/store.h"

namespace slipway {

struct DataOptions {
  std::string data_dir = "./slipway-data";
  std::string database;  // Empty: sqlite:DATA/slipway.db.
};

// Adds --data DIR and --database URL to cmd.
void AddDataOptions(CLI::App* cmd, DataOptions* options);

// Creates the data directory if needed and opens (and migrates) the store.
// Errors are printed to stderr; returns null then.
std::unique_ptr<Store> OpenDataStore(const DataOptions& options);

}  // namespace slipway

#endif  // SLIPWAY_CLI_SERVER_COMMANDS_H_
