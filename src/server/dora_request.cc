#include "server/dora_request.h"

#include <algorithm>
#include <ctime>

namespace slipway {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr const char* kTiers[] = {"production", "staging", "testing", "development", "other"};

// Midnight UTC, three calendar months before the day at unix_ms.
int64_t ThreeMonthsBefore(int64_t unix_ms) {
  time_t t = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_mon -= 3;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace

StatusOr<DoraOptions> ResolveDoraOptions(const DoraOptionsInput& in) {
  DoraOptions out;
  if (in.metric.empty()) return Status::Error("metric is missing");
  std::optional<DoraMetric> metric = ParseDoraMetric(in.metric);
  if (!metric) return Status::Error("metric does not have a valid value");
  out.request.metric = *metric;
  std::optional<DoraInterval> interval =
      ParseDoraInterval(in.interval.empty() ? "daily" : in.interval);
  if (!interval) return Status::Error("interval does not have a valid value (all, monthly, daily)");
  out.request.interval = *interval;
  int64_t today = in.now_ms - in.now_ms % kDayMs;
  std::optional<int64_t> end = in.end_date.empty() ? today : ParseDoraDate(in.end_date);
  if (!end) return Status::Error("end_date is not a date (YYYY-MM-DD)");
  std::optional<int64_t> start =
      in.start_date.empty() ? ThreeMonthsBefore(*end) : ParseDoraDate(in.start_date);
  if (!start) return Status::Error("start_date is not a date (YYYY-MM-DD)");
  if (*end < *start) return Status::Error("end_date is before start_date");
  out.request.from_ms = *start;
  out.request.to_ms = *end + kDayMs;  // end_date is inclusive.
  int64_t days = (out.request.to_ms - out.request.from_ms) / kDayMs;
  if (*interval == DoraInterval::kDaily && days > kMaxDoraDailyDays) {
    return Status::Error("date range must be at most " + std::to_string(kMaxDoraDailyDays) +
                         " days with interval daily");
  }
  if (days > kMaxDoraDays) {
    return Status::Error("date range must be at most " + std::to_string(kMaxDoraDays) + " days");
  }
  for (const std::string& tier : in.tiers) {
    if (std::find(std::begin(kTiers), std::end(kTiers), tier) == std::end(kTiers)) {
      return Status::Error("environment_tiers does not have a valid value: '" + tier + "'");
    }
    if (std::find(out.tiers.begin(), out.tiers.end(), tier) == out.tiers.end()) {
      out.tiers.push_back(tier);
    }
  }
  if (out.tiers.empty()) out.tiers = {"production"};
  return out;
}

nlohmann::json DoraPointJson(DoraMetric metric, const DoraPoint& p) {
  using json = nlohmann::json;
  auto number = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json out = {{"date", p.date.empty() ? json(nullptr) : json(p.date)}, {"value", number(p.value)}};
  switch (metric) {
    case DoraMetric::kDeploymentFrequency:
      out["value"] = p.count;  // A count, as GitLab's.
      out["per_day"] = number(p.mean);
      break;
    case DoraMetric::kLeadTimeForChanges:
      out["mean"] = number(p.mean);
      out["commits"] = p.count;
      break;
    case DoraMetric::kTimeToRestoreService:
      out["mean"] = number(p.mean);
      out["incidents"] = p.count;
      break;
    case DoraMetric::kFailedDeploymentRecoveryTime:
      out["mean"] = number(p.mean);
      out["recovered"] = p.count;
      out["unrecovered"] = p.matching;
      break;
    case DoraMetric::kChangeFailureRate:
      out["deployments"] = p.count;
      out["failed"] = p.matching;
      break;
    case DoraMetric::kDeploymentReworkRate:
      out["deployments"] = p.count;
      out["rework"] = p.matching;
      break;
  }
  out["bands"] = p.bands.empty() ? json::object() : json(p.bands);
  return out;
}

}  // namespace slipway
