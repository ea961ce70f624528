// The delivery series of /metrics (docs/api.md, "Metrics"): deployments that
// finished while this process ran, by project, environment and status;
// their durations; rollbacks; and DORA gauges per project.
//
// Label cardinality is bounded: projects are registered by an admin; an
// environment named with a slash (review/feature-x, made per branch) is
// counted under its folder (review/*), as GitLab groups them, and a project
// gets at most kMaxEnvironmentLabels environment labels, the rest counted
// as "_other"; statuses are success, failed and canceled.
#ifndef SLIPWAY_SERVER_DELIVERY_METRICS_H_
#define SLIPWAY_SERVER_DELIVERY_METRICS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "server/prometheus_text.h"
#include "store/store.h"
#include "util/status.h"

namespace slipway {

class DeliveryMetrics {
 public:
  static constexpr size_t kMaxEnvironmentLabels = 20;
  static constexpr int kDoraDays = 30;

  // start_ms: deployments finished before are not counted. The DORA gauges
  // are recomputed at most every dora_refresh_ms.
  explicit DeliveryMetrics(int64_t start_ms, int64_t dora_refresh_ms = 60'000);

  // Reads the deployments updated since the last call (and, when due, the
  // DORA figures). Not thread-safe: the caller serialises calls.
  Status Refresh(Store* store, int64_t now_ms);
  void Render(std::string* out) const;

 private:
  Status ScanDeployments(Store* store, const ProjectRecord& project);
  Status ComputeDoraGauges(Store* store, const ProjectRecord& project, int64_t now_ms);
  std::string EnvironmentLabel(Store* store, const ProjectRecord& project, int64_t environment_id);

  const int64_t start_ms_;
  const int64_t dora_refresh_ms_;
  int64_t scanned_to_ms_;
  int64_t dora_at_ms_ = -1;
  std::unordered_set<int64_t> counted_;                             // Deployments already counted.
  std::unordered_map<int64_t, std::string> environment_labels_;     // By environment id.
  std::map<std::string, std::set<std::string>> labels_by_project_;  // Labels handed out.
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> deployments_;
  std::map<std::string, int64_t> rollbacks_;  // By project path.
  Histogram durations_;
  // Project path -> gauge name -> value.
  std::map<std::string, std::map<std::string, double>> dora_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_DELIVERY_METRICS_H_
