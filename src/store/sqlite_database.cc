#include "store/sqlite_database.h"

#include <utility>

namespace slipway {
namespace {

constexpr int kBusyTimeoutMs = 10000;

}  // namespace

StatusOr<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(raw, path));
  if (rc != SQLITE_OK) {
    return Status::Error("sqlite: cannot open '" + path +
                         "': " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  Status s =
      db->ExecScript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  if (!s.ok()) return s;
  return db;
}

Status SqliteDatabase::Error(std::string_view what) const {
  return Status::Error("sqlite: " + path_ + ": " + std::string(what) + ": " +
                       sqlite3_errmsg(db_.get()));
}

Status SqliteDatabase::ExecScript(std::string_view sql) {
  char* message = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string m = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Status::Error("sqlite: " + path_ + ": " + m);
}

StatusOr<std::vector<SqlRow>> SqliteDatabase::Query(std::string_view sql,
                                                    const std::vector<SqlValue>& params) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
      return Error("preparing '" + std::string(sql) + "'");
    }
    it = statements_.emplace(std::string(sql), StmtPtr(raw)).first;
  }
  sqlite3_stmt* stmt = it->second.get();
  // Leaves the cached statement reusable whatever happens below.
  struct Resetter {
    sqlite3_stmt* s;
    ~Resetter() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } resetter{stmt};

  if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != params.size()) {
    return Status::Error("sqlite: statement expects " +
                         std::to_string(sqlite3_bind_parameter_count(stmt)) + " parameters, got " +
                         std::to_string(params.size()) + ": " + std::string(sql));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i) + 1;
    int rc = SQLITE_OK;
    const SqlValue& p = params[i];
    switch (p.kind) {
      case SqlValue::Kind::kInt:
        rc = sqlite3_bind_int64(stmt, index, p.integer);
        break;
      case SqlValue::Kind::kText:
        rc = sqlite3_bind_text64(stmt, index, p.text.data(), p.text.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
        break;
      case SqlValue::Kind::kBlob:
        rc = sqlite3_bind_blob64(stmt, index, p.text.data(), p.text.size(), SQLITE_TRANSIENT);
        break;
      case SqlValue::Kind::kNull:
        rc = sqlite3_bind_null(stmt, index);
        break;
    }
    if (rc != SQLITE_OK) return Error("binding parameter " + std::to_string(index));
  }

  std::vector<SqlRow> rows;
  while (true) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return Error("running '" + std::string(sql) + "'");
    int n = sqlite3_column_count(stmt);
    std::vector<SqlValue> values;
    values.reserve(n);
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_NULL:
          values.emplace_back();
          break;
        case SQLITE_BLOB: {
          const void* data = sqlite3_column_blob(stmt, c);
          int size = sqlite3_column_bytes(stmt, c);
          values.push_back(SqlValue::Blob(
              size > 0 ? std::string(static_cast<const char*>(data), size) : std::string()));
          break;
        }
        default: {
          const unsigned char* text = sqlite3_column_text(stmt, c);
          int size = sqlite3_column_bytes(stmt, c);
          values.emplace_back(size > 0 ? std::string(reinterpret_cast<const char*>(text), size)
                                       : std::string());
          break;
        }
      }
    }
    rows.emplace_back(std::move(values));
  }
  return rows;
}

}  // namespace slipway
