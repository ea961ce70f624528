#include "store/store.h"

#include "store/postgres_store.h"
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
    case TokenRole::kRunner:
      return "runner";
  }
  return "read";
}

std::optional<TokenRole> ParseTokenRole(std::string_view name) {
  if (name == "read") return TokenRole::kRead;
  if (name == "run") return TokenRole::kRun;
  if (name == "admin") return TokenRole::kAdmin;
  if (name == "runner") return TokenRole::kRunner;
  return std::nullopt;
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
