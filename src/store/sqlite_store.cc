#include "store/sqlite_store.h"

#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace slipway {

StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                         StoreOptions options) {
  auto db = SqliteDatabase::Open(path);
  if (!db.ok()) return db.status();
  if (Status s = Migrate(db->get()); !s.ok()) return s;
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(*db), std::move(options)));
  if (Status s = store->SetUpSecrets(); !s.ok()) return s;
  return store;
}

}  // namespace slipway
