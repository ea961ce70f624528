#include "store/store.h"

#include "store/migrations.h"
#include "store/postgres_database.h"
#include "store/postgres_store.h"
#include "store/sqlite_database.h"
#include "store/sqlite_store.h"

namespace slipway {

const char* TokenRoleName(TokenRole r) {
  switch (r) {
    case TokenRole::kRead:
      return "read";
    case TokenRole::kRun:
      return "run";
    case TokenRole::kAdmin:
      return "admin";
  }
  return "read";
}

std::optional<TokenRole> ParseTokenRole(std::string_view name) {
  if (name == "read") return TokenRole::kRead;
  if (name == "run") return TokenRole::kRun;
  if (name == "admin") return TokenRole::kAdmin;
  return std::nullopt;
}

StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                         StoreOptions options) {
  auto db = SqliteDatabase::Open(path);
  if (!db.ok()) return db.status();
  if (Status s = Migrate(db->get()); !s.ok()) return s;
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(*db), std::move(options)));
  if (Status s = store->SetUpSecrets(); !s.ok()) return s;
  return store;
}

StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url,
                                                             StoreOptions options) {
  auto db = PostgresDatabase::Open(url, options.postgres_schema);
  if (!db.ok()) return db.status();
  if (Status s = Migrate(db->get()); !s.ok()) return s;
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(*db), std::move(options)));
  if (Status s = store->SetUpSecrets(); !s.ok()) return s;
  return store;
}

StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url, StoreOptions options) {
  std::string u(url);
  if (u.rfind("postgresql://", 0) == 0 || u.rfind("postgres://", 0) == 0) {
    auto store = PostgresStore::Open(u, std::move(options));
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  }
  if (u.rfind("sqlite:", 0) == 0) u = u.substr(7);
  if (u.empty()) return Status::Error("database path is empty");
  auto store = SqliteStore::Open(u, std::move(options));
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace slipway
