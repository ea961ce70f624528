// /metrics in Prometheus' text format (docs/api.md lists every series).
// Thread-safe. Store-derived series are recomputed at most once per
// refresh_ms; histograms count pipelines (and their jobs) that finished
// while this process ran, observed when a scrape finds them finished; the
// delivery series are DeliveryMetrics'.
#ifndef SLIPWAY_SERVER_METRICS_H_
#define SLIPWAY_SERVER_METRICS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "server/delivery_metrics.h"
#include "server/log_hub.h"
#include "server/pipeline_service.h"
#include "server/prometheus_text.h"
#include "store/store.h"
#include "util/thread_annotations.h"

namespace slipway {

class Metrics {
 public:
  // start_ms: when the process started; pipelines finished before are not observed.
  Metrics(int64_t start_ms, int64_t refresh_ms = 1000);

  void CountRequest(int status);
  // service may be null.
  std::string Render(Store* store, PipelineService* service, LogHub* hub, int64_t now_ms);

 private:
  Status RefreshLocked(Store* store, int64_t now_ms);

  std::mutex mu_;
  const int64_t start_ms_;
  const int64_t refresh_ms_;
  std::map<int, int64_t> requests_by_code_ GUARDED_BY(mu_);
  int64_t refreshed_at_ GUARDED_BY(mu_) = -1;
  int64_t last_scan_ms_ GUARDED_BY(mu_);
  std::map<CiStatus, int64_t> pipelines_by_status_ GUARDED_BY(mu_);
  std::map<CiStatus, int64_t> jobs_by_status_ GUARDED_BY(mu_);
  std::unordered_set<int64_t> observed_pipelines_ GUARDED_BY(mu_);
  Histogram job_durations_ GUARDED_BY(mu_);
  Histogram pipeline_durations_ GUARDED_BY(mu_);
  DeliveryMetrics delivery_ GUARDED_BY(mu_);
  std::string store_error_ GUARDED_BY(mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_METRICS_H_
