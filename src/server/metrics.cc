#include "server/metrics.h"

namespace slipway {

namespace {

constexpr CiStatus kAllStatuses[] = {
    CiStatus::kCreated,   CiStatus::kWaitingForResource,
    CiStatus::kPreparing, CiStatus::kPending,
    CiStatus::kRunning,   CiStatus::kSuccess,
    CiStatus::kFailed,    CiStatus::kCanceled,
    CiStatus::kSkipped,   CiStatus::kManual,
    CiStatus::kScheduled,
};

}  // namespace

Metrics::Metrics(int64_t start_ms, int64_t refresh_ms)
    : start_ms_(start_ms),
      refresh_ms_(refresh_ms),
      last_scan_ms_(start_ms),
      job_durations_({1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}),
      pipeline_durations_({1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}),
      delivery_(start_ms) {}

void Metrics::CountRequest(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_by_code_[status];
}

Status Metrics::RefreshLocked(Store* store, int64_t now_ms) {
  auto projects = store->ListProjects();
  if (!projects.ok()) return projects.status();
  std::map<CiStatus, int64_t> pipelines, jobs;
  for (const ProjectRecord& project : *projects) {
    for (CiStatus status : kAllStatuses) {
      PipelineFilter pf;
      pf.project_id = project.id;
      pf.status = status;
      pf.per_page = 1;
      auto page = store->ListPipelines(pf);
      if (!page.ok()) return page.status();
      pipelines[status] += page->total;
      JobFilter jf;
      jf.project_id = project.id;
      jf.scope = {status};
      jf.per_page = 1;
      auto job_page = store->ListJobs(jf);
      if (!job_page.ok()) return job_page.status();
      jobs[status] += job_page->total;
    }
    // Pipelines finished since the last scan (a second of overlap; the set
    // of observed ids keeps each one counted once).
    PipelineFilter finished;
    finished.project_id = project.id;
    finished.scope = "finished";
    finished.updated_after = last_scan_ms_ - 1000;
    finished.per_page = 100;
    for (finished.page = 1;; ++finished.page) {
      auto page = store->ListPipelines(finished);
      if (!page.ok()) return page.status();
      for (const PipelineRecord& p : page->items) {
        if (!p.finished_at || *p.finished_at < start_ms_ || !IsFinished(p.status)) continue;
        if (!observed_pipelines_.insert(p.id).second) continue;
        if (p.duration_ms)
          pipeline_durations_.Observe(static_cast<double>(*p.duration_ms) / 1000.0);
        JobFilter jf;
        jf.pipeline_id = p.id;
        jf.include_retried = true;
        jf.per_page = 100;
        for (jf.page = 1;; ++jf.page) {
          auto job_page = store->ListJobs(jf);
          if (!job_page.ok()) return job_page.status();
          for (const JobRecord& job : job_page->items) {
            if (IsFinished(job.status) && job.duration_ms) {
              job_durations_.Observe(static_cast<double>(*job.duration_ms) / 1000.0);
            }
          }
          if (static_cast<int64_t>(jf.page) * jf.per_page >= job_page->total) break;
        }
      }
      if (static_cast<int64_t>(finished.page) * finished.per_page >= page->total) break;
    }
  }
  Status delivery = delivery_.Refresh(store, now_ms);
  if (!delivery.ok()) return delivery;
  pipelines_by_status_ = std::move(pipelines);
  jobs_by_status_ = std::move(jobs);
  last_scan_ms_ = now_ms;
  return Status::Ok();
}

std::string Metrics::Render(Store* store, PipelineService* service, LogHub* hub, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (refreshed_at_ < 0 || now_ms - refreshed_at_ >= refresh_ms_) {
    Status refreshed = RefreshLocked(store, now_ms);
    store_error_ = refreshed.ok() ? "" : refreshed.message();
    refreshed_at_ = now_ms;
  }
  std::string out;
  PrometheusHeader(&out, "slipway_pipelines", "gauge", "Pipelines in the store by status.");
  for (CiStatus s : kAllStatuses) {
    out += std::string("slipway_pipelines{status=\"") + CiStatusName(s) + "\"} " +
           std::to_string(pipelines_by_status_[s]) + "\n";
  }
  PrometheusHeader(&out, "slipway_jobs", "gauge", "Jobs (latest attempts) in the store by status.");
  for (CiStatus s : kAllStatuses) {
    out += std::string("slipway_jobs{status=\"") + CiStatusName(s) + "\"} " +
           std::to_string(jobs_by_status_[s]) + "\n";
  }
  PrometheusHeader(&out, "slipway_job_duration_seconds", "histogram",
                   "Durations of jobs finished while this process ran.");
  job_durations_.Render("slipway_job_duration_seconds", &out);
  PrometheusHeader(&out, "slipway_pipeline_duration_seconds", "histogram",
                   "Durations of pipelines finished while this process ran.");
  pipeline_durations_.Render("slipway_pipeline_duration_seconds", &out);
  delivery_.Render(&out);
  ServiceStats stats;
  if (service != nullptr) stats = service->Stats();
  PrometheusHeader(&out, "slipway_queue_length", "gauge", "Pipelines waiting for a free slot.");
  out += "slipway_queue_length " + std::to_string(stats.queued_pipelines) + "\n";
  PrometheusHeader(&out, "slipway_running_pipelines", "gauge", "Pipelines running now.");
  out += "slipway_running_pipelines " + std::to_string(stats.running_pipelines) + "\n";
  PrometheusHeader(&out, "slipway_running_jobs", "gauge", "Jobs running now.");
  out += "slipway_running_jobs " + std::to_string(stats.running_jobs) + "\n";
  PrometheusHeader(&out, "slipway_log_watchers", "gauge", "Live-log (SSE) watchers connected.");
  out += "slipway_log_watchers " + std::to_string(hub != nullptr ? hub->watchers() : 0) + "\n";
  PrometheusHeader(&out, "slipway_store_up", "gauge",
                   "1 if the last refresh from the store succeeded.");
  out += std::string("slipway_store_up ") + (store_error_.empty() ? "1" : "0") + "\n";
  PrometheusHeader(&out, "slipway_http_requests_total", "counter",
                   "HTTP requests answered, by status code.");
  for (const auto& [code, count] : requests_by_code_) {
    out += "slipway_http_requests_total{code=\"" + std::to_string(code) + "\"} " +
           std::to_string(count) + "\n";
  }
  return out;
}

}  // namespace slipway
