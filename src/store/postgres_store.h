// The backend for teams that outgrow one file: SqlStore over a PostgreSQL
// connection (libpq), same schema in meaning as SQLite's.
#ifndef SLIPWAY_STORE_POSTGRES_STORE_H_
#define SLIPWAY_STORE_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "store/sql_store.h"

namespace slipway {

class SharedListener;

class PostgresStore : public SqlStore {
 public:
  // url: "postgresql://user@host:port/db?..." (libpq's URI syntax).
  // Connects, applies StoreOptions::postgres_schema, and migrates.
  static StatusOr<std::unique_ptr<PostgresStore>> Open(const std::string& url,
                                                       StoreOptions options = {});

  // LISTENs with a connection of its own, one for all the store's
  // subscribers (store/postgres_listener.h).
  StatusOr<std::unique_ptr<NoticeListener>> Listen(
      std::function<void(const ReplicaNotice&)> on_notice) override;

 private:
  using SqlStore::SqlStore;
  // Set by Open: the subscribers' one listening connection.
  std::shared_ptr<SharedListener> listener_;
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_POSTGRES_STORE_H_
