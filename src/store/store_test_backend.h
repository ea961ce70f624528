// Test support: runs a store test against each backend. SQLite uses a fresh
// temporary directory; PostgreSQL uses the server named by
// SLIPWAY_TEST_POSTGRES_URL (scripts/postgres.sh starts one) with a fresh
// schema per test, and skips when the variable is unset.
#ifndef SLIPWAY_STORE_STORE_TEST_BACKEND_H_
#define SLIPWAY_STORE_STORE_TEST_BACKEND_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "store/libpq.h"
#include "store/postgres_database.h"
#include "store/sqlite_database.h"
#include "store/store.h"

// Tests build filters with designated initializers; GCC 12 warns about the
// members they leave at their defaults (GCC bug 96868), which is the point.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace slipway {

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      const char* url = std::getenv("SLIPWAY_TEST_POSTGRES_URL");
      if (url == nullptr || *url == '\0') {
        GTEST_SKIP() << "SLIPWAY_TEST_POSTGRES_URL is not set; start a server with "
                        "`export SLIPWAY_TEST_POSTGRES_URL=$(scripts/postgres.sh start)`";
      }
      url_ = url;
      std::random_device random;
      schema_ = "test_" + std::to_string(getpid()) + "_" + std::to_string(random());
    } else {
      char dir_template[] = "/tmp/slipway-store-XXXXXX";
      ASSERT_NE(mkdtemp(dir_template), nullptr);
      dir_ = dir_template;
      url_ = "sqlite:" + dir_ + "/slipway.db";
    }
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    if (!schema_.empty()) {
      StatusOr<const LibPq*> pq = LoadLibPq();
      ASSERT_TRUE(pq.ok()) << pq.status().message();
      PGconn* conn = (*pq)->PQconnectdb(url_.c_str());
      (*pq)->PQsetNoticeProcessor(
          conn, [](void*, const char*) {}, nullptr);
      (*pq)->PQclear(
          (*pq)->PQexec(conn, ("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE").c_str()));
      (*pq)->PQfinish(conn);
    }
  }

  StoreOptions Options() {
    StoreOptions options;
    options.clock = &clock_;
    options.postgres_schema = schema_;
    options.secrets_key_file = secrets_key_file_;
    return options;
  }

  // Closes the store and opens the same database again.
  void Reopen() {
    store_.reset();
    auto opened = OpenStore(url_, Options());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(*opened);
  }

  // A second, raw connection to the same database.
  std::unique_ptr<SqlDatabase> RawDatabase() {
    if (GetParam() == Backend::kSqlite) {
      auto db = SqliteDatabase::Open(dir_ + "/slipway.db");
      EXPECT_TRUE(db.ok()) << db.status().message();
      return db.ok() ? std::move(*db) : nullptr;
    }
    auto db = PostgresDatabase::Open(url_, schema_);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(*db) : nullptr;
  }

  // The store's clock: 2023-11-14T22:13:20Z.
  FakeClock clock_{Clock::WallTime(std::chrono::milliseconds(1'700'000'000'000))};
  int64_t NowMs() const { return UnixMillis(clock_.WallNow()); }
  std::string url_;
  std::string dir_;               // SQLite only.
  std::string schema_;            // PostgreSQL only.
  std::string secrets_key_file_;  // StoreOptions::secrets_key_file of Reopen.
  std::unique_ptr<Store> store_;
};

#define SLIPWAY_STORE_TEST_SUITE(suite)     \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, \
                           ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName)

}  // namespace slipway

#endif  // SLIPWAY_STORE_STORE_TEST_BACKEND_H_
