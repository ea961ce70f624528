// The embedded default backend: SqlStore over one SQLite file.
#ifndef SLIPWAY_STORE_SQLITE_STORE_H_
#define SLIPWAY_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "store/sql_store.h"

namespace slipway {

class SqliteStore : public SqlStore {
 public:
  // Opens or creates the database file at path and migrates it.
  static StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                     StoreOptions options = {});

 private:
  using SqlStore::SqlStore;
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_SQLITE_STORE_H_
