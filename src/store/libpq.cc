#include "store/libpq.h"

#include <dlfcn.h>

#include <string>

namespace slipway {
namespace {

constexpr const char* kLibrary = "libpq.so.5";

template <typename Fn>
bool Resolve(void* handle, const char* name, Fn* out, std::string* missing) {
  *out = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*out == nullptr && missing->empty()) *missing = name;
  return *out != nullptr;
}

StatusOr<const LibPq*> Load() {
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Status::Error(std::string("postgresql: cannot load ") + kLibrary + ": " +
                         (why != nullptr ? why : "unknown error") +
                         " (install libpq5: scripts/install-deps.sh)");
  }
  static LibPq pq;  // Filled once; the handle stays open for the process.
  std::string missing;
  Resolve(handle, "PQconnectdb", &pq.PQconnectdb, &missing);
  Resolve(handle, "PQstatus", &pq.PQstatus, &missing);
  Resolve(handle, "PQerrorMessage", &pq.PQerrorMessage, &missing);
  Resolve(handle, "PQsetNoticeProcessor", &pq.PQsetNoticeProcessor, &missing);
  Resolve(handle, "PQfinish", &pq.PQfinish, &missing);
  Resolve(handle, "PQreset", &pq.PQreset, &missing);
  Resolve(handle, "PQtransactionStatus", &pq.PQtransactionStatus, &missing);
  Resolve(handle, "PQexec", &pq.PQexec, &missing);
  Resolve(handle, "PQprepare", &pq.PQprepare, &missing);
  Resolve(handle, "PQexecPrepared", &pq.PQexecPrepared, &missing);
  Resolve(handle, "PQresultStatus", &pq.PQresultStatus, &missing);
  Resolve(handle, "PQresultErrorMessage", &pq.PQresultErrorMessage, &missing);
  Resolve(handle, "PQclear", &pq.PQclear, &missing);
  Resolve(handle, "PQntuples", &pq.PQntuples, &missing);
  Resolve(handle, "PQnfields", &pq.PQnfields, &missing);
  Resolve(handle, "PQgetisnull", &pq.PQgetisnull, &missing);
  Resolve(handle, "PQgetvalue", &pq.PQgetvalue, &missing);
  Resolve(handle, "PQgetlength", &pq.PQgetlength, &missing);
  Resolve(handle, "PQftype", &pq.PQftype, &missing);
  Resolve(handle, "PQunescapeBytea", &pq.PQunescapeBytea, &missing);
  Resolve(handle, "PQfreemem", &pq.PQfreemem, &missing);
  Resolve(handle, "PQsocket", &pq.PQsocket, &missing);
  Resolve(handle, "PQconsumeInput", &pq.PQconsumeInput, &missing);
  Resolve(handle, "PQnotifies", &pq.PQnotifies, &missing);
  if (!missing.empty()) {
    return Status::Error(std::string("postgresql: ") + kLibrary + " has no " + missing);
  }
  return &pq;
}

}  // namespace

StatusOr<const LibPq*> LoadLibPq() {
  static const StatusOr<const LibPq*> loaded = Load();
  return loaded;
}

}  // namespace slipway
