#include "store/postgres_database.h"

#include <cctype>
#include <utility>

namespace slipway {
namespace {

// Type OIDs from PostgreSQL's pg_type.h (stable across versions).
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

std::string ToDollarPlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  *count = 0;
  for (char c : sql) {
    if (c == '?') {
      out += '$' + std::to_string(++*count);
    } else {
      out += c;
    }
  }
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

void IgnoreNotice(void*, const char*) {}

}  // namespace

StatusOr<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Open(const std::string& url,
                                                                   const std::string& schema) {
  StatusOr<const LibPq*> pq = LoadLibPq();
  if (!pq.ok()) return pq.status();
  std::unique_ptr<PostgresDatabase> db(new PostgresDatabase(*pq, (*pq)->PQconnectdb(url.c_str())));
  if (db->conn_ == nullptr) return Status::Error("postgresql: out of memory");
  if (db->pq_->PQstatus(db->conn_.get()) != CONNECTION_OK) {
    return Status::Error("postgresql: cannot connect: " +
                         Trim(db->pq_->PQerrorMessage(db->conn_.get())));
  }
  db->pq_->PQsetNoticeProcessor(db->conn_.get(), IgnoreNotice, nullptr);
  if (!schema.empty()) {
    for (char c : schema) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
        return Status::Error("postgresql: invalid schema name '" + schema +
                             "' (letters, digits and _ only)");
      }
    }
    db->setup_sql_ =
        "CREATE SCHEMA IF NOT EXISTS \"" + schema + "\"; SET search_path TO \"" + schema + "\";";
  }
  Status s = db->Setup();
  if (!s.ok()) return s;
  return db;
}

Status PostgresDatabase::Setup() {
  if (setup_sql_.empty()) return Status::Ok();
  return ExecScript(setup_sql_);
}

bool PostgresDatabase::Reconnect(bool was_idle) {
  if (pq_->PQstatus(conn_.get()) != CONNECTION_BAD) return false;
  statements_.clear();  // Prepared statements die with the session.
  pq_->PQreset(conn_.get());
  if (pq_->PQstatus(conn_.get()) != CONNECTION_OK) return false;
  if (!Setup().ok()) return false;
  return was_idle;
}

Status PostgresDatabase::ResultError(const PGresult* result, std::string_view sql) const {
  std::string message =
      result ? pq_->PQresultErrorMessage(result) : pq_->PQerrorMessage(conn_.get());
  return Status::Error("postgresql: " + Trim(message) + " (in '" + std::string(sql) + "')");
}

Status PostgresDatabase::ExecScript(std::string_view sql) {
  std::string text(sql);
  bool was_idle = pq_->PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
  for (int attempt = 0;; ++attempt) {
    ResultPtr result(pq_->PQexec(conn_.get(), text.c_str()));
    ExecStatusType st = result ? pq_->PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    if (attempt > 0 || !Reconnect(was_idle)) return ResultError(result.get(), sql);
  }
}

StatusOr<std::vector<SqlRow>> PostgresDatabase::Query(std::string_view sql,
                                                      const std::vector<SqlValue>& params) {
  bool was_idle = pq_->PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
  StatusOr<std::vector<SqlRow>> rows = QueryOnce(sql, params);
  if (!rows.ok() && Reconnect(was_idle)) rows = QueryOnce(sql, params);
  return rows;
}

StatusOr<std::vector<SqlRow>> PostgresDatabase::QueryOnce(std::string_view sql,
                                                          const std::vector<SqlValue>& params) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    int count = 0;
    std::string converted = ToDollarPlaceholders(sql, &count);
    std::string name = "slipway_" + std::to_string(statements_.size() + 1);
    ResultPtr prepared(
        pq_->PQprepare(conn_.get(), name.c_str(), converted.c_str(), count, nullptr));
    if (!prepared || pq_->PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return ResultError(prepared.get(), sql);
    }
    it = statements_.emplace(std::string(sql), std::move(name)).first;
  }

  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  std::vector<int> lengths(params.size(), 0);
  std::vector<int> formats(params.size(), 0);
  for (size_t i = 0; i < params.size(); ++i) {
    const SqlValue& p = params[i];
    if (p.kind == SqlValue::Kind::kNull) continue;  // values[i] stays nullptr.
    texts[i] = p.kind == SqlValue::Kind::kInt ? std::to_string(p.integer) : p.text;
    if (p.kind == SqlValue::Kind::kBlob) formats[i] = 1;
    values[i] = texts[i].data();
    lengths[i] = static_cast<int>(texts[i].size());
  }
  ResultPtr result(pq_->PQexecPrepared(conn_.get(), it->second.c_str(),
                                       static_cast<int>(params.size()), values.data(),
                                       lengths.data(), formats.data(), 0));
  ExecStatusType st = result ? pq_->PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ResultError(result.get(), sql);

  std::vector<SqlRow> rows;
  int n_rows = pq_->PQntuples(result.get());
  int n_cols = pq_->PQnfields(result.get());
  rows.reserve(n_rows);
  for (int r = 0; r < n_rows; ++r) {
    std::vector<SqlValue> row;
    row.reserve(n_cols);
    for (int c = 0; c < n_cols; ++c) {
      if (pq_->PQgetisnull(result.get(), r, c)) {
        row.emplace_back();
        continue;
      }
      const char* text = pq_->PQgetvalue(result.get(), r, c);
      Oid type = pq_->PQftype(result.get(), c);
      if (type == kInt8Oid || type == kInt4Oid || type == kInt2Oid) {
        row.emplace_back(static_cast<int64_t>(std::strtoll(text, nullptr, 10)));
      } else if (type == kByteaOid) {
        size_t size = 0;
        unsigned char* bytes =
            pq_->PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
        if (bytes == nullptr) return Status::Error("postgresql: cannot decode a bytea value");
        row.push_back(SqlValue::Blob(std::string(reinterpret_cast<char*>(bytes), size)));
        pq_->PQfreemem(bytes);
      } else {
        row.emplace_back(std::string(text, pq_->PQgetlength(result.get(), r, c)));
      }
    }
    rows.emplace_back(std::move(row));
  }
  return rows;
}

}  // namespace slipway
