// SqlDatabase over the SQLite 3 C API: one connection in WAL mode with
// synchronous=NORMAL (a committed transaction survives a process crash; only
// a power loss can lose the last ones), foreign keys on, a busy timeout so
// that other processes' writers are waited for, and prepared statements
// cached by SQL text for the connection's life.
#ifndef SLIPWAY_STORE_SQLITE_DATABASE_H_
#define SLIPWAY_STORE_SQLITE_DATABASE_H_

#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>

#include "store/sql_database.h"

namespace slipway {

class SqliteDatabase : public SqlDatabase {
 public:
  // Opens (creating if missing) the database file at path.
  static StatusOr<std::unique_ptr<SqliteDatabase>> Open(const std::string& path);

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                      const std::vector<SqlValue>& params) override;
  Status ExecScript(std::string_view sql) override;
  Status Begin() override { return ExecScript("BEGIN IMMEDIATE"); }

 private:
  struct CloseDb {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  struct FinalizeStmt {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  using StmtPtr = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

  explicit SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Error(std::string_view what) const;

  // Declared first so that statements are finalized before the connection
  // closes (members are destroyed in reverse order).
  std::unique_ptr<sqlite3, CloseDb> db_;
  std::string path_;
  std::map<std::string, StmtPtr, std::less<>> statements_;
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_SQLITE_DATABASE_H_
