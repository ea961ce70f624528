// A DORA metrics request as GitLab's API takes it (metric, interval,
// start_date, end_date, environment_tiers), checked and resolved, and one
// point as JSON: shared by GET /projects/:id/dora/metrics and `slipway dora`.
#ifndef SLIPWAY_SERVER_DORA_REQUEST_H_
#define SLIPWAY_SERVER_DORA_REQUEST_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/dora.h"
#include "util/status.h"

namespace slipway {

struct DoraOptionsInput {
  std::string metric;              // Required.
  std::string interval;            // Empty: daily (GitLab's default).
  std::string start_date;          // YYYY-MM-DD; empty: three months before end_date.
  std::string end_date;            // YYYY-MM-DD, inclusive; empty: today (UTC).
  std::vector<std::string> tiers;  // Empty: production.
  int64_t now_ms = 0;
};

struct DoraOptions {
  DoraRequest request;
  std::vector<std::string> tiers;
};

// Days a daily request may span, and any request.
inline constexpr int kMaxDoraDailyDays = 366;
inline constexpr int kMaxDoraDays = 3660;

// Errors name the parameter, as GitLab's do: "metric is missing",
// "interval does not have a valid value", "end_date is before start_date".
StatusOr<DoraOptions> ResolveDoraOptions(const DoraOptionsInput& input);

// {"date", "value"} as GitLab answers, with slipway's fields beside them
// (docs/dora.md): mean, the counts the value is made of, and "bands".
nlohmann::json DoraPointJson(DoraMetric metric, const DoraPoint& point);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_DORA_REQUEST_H_
