#include "store/postgres_store.h"

#include "store/migrations.h"
#include "store/postgres_database.h"

namespace slipway {

StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url,
                                                             StoreOptions options) {
  auto db = PostgresDatabase::Open(url, options.postgres_schema);
  if (!db.ok()) return db.status();
  if (Status s = Migrate(db->get()); !s.ok()) return s;
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(*db), std::move(options)));
  if (Status s = store->SetUpSecrets(); !s.ok()) return s;
  return store;
}

}  // namespace slipway
