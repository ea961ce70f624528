#include "server/dora.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <numeric>

#include "server/web_assets.h"

namespace slipway {
namespace {

constexpr int64_t kDayMs = 86'400'000;

struct MetricName {
  DoraMetric metric;
  const char* name;
};
constexpr MetricName kMetricNames[] = {
    {DoraMetric::kDeploymentFrequency, "deployment_frequency"},
    {DoraMetric::kLeadTimeForChanges, "lead_time_for_changes"},
    {DoraMetric::kChangeFailureRate, "change_failure_rate"},
    {DoraMetric::kFailedDeploymentRecoveryTime, "failed_deployment_recovery_time"},
    {DoraMetric::kTimeToRestoreService, "time_to_restore_service"},
    {DoraMetric::kDeploymentReworkRate, "deployment_rework_rate"},
};

// A failed deployment (docs/dora.md) and when it was recovered from.
struct Failure {
  int64_t start = 0;
  std::optional<int64_t> recovered;
};

// Per deployment (same order as facts.deployments): whether it failed,
// its failure, and whether it is rework.
struct Classified {
  std::vector<bool> failed;
  std::vector<bool> rework;
  std::vector<Failure> failures;
};

bool IsFailure(const DoraDeployment& d) { return !d.success || d.incident_at.has_value(); }

Classified Classify(const DoraFacts& facts) {
  const std::vector<DoraDeployment>& all = facts.deployments;
  Classified out;
  out.failed.resize(all.size());
  out.rework.resize(all.size());
  // Successful deployments' finish times per environment, in order.
  std::map<int64_t, std::vector<int64_t>> successes;
  std::map<int64_t, size_t> previous;  // Environment -> index of its last deployment so far.
  for (size_t i = 0; i < all.size(); ++i) {
    const DoraDeployment& d = all[i];
    if (d.success) successes[d.environment_id].push_back(d.finished_at);
    out.failed[i] = IsFailure(d);
    auto prev = previous.find(d.environment_id);
    if (prev != previous.end()) {
      const DoraDeployment& p = all[prev->second];
      out.rework[i] = !p.success || (p.incident_at && *p.incident_at <= d.finished_at);
    }
    previous[d.environment_id] = i;
  }
  for (const DoraDeployment& d : all) {
    if (!IsFailure(d)) continue;
    Failure f;
    f.start = d.success ? *d.incident_at : d.finished_at;
    const std::vector<int64_t>& times = successes[d.environment_id];
    auto next = std::upper_bound(times.begin(), times.end(), f.start);
    if (next != times.end()) f.recovered = *next;
    if (d.incidents_resolved_at) {
      f.recovered =
          std::min(f.recovered.value_or(*d.incidents_resolved_at), *d.incidents_resolved_at);
    }
    out.failures.push_back(f);
  }
  return out;
}

// Fills value (median) and mean of durations in ms, as seconds.
void MedianAndMean(std::vector<int64_t> ms, DoraPoint* p) {
  p->count = static_cast<int64_t>(ms.size());
  if (ms.empty()) return;
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  double median = n % 2 == 1 ? ms[n / 2] : (static_cast<double>(ms[n / 2 - 1]) + ms[n / 2]) / 2;
  p->value = median / 1000.0;
  p->mean = std::accumulate(ms.begin(), ms.end(), 0.0) / n / 1000.0;
}

bool In(int64_t t, const DoraPoint& p) { return t >= p.from_ms && t < p.to_ms; }

void Compute(const DoraFacts& facts, const Classified& c, DoraMetric metric, DoraPoint* p) {
  const std::vector<DoraDeployment>& all = facts.deployments;
  switch (metric) {
    case DoraMetric::kDeploymentFrequency: {
      for (const DoraDeployment& d : all) p->count += d.success && In(d.finished_at, *p);
      p->value = static_cast<double>(p->count);
      p->mean =
          static_cast<double>(p->count) / (static_cast<double>(p->to_ms - p->from_ms) / kDayMs);
      break;
    }
    case DoraMetric::kLeadTimeForChanges: {
      std::vector<int64_t> leads;
      for (const auto& [finished, lead] : facts.lead_times) {
        if (In(finished, *p)) leads.push_back(lead);
      }
      MedianAndMean(std::move(leads), p);
      break;
    }
    case DoraMetric::kChangeFailureRate:
    case DoraMetric::kDeploymentReworkRate: {
      const std::vector<bool>& mark =
          metric == DoraMetric::kChangeFailureRate ? c.failed : c.rework;
      for (size_t i = 0; i < all.size(); ++i) {
        if (!In(all[i].finished_at, *p)) continue;
        ++p->count;
        p->matching += mark[i];
      }
      if (p->count > 0) p->value = static_cast<double>(p->matching) / p->count;
      break;
    }
    case DoraMetric::kFailedDeploymentRecoveryTime: {
      std::vector<int64_t> times;
      int64_t unrecovered = 0;
      for (const Failure& f : c.failures) {
        if (!In(f.start, *p)) continue;
        if (f.recovered) {
          times.push_back(*f.recovered - f.start);
        } else {
          ++unrecovered;
        }
      }
      MedianAndMean(std::move(times), p);
      p->matching = unrecovered;
      break;
    }
    case DoraMetric::kTimeToRestoreService: {
      std::vector<int64_t> times;
      for (const auto& [created, resolved] : facts.incidents) {
        if (In(created, *p) && resolved) times.push_back(*resolved - created);
      }
      MedianAndMean(std::move(times), p);
      break;
    }
  }
  std::optional<double> banded = p->value;
  if (metric == DoraMetric::kDeploymentFrequency) banded = p->mean;  // Per day.
  if (banded) {
    auto bands = DoraBands(metric, *banded);
    if (bands.ok()) p->bands = std::move(*bands);
  }
}

int64_t NextMonth(int64_t unix_ms) {
  time_t t = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_mon += 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace

std::optional<DoraMetric> ParseDoraMetric(std::string_view name) {
  for (const MetricName& m : kMetricNames) {
    if (name == m.name) return m.metric;
  }
  return std::nullopt;
}

const char* DoraMetricName(DoraMetric metric) {
  for (const MetricName& m : kMetricNames) {
    if (m.metric == metric) return m.name;
  }
  return "?";
}

const std::vector<DoraMetric>& AllDoraMetrics() {
  static const std::vector<DoraMetric> all = [] {
    std::vector<DoraMetric> out;
    for (const MetricName& m : kMetricNames) out.push_back(m.metric);
    return out;
  }();
  return all;
}

std::optional<DoraInterval> ParseDoraInterval(std::string_view name) {
  if (name == "daily") return DoraInterval::kDaily;
  if (name == "monthly") return DoraInterval::kMonthly;
  if (name == "all") return DoraInterval::kAll;
  return std::nullopt;
}

std::optional<int64_t> ParseDoraDate(std::string_view date) {
  // Exactly YYYY-MM-DD, a real day.
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (date[i] < '0' || date[i] > '9') return std::nullopt;
  }
  struct tm tm {};
  tm.tm_year = std::stoi(std::string(date.substr(0, 4))) - 1900;
  tm.tm_mon = std::stoi(std::string(date.substr(5, 2))) - 1;
  tm.tm_mday = std::stoi(std::string(date.substr(8, 2)));
  int year = tm.tm_year, month = tm.tm_mon, day = tm.tm_mday;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (tm.tm_year != year || tm.tm_mon != month || tm.tm_mday != day) return std::nullopt;
  return ms;
}

std::string DoraDate(int64_t unix_ms) {
  time_t t = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

DoraQuery DoraQueryFor(const DoraRequest& request, int64_t project_id,
                       std::vector<std::string> tiers) {
  DoraQuery query;
  query.project_id = project_id;
  query.tiers = std::move(tiers);
  query.from_ms = request.from_ms;
  query.to_ms = request.to_ms;
  query.lead_times = request.metric == DoraMetric::kLeadTimeForChanges;
  query.incidents = request.metric == DoraMetric::kTimeToRestoreService;
  query.deployments = !query.lead_times && !query.incidents;
  return query;
}

std::vector<DoraPoint> ComputeDora(const DoraFacts& facts, const DoraRequest& request) {
  Classified classified = Classify(facts);
  std::vector<DoraPoint> points;
  for (int64_t from = request.from_ms; from < request.to_ms;) {
    DoraPoint p;
    p.from_ms = from;
    switch (request.interval) {
      case DoraInterval::kDaily:
        p.to_ms = from + kDayMs;
        break;
      case DoraInterval::kMonthly:
        p.to_ms = NextMonth(from);
        break;
      case DoraInterval::kAll:
        p.to_ms = request.to_ms;
        break;
    }
    p.to_ms = std::min(p.to_ms, request.to_ms);
    if (request.interval != DoraInterval::kAll) p.date = DoraDate(from);
    Compute(facts, classified, request.metric, &p);
    from = p.to_ms;
    points.push_back(std::move(p));
  }
  return points;
}

StatusOr<std::map<std::string, std::string>> DoraBands(DoraMetric metric, double value) {
  static const StatusOr<nlohmann::json> table = []() -> StatusOr<nlohmann::json> {
    const WebAsset* asset = FindWebAsset("dora_bands.json");
    if (asset == nullptr) return Status::Error("dora_bands.json is not built in");
    nlohmann::json j = nlohmann::json::parse(asset->data, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("reports") || !j["reports"].is_object()) {
      return Status::Error("dora_bands.json is malformed");
    }
    return j;
  }();
  if (!table.ok()) return table.status();
  std::map<std::string, std::string> out;
  for (const auto& [year, report] : (*table)["reports"].items()) {
    const nlohmann::json* bands = nullptr;
    if (report.contains("metrics") && report["metrics"].contains(DoraMetricName(metric))) {
      bands = &report["metrics"][DoraMetricName(metric)];
    }
    if (bands == nullptr || !bands->is_array() || bands->empty()) continue;
    std::string band;
    for (const nlohmann::json& b : *bands) {
      if (!b.contains("band") || !b["band"].is_string()) {
        return Status::Error("dora_bands.json: a band without a name");
      }
      bool holds = true;
      if (b.contains("min") && b["min"].is_number()) holds = value >= b["min"].get<double>();
      if (b.contains("max") && b["max"].is_number()) holds = value <= b["max"].get<double>();
      band = b["band"].get<std::string>();
      if (holds) break;
    }
    out[year] = band;
  }
  return out;
}

}  // namespace slipway
