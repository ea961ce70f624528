// The small SQL surface SqlStore needs from a database connection, so that the
// store's queries are written once for SQLite and PostgreSQL. Statements use
// `?` placeholders (never inside string literals); a backend rewrites them to
// its own syntax. Values are bound as parameters, never spliced into SQL.
#ifndef SLIPWAY_STORE_SQL_DATABASE_H_
#define SLIPWAY_STORE_SQL_DATABASE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace slipway {

// A parameter or result value: NULL, a 64-bit integer, text, or bytes
// (BLOB / BYTEA). A plain struct rather than std::variant, which trips GCC
// 12's -Wmaybe-uninitialized in initializer lists.
struct SqlValue {
  enum class Kind { kNull, kInt, kText, kBlob };

  SqlValue() = default;
  SqlValue(int64_t v) : kind(Kind::kInt), integer(v) {}               // NOLINT: implicit by design
  SqlValue(std::string v) : kind(Kind::kText), text(std::move(v)) {}  // NOLINT
  SqlValue(const char* v) : kind(Kind::kText), text(v) {}             // NOLINT
  static SqlValue Blob(std::string bytes) {
    SqlValue v(std::move(bytes));
    v.kind = Kind::kBlob;
    return v;
  }

  Kind kind = Kind::kNull;
  int64_t integer = 0;
  std::string text;  // Text or blob bytes.
};

// One result row. Integer columns read as kInt, text as kText, BLOB/BYTEA as
// kBlob, NULL as kNull, whichever the backend.
class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}
  bool IsNull(size_t i) const { return values_[i].kind == SqlValue::Kind::kNull; }
  int64_t Int(size_t i) const;  // 0 for NULL.
  std::optional<int64_t> OptInt(size_t i) const;
  std::string Text(size_t i) const;  // "" for NULL; blob bytes for a blob.
  size_t size() const { return values_.size(); }

 private:
  std::vector<SqlValue> values_;
};

enum class SqlDialect { kSqlite, kPostgres };

// One connection. Not thread-safe: SqlStore serialises calls with its mutex.
class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs one statement with params bound to its `?`s and returns every row.
  // Statements are prepared once and cached by their text.
  virtual StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                              const std::vector<SqlValue>& params = {}) = 0;
  // Runs a parameterless script of one or more statements (DDL, PRAGMA).
  virtual Status ExecScript(std::string_view sql) = 0;
  // Starts a write transaction (SQLite: BEGIN IMMEDIATE, so that writers
  // queue on busy_timeout instead of failing on lock upgrade).
  virtual Status Begin() = 0;
};

// Runs Begin() and rolls back on destruction unless Commit() succeeded.
class SqlTransaction {
 public:
  explicit SqlTransaction(SqlDatabase* db) : db_(db) {}
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;
  ~SqlTransaction();
  Status Begin();
  Status Commit();

 private:
  SqlDatabase* db_;
  bool open_ = false;
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_SQL_DATABASE_H_
