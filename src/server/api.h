// The HTTP API of `slipway serve` without sockets (docs/api.md): GitLab v4
// subset, webhooks, /healthz, /metrics and the embedded web UI. Handle() is
// thread-safe; it calls the Store (blocking, short) and, for actions, the
// PipelineService (CreatePipeline fetches git: slow). The server runs
// requests for which IsBlocking() is true off its IO threads.
#ifndef SLIPWAY_SERVER_API_H_
#define SLIPWAY_SERVER_API_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/http_message.h"
#include "server/log_hub.h"
#include "server/metrics.h"
#include "server/pipeline_service.h"
#include "server/runner_hub.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/thread_annotations.h"

namespace slipway {

class NoticeListener;

struct ApiContext;  // One request's state (api_util.h).

struct ApiOptions {
  // Clock for the token and response caches, the webhook replay window and
  // the metrics' refresh; null: the machine's. Must outlive the Api.
  Clock* clock = nullptr;
  // How long a looked-up token is trusted without asking the store again
  // (a revoked token keeps working this long).
  int64_t token_cache_ms = 5000;
  // Largest trace returned by GET .../trace (the SSE stream has no limit).
  int64_t max_trace_bytes = 64 << 20;
  // The response cache holds at most this many bytes of bodies (it is
  // emptied when a new one would not fit), and no body larger than
  // max_cached_body_bytes: a client varying the query string cannot make it
  // hold many copies of a large trace.
  size_t response_cache_bytes = 16 << 20;
  size_t max_cached_body_bytes = 1 << 20;
  // How long a webhook delivery is remembered: the same delivery again
  // within this time is answered "duplicate delivery ignored" (docs/api.md).
  int64_t webhook_replay_window_ms = int64_t{7} * 24 * 3600 * 1000;
  // Non-empty: GET /metrics answers only requests with
  // `Authorization: Bearer <metrics_token>` (Prometheus' bearer token
  // credentials); others get 401. Empty: /metrics is open.
  std::string metrics_token;
  // Remote runners (docs/runners.md); null: the runner routes answer 503.
  // Must outlive the Api.
  RunnerHub* runners = nullptr;
  // The scheme of the URLs in answers: "https" when the server serves TLS
  // itself. A request's X-Forwarded-Proto (http or https, from a proxy in
  // front) overrides it for that request.
  std::string scheme = "http";
};

class Api {
 public:
  // store and hub must outlive the Api. service may be null (no engine):
  // reads work, actions answer 503.
  Api(Store* store, PipelineService* service, LogHub* hub, ApiOptions options = {});
  ~Api();

  HttpResponse Handle(const HttpRequest& request);

  // Whether a request may take long (writes, git fetches): the server runs
  // these off its IO threads.
  static bool IsBlocking(const HttpRequest& request);

  Metrics* metrics() { return &metrics_; }

  // Every /api/v4 route as "METHOD /api/v4/path/:capture" and whether a
  // runner token is what it takes (tests check that runner tokens reach
  // those and no other).
  struct RouteSummary {
    std::string method;
    std::string path;
    bool runner_only = false;
    bool open = false;  // Carries its own credential (no API token).
  };
  static std::vector<RouteSummary> ApiRouteSummaries();

  // Bytes of bodies in the response cache.
  size_t cached_response_bytes();

 private:
  HttpResponse Route(ApiContext& ctx);
  std::optional<TokenRecord> Authenticate(const HttpRequest& request);
  int64_t Now() const;
  void EmptyCache();

  Store* store_;
  PipelineService* service_;
  LogHub* hub_;
  ApiOptions options_;
  Metrics metrics_;

  struct CachedToken {
    TokenRecord token;
    int64_t expires_ms = 0;
  };
  std::mutex token_mu_;
  std::unordered_map<std::string, CachedToken> tokens_ GUARDED_BY(token_mu_);  // Raw → record.

  // Responses about finished pipelines and jobs, which no longer change
  // unless the API changes them (any write clears the cache, here and, by
  // a notice, on the other replicas sharing the database).
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::shared_ptr<const HttpResponse>> cache_ GUARDED_BY(cache_mu_);
  size_t cache_bytes_ GUARDED_BY(cache_mu_) = 0;  // The bodies' sizes.
  // Notices of writes through the other replicas (empty the cache); null
  // without a shared database.
  std::unique_ptr<NoticeListener> notices_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_API_H_
