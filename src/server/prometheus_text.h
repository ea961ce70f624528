// Prometheus' text exposition format: a histogram, sample values, label
// values and the HELP/TYPE header of a series.
#ifndef SLIPWAY_SERVER_PROMETHEUS_TEXT_H_
#define SLIPWAY_SERVER_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

// Counts of observations per upper bound, their sum and count. Not
// thread-safe: its owner serialises calls.
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

// A label value, quoted: backslash, double quote and newline escaped (an
// environment name comes from a pipeline file).
std::string PrometheusLabel(std::string_view value);

// Appends "# HELP name help" and "# TYPE name type".
void PrometheusHeader(std::string* out, const char* name, const char* type, const char* help);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_PROMETHEUS_TEXT_H_
