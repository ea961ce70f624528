// The HTTP/1.1 server of `slipway serve` (Boost.Beast over Asio, C++20
// coroutines): keep-alive, request limits, an idle timeout, the API's
// blocking requests on a separate thread pool, and live logs (SSE) fed by
// LogHub; plain HTTP, or HTTPS when given a certificate (OpenSSL through
// asio::ssl; one request loop for both). Beast stays inside http_server.cc.
#ifndef SLIPWAY_SERVER_HTTP_SERVER_H_
#define SLIPWAY_SERVER_HTTP_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "server/api.h"
#include "server/log_follower.h"
#include "server/log_hub.h"
#include "store/store.h"
#include "util/status.h"

namespace slipway {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;      // 0: any free port (see HttpServer::port()).
  int io_threads = 0;        // 0: number of CPUs.
  int blocking_threads = 4;  // For Api::IsBlocking requests (git fetches, writes).
  uint64_t max_body_bytes = 1 << 20;
  uint32_t max_header_bytes = 16 * 1024;
  int idle_timeout_s = 60;  // A keep-alive connection idle this long is closed.
  int heartbeat_s = 15;     // SSE comment interval.
  int sse_batch_ms = 100;   // Live chunks arriving within this time are sent in one write.
  // Set: a live log's job is also followed in the store, for the bytes
  // another server sharing the database writes (docs/replicas.md); null:
  // only what this server's LogHub publishes. Must outlive the server.
  LogFollower* follower = nullptr;
  // HTTPS: PEM files of the certificate chain and of its private key, both
  // or neither. The key file must be readable by its owner only (as the
  // secrets key). TLS 1.2 and 1.3 only, OpenSSL's default ciphers.
  std::string tls_cert_file;
  std::string tls_key_file;
  // A client that has not finished its TLS handshake (or sent its first
  // bytes) within this time is dropped; also bounds the closing handshake.
  int tls_handshake_timeout_s = 10;
};

class HttpServer {
 public:
  // api, store and hub must outlive the server.
  HttpServer(Api* api, Store* store, LogHub* hub, HttpServerOptions options);
  ~HttpServer();  // Stops.

  // Binds and listens, then serves on background threads. Fails if the
  // address cannot be bound, or the TLS files cannot be read, do not match
  // or the key file is open to others.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const;
  // "https" when serving TLS, else "http".
  const char* scheme() const;
  // Stops accepting, closes connections (SSE streams too) and joins the threads.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_HTTP_SERVER_H_
