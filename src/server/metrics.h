// /metrics in Prometheus' text format (docs/api.md lists every series).
// Thread-safe. Store-derived series are recomputed at most once per
// refresh_ms; histograms count pipelines (and their jobs) that finished
// while this process ran, observed when a scrape finds them finished.
#ifndef SLIPWAY_SERVER_METRICS_H_
#define SLIPWAY_SERVER_METRICS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "server/log_hub.h"
#include "server/pipeline_service.h"
#include "store/store.h"
#include "util/thread_annotations.h"

namespace slipway {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // name_bucket{le=...}, name_sum, name_count lines.
  void Render(const std::string& name, std::string* out) const;

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> counts_;  // Per bound, not cumulative; last is +Inf.
  double sum_ = 0;
  int64_t count_ = 0;
};

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
  std::string store_error_ GUARDED_BY(mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_METRICS_H_
