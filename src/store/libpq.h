// libpq, loaded when the first PostgreSQL database is opened instead of when
// slipway starts: libpq brings some twenty libraries (TLS, Kerberos, LDAP,
// SASL) whose loading and relocation cost every slipway command — lint, run
// — about 4 ms, and only a server with a postgresql:// database uses them.
// Types and constants still come from <libpq-fe.h>; only the functions are
// looked up, once, with dlopen/dlsym.
#ifndef SLIPWAY_STORE_LIBPQ_H_
#define SLIPWAY_STORE_LIBPQ_H_

#include <libpq-fe.h>

#include "util/status.h"

namespace slipway {

// The libpq functions slipway calls, named as in libpq.
struct LibPq {
  decltype(&::PQconnectdb) PQconnectdb = nullptr;
  decltype(&::PQstatus) PQstatus = nullptr;
  decltype(&::PQerrorMessage) PQerrorMessage = nullptr;
  decltype(&::PQsetNoticeProcessor) PQsetNoticeProcessor = nullptr;
  decltype(&::PQfinish) PQfinish = nullptr;
  decltype(&::PQreset) PQreset = nullptr;
  decltype(&::PQtransactionStatus) PQtransactionStatus = nullptr;
  decltype(&::PQexec) PQexec = nullptr;
  decltype(&::PQprepare) PQprepare = nullptr;
  decltype(&::PQexecPrepared) PQexecPrepared = nullptr;
  decltype(&::PQresultStatus) PQresultStatus = nullptr;
  decltype(&::PQresultErrorMessage) PQresultErrorMessage = nullptr;
  decltype(&::PQclear) PQclear = nullptr;
  decltype(&::PQntuples) PQntuples = nullptr;
  decltype(&::PQnfields) PQnfields = nullptr;
  decltype(&::PQgetisnull) PQgetisnull = nullptr;
  decltype(&::PQgetvalue) PQgetvalue = nullptr;
  decltype(&::PQgetlength) PQgetlength = nullptr;
  decltype(&::PQftype) PQftype = nullptr;
  decltype(&::PQunescapeBytea) PQunescapeBytea = nullptr;
  decltype(&::PQfreemem) PQfreemem = nullptr;
  // LISTEN (store/postgres_listener.cc).
  decltype(&::PQsocket) PQsocket = nullptr;
  decltype(&::PQconsumeInput) PQconsumeInput = nullptr;
  decltype(&::PQnotifies) PQnotifies = nullptr;
};

// Loads libpq (libpq.so.5) on the first call; later calls return the same
// table, or the same error (naming the library and what dlopen said).
// Thread-safe.
StatusOr<const LibPq*> LoadLibPq();

}  // namespace slipway

#endif  // SLIPWAY_STORE_LIBPQ_H_
