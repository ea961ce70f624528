#include "store/postgres_store.h"

#include "store/migrations.h"
#include "store/postgres_database.h"
#include "store/postgres_listener.h"

namespace slipway {

StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url,
                                                             StoreOptions options) {
  auto db = PostgresDatabase::Open(url, options.postgres_schema);
  if (!db.ok()) return db.status();
  if (Status s = Migrate(db->get()); !s.ok()) return s;
  std::string schema = options.postgres_schema;
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(*db), std::move(options)));
  store->listener_ = std::make_shared<SharedListener>(url, std::move(schema));
  if (Status s = store->SetUpSecrets(); !s.ok()) return s;
  return store;
}

StatusOr<std::unique_ptr<NoticeListener>> PostgresStore::Listen(
    std::function<void(const ReplicaNotice&)> on_notice) {
  return listener_->Subscribe(std::move(on_notice));
}

}  // namespace slipway
