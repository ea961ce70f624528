// SqlDatabase over libpq: one connection, parameterised queries only
// (PQprepare once per distinct statement, then PQexecPrepared). Parameters
// travel as text, blobs as binary; results come back as text and are turned
// into the same SqlValue kinds SQLite gives (int64 for integer columns,
// blobs for BYTEA). A dropped connection is re-established on the next
// call; a statement outside a transaction is retried once after that.
#ifndef SLIPWAY_STORE_POSTGRES_DATABASE_H_
#define SLIPWAY_STORE_POSTGRES_DATABASE_H_

#include <map>
#include <memory>
#include <string>

#include "store/libpq.h"
#include "store/sql_database.h"

namespace slipway {

class PostgresDatabase : public SqlDatabase {
 public:
  // url: a libpq connection URI. schema: if not empty, created when missing
  // and made the connection's search_path (letters, digits and _ only).
  static StatusOr<std::unique_ptr<PostgresDatabase>> Open(const std::string& url,
                                                          const std::string& schema);

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                      const std::vector<SqlValue>& params) override;
  Status ExecScript(std::string_view sql) override;
  Status Begin() override { return ExecScript("BEGIN"); }

 private:
  // Both run only after LoadLibPq succeeded (Open loads it first).
  struct Finish {
    void operator()(PGconn* c) const { (*LoadLibPq())->PQfinish(c); }
  };
  struct Clear {
    void operator()(PGresult* r) const { (*LoadLibPq())->PQclear(r); }
  };
  using ResultPtr = std::unique_ptr<PGresult, Clear>;

  PostgresDatabase(const LibPq* pq, PGconn* conn) : pq_(pq), conn_(conn) {}
  Status Setup();
  // Re-establishes a dropped connection. Returns true if the caller may
  // retry its statement (the connection was lost outside a transaction).
  bool Reconnect(bool was_idle);
  StatusOr<std::vector<SqlRow>> QueryOnce(std::string_view sql,
                                          const std::vector<SqlValue>& params);
  Status ResultError(const PGresult* result, std::string_view sql) const;

  const LibPq* pq_;
  std::unique_ptr<PGconn, Finish> conn_;
  std::string setup_sql_;                                       // Run after every (re)connect.
  std::map<std::string, std::string, std::less<>> statements_;  // SQL -> name.
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_POSTGRES_DATABASE_H_
