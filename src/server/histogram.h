// A Prometheus histogram: counts of observations per upper bound, their sum
// and count, rendered in the text exposition format. Not thread-safe: its
// owner serialises calls.
#ifndef SLIPWAY_SERVER_HISTOGRAM_H_
#define SLIPWAY_SERVER_HISTOGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

namespace slipway {

class Histogram {
 public:
  // bounds: ascending upper bounds; +Inf is added.
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

// A sample value as Prometheus reads it (%.6g).
std::string PrometheusNumber(double value);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_HISTOGRAM_H_
