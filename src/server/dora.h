// DORA metrics from what the store recorded (docs/dora.md): the five
// current metrics, per bucket of a date range, with medians, means and the
// performance band of each report year (web/dora_bands.json). Pure
// computation over DoraFacts: the caller loads them (Store::LoadDoraFacts).
#ifndef SLIPWAY_SERVER_DORA_H_
#define SLIPWAY_SERVER_DORA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"
#include "util/status.h"

namespace slipway {

enum class DoraMetric {
  kDeploymentFrequency,
  kLeadTimeForChanges,
  kChangeFailureRate,
  kFailedDeploymentRecoveryTime,
  kTimeToRestoreService,  // GitLab's: how long incidents were open.
  kDeploymentReworkRate,
};
// GitLab's names (deployment_frequency, lead_time_for_changes,
// change_failure_rate, time_to_restore_service) and DORA's newer ones
// (failed_deployment_recovery_time, deployment_rework_rate).
std::optional<DoraMetric> ParseDoraMetric(std::string_view name);
const char* DoraMetricName(DoraMetric metric);
const std::vector<DoraMetric>& AllDoraMetrics();

enum class DoraInterval { kDaily, kMonthly, kAll };
std::optional<DoraInterval> ParseDoraInterval(std::string_view name);  // daily, monthly, all

// One bucket of one metric.
struct DoraPoint {
  std::string date;  // "2024-03-01": the bucket's first day; empty for interval all.
  int64_t from_ms = 0, to_ms = 0;
  // GitLab's value: the count of successful deployments, the median in
  // seconds, or the rate (0..1); none when the bucket has no sample.
  std::optional<double> value;
  std::optional<double> mean;  // Seconds, or deployments per day.
  // Samples: deployments, commits, failures recovered, incidents resolved;
  // for a rate, its denominator (deployments).
  int64_t count = 0;
  int64_t matching = 0;  // For a rate: its numerator. Recovery: failures not yet recovered.
  std::map<std::string, std::string> bands;  // Report year -> band; absent when none.
};

struct DoraRequest {
  DoraMetric metric = DoraMetric::kDeploymentFrequency;
  DoraInterval interval = DoraInterval::kDaily;
  int64_t from_ms = 0;  // Midnight UTC of the first day.
  int64_t to_ms = 0;    // Midnight UTC after the last day.
};

// What request's metric is computed from, for project_id and tiers: the
// query loads only that (the deployments, the lead times or the incidents).
DoraQuery DoraQueryFor(const DoraRequest& request, int64_t project_id,
                       std::vector<std::string> tiers);

// The points of request over facts (loaded for the same range and tiers).
std::vector<DoraPoint> ComputeDora(const DoraFacts& facts, const DoraRequest& request);

// The band of value for metric in a report year of web/dora_bands.json, or
// none (no table for that metric). Errors only if the embedded table is
// malformed.
StatusOr<std::map<std::string, std::string>> DoraBands(DoraMetric metric, double value);

// "2024-03-01" at midnight UTC, or none.
std::optional<int64_t> ParseDoraDate(std::string_view date);
std::string DoraDate(int64_t unix_ms);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_DORA_H_
