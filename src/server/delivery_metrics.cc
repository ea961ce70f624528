#include "server/delivery_metrics.h"

#include <optional>
#include <vector>

#include "server/dora.h"

namespace slipway {

namespace {

constexpr int64_t kDayMs = 86'400'000;

// Buckets fit for deploys: seconds for a switch of a link, minutes for a
// rollout with checks, up to an hour.
const std::vector<double> kDeployBuckets = {1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600};

bool IsFinalStatus(const std::string& status) {
  return status == "success" || status == "failed" || status == "canceled";
}

}  // namespace

DeliveryMetrics::DeliveryMetrics(int64_t start_ms, int64_t dora_refresh_ms)
    : start_ms_(start_ms),
      dora_refresh_ms_(dora_refresh_ms),
      scanned_to_ms_(start_ms),
      durations_(kDeployBuckets) {}

std::string DeliveryMetrics::EnvironmentLabel(Store* store, const ProjectRecord& project,
                                              int64_t environment_id) {
  auto known = environment_labels_.find(environment_id);
  if (known != environment_labels_.end()) return known->second;
  std::string label = "_unknown";
  auto environment = store->GetEnvironment(environment_id);
  if (environment.ok() && *environment) {
    const std::string& name = (*environment)->name;
    size_t slash = name.find('/');
    label = slash == std::string::npos ? name : name.substr(0, slash) + "/*";
  }
  std::set<std::string>& handed_out = labels_by_project_[project.path_with_namespace];
  if (!handed_out.count(label)) {
    if (handed_out.size() >= kMaxEnvironmentLabels) {
      label = "_other";
    } else {
      handed_out.insert(label);
    }
  }
  environment_labels_[environment_id] = label;
  return label;
}

Status DeliveryMetrics::ScanDeployments(Store* store, const ProjectRecord& project) {
  // Deployments updated since the last scan, with a second of overlap; the
  // set of counted ids keeps each one counted once.
  DeploymentFilter filter;
  filter.project_id = project.id;
  filter.updated_after = scanned_to_ms_ - 1000;
  filter.per_page = 100;
  for (filter.page = 1;; ++filter.page) {
    auto page = store->ListDeployments(filter);
    if (!page.ok()) return page.status();
    for (const DeploymentRecord& d : page->items) {
      if (!IsFinalStatus(d.status) || !d.finished_at || *d.finished_at < start_ms_) continue;
      if (!counted_.insert(d.id).second) continue;
      std::string environment = EnvironmentLabel(store, project, d.environment_id);
      ++deployments_[{project.path_with_namespace, environment, d.status}];
      durations_.Observe(static_cast<double>(*d.finished_at - d.created_at) / 1000.0);
      if (d.rollback_of) ++rollbacks_[project.path_with_namespace];
    }
    if (static_cast<int64_t>(filter.page) * filter.per_page >= page->total) break;
  }
  return Status::Ok();
}

Status DeliveryMetrics::ComputeDoraGauges(Store* store, const ProjectRecord& project,
                                          int64_t now_ms) {
  DoraRequest request;
  request.interval = DoraInterval::kAll;
  request.to_ms = (now_ms / kDayMs + 1) * kDayMs;  // Midnight UTC after today.
  request.from_ms = request.to_ms - kDoraDays * kDayMs;
  DoraQuery query = DoraQueryFor(request, project.id, {"production"});
  query.deployments = query.lead_times = true;
  query.incidents = false;
  auto facts = store->LoadDoraFacts(query);
  if (!facts.ok()) return facts.status();
  std::map<std::string, double>& gauges = dora_[project.path_with_namespace];
  gauges.clear();
  auto compute = [&](DoraMetric metric) -> std::optional<DoraPoint> {
    request.metric = metric;
    std::vector<DoraPoint> points = ComputeDora(*facts, request);
    if (points.empty()) return std::nullopt;
    return points.front();
  };
  if (auto p = compute(DoraMetric::kDeploymentFrequency); p && p->mean) {
    gauges["slipway_dora_deployments_per_day"] = *p->mean;
  }
  if (auto p = compute(DoraMetric::kLeadTimeForChanges); p && p->value) {
    gauges["slipway_dora_lead_time_seconds"] = *p->value;
  }
  if (auto p = compute(DoraMetric::kChangeFailureRate); p && p->value) {
    gauges["slipway_dora_change_failure_rate"] = *p->value;
  }
  if (auto p = compute(DoraMetric::kFailedDeploymentRecoveryTime); p && p->value) {
    gauges["slipway_dora_failed_deployment_recovery_seconds"] = *p->value;
  }
  return Status::Ok();
}

Status DeliveryMetrics::Refresh(Store* store, int64_t now_ms) {
  auto projects = store->ListProjects();
  if (!projects.ok()) return projects.status();
  bool dora_due = dora_at_ms_ < 0 || now_ms - dora_at_ms_ >= dora_refresh_ms_;
  if (dora_due) dora_.clear();
  for (const ProjectRecord& project : *projects) {
    Status scanned = ScanDeployments(store, project);
    if (!scanned.ok()) return scanned;
    if (dora_due) {
      Status computed = ComputeDoraGauges(store, project, now_ms);
      if (!computed.ok()) return computed;
    }
  }
  scanned_to_ms_ = now_ms;
  if (dora_due) dora_at_ms_ = now_ms;
  return Status::Ok();
}

void DeliveryMetrics::Render(std::string* out) const {
  PrometheusHeader(
      out, "slipway_deployments_total", "counter",
      "Deployments that finished while this process ran, by project, environment (folder "
      "for names with a slash) and status.");
  for (const auto& [key, count] : deployments_) {
    const auto& [project, environment, status] = key;
    *out += "slipway_deployments_total{project=" + PrometheusLabel(project) +
            ",environment=" + PrometheusLabel(environment) + ",status=" + PrometheusLabel(status) +
            "} " + std::to_string(count) + "\n";
  }
  PrometheusHeader(out, "slipway_deployment_duration_seconds", "histogram",
                   "From creation to end of deployments that finished while this process ran.");
  durations_.Render("slipway_deployment_duration_seconds", out);
  PrometheusHeader(
      out, "slipway_rollbacks_total", "counter",
      "Rollback deployments (automatic or by hand) that finished while this process ran.");
  for (const auto& [project, count] : rollbacks_) {
    *out += "slipway_rollbacks_total{project=" + PrometheusLabel(project) + "} " +
            std::to_string(count) + "\n";
  }
  static constexpr const char* kGauges[][2] = {
      {"slipway_dora_deployments_per_day",
       "Successful production deployments per day over the last 30 days (DORA)."},
      {"slipway_dora_lead_time_seconds",
       "Median lead time for changes to production over the last 30 days (DORA)."},
      {"slipway_dora_change_failure_rate",
       "Failed production deployments over all, last 30 days, 0..1 (DORA)."},
      {"slipway_dora_failed_deployment_recovery_seconds",
       "Median failed deployment recovery time in production, last 30 days (DORA)."},
  };
  for (const auto& [name, help] : kGauges) {
    PrometheusHeader(out, name, "gauge", help);
    for (const auto& [project, gauges] : dora_) {
      auto value = gauges.find(name);
      if (value == gauges.end()) continue;
      *out += std::string(name) + "{project=" + PrometheusLabel(project) + "} " +
              PrometheusNumber(value->second) + "\n";
    }
  }
}

}  // namespace slipway
