#include "server/cdevents_publisher.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "util/http_get.h"

namespace slipway {

namespace {

int64_t WallMs(const Clock* clock) {
  if (clock != nullptr) return UnixMillis(clock->WallNow());
  return UnixMillis(std::chrono::system_clock::now());
}

}  // namespace

Status AddCdEventSink(const std::string& spec, CdEventsOptions* options) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::Error("--cdevent-sink " + spec +
                         ": expected PROJECT=URL (PROJECT: a path or *)");
  }
  std::string url = spec.substr(eq + 1);
  HttpUrl parsed;
  if (!ParseHttpUrl(url, &parsed)) {
    return Status::Error("--cdevent-sink " + spec.substr(0, eq) + "=...: not an http(s) URL");
  }
  options->sinks[spec.substr(0, eq)].push_back(url);
  return Status::Ok();
}

CdEventsPublisher::CdEventsPublisher(Store* store, CdEventsOptions options, int64_t start_ms)
    : store_(store),
      options_(std::move(options)),
      start_ms_(start_ms),
      scanned_to_ms_(start_ms),
      thread_([this] { Run(); }) {}

CdEventsPublisher::~CdEventsPublisher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

CdEventsPublisher::Counts CdEventsPublisher::counts() {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

std::vector<std::string> CdEventsPublisher::SinksOf(const std::string& project_path) const {
  std::vector<std::string> urls;
  for (const char* key : {"*", project_path.c_str()}) {
    auto found = options_.sinks.find(key);
    if (found != options_.sinks.end()) {
      urls.insert(urls.end(), found->second.begin(), found->second.end());
    }
  }
  return urls;
}

void CdEventsPublisher::Queue(const std::string& project_path, const CdEvent& event) {
  if (!announced_.insert(event.id).second) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& url : SinksOf(project_path)) {
    if (pending_.size() >= options_.max_pending) {
      std::fprintf(stderr, "slipway serve: CDEvents: %zu events waiting; dropped %s for %s\n",
                   pending_.size(), pending_.front().event.id.c_str(),
                   pending_.front().url.c_str());
      pending_.pop_front();
      ++counts_.dropped;
    }
    pending_.push_back({url, event, 0, std::chrono::steady_clock::now()});
  }
}

Status CdEventsPublisher::Scan(int64_t now_ms) {
  auto projects = store_->ListProjects();
  if (!projects.ok()) return projects.status();
  // A second of overlap with the previous scan; announced_ keeps each
  // event queued once.
  const int64_t since = scanned_to_ms_ - 1000;
  for (const ProjectRecord& project : *projects) {
    if (SinksOf(project.path_with_namespace).empty()) continue;
    DeploymentFilter filter;
    filter.project_id = project.id;
    filter.updated_after = since;
    filter.status = "success";
    filter.per_page = 100;
    for (filter.page = 1;; ++filter.page) {
      auto page = store_->ListDeployments(filter);
      if (!page.ok()) return page.status();
      for (const DeploymentRecord& d : page->items) {
        if (!d.finished_at || *d.finished_at < start_ms_) continue;
        auto environment = store_->GetEnvironment(d.environment_id);
        if (!environment.ok()) return environment.status();
        if (!*environment) continue;
        Queue(project.path_with_namespace,
              DeploymentEvent(options_.base_url, project, **environment, d));
      }
      if (static_cast<int64_t>(filter.page) * filter.per_page >= page->total) break;
    }
    IncidentFilter incidents;
    incidents.project_id = project.id;
    incidents.order_by = "updated_at";
    incidents.sort = "desc";
    incidents.per_page = 100;
    for (incidents.page = 1;; ++incidents.page) {
      auto page = store_->ListIncidents(incidents);
      if (!page.ok()) return page.status();
      bool older = false;
      for (const IncidentRecord& incident : page->items) {
        if (incident.updated_at < since) {
          older = true;
          break;
        }
        std::optional<DeploymentRecord> deployment;
        std::optional<EnvironmentRecord> environment;
        if (incident.deployment_id) {
          auto d = store_->GetDeployment(*incident.deployment_id);
          if (d.ok() && *d) {
            deployment = **d;
            auto e = store_->GetEnvironment(deployment->environment_id);
            if (e.ok() && *e) environment = **e;
          }
        }
        if (incident.created_at >= start_ms_) {
          Queue(project.path_with_namespace,
                IncidentEvent(options_.base_url, project, incident, environment, deployment,
                              /*resolved=*/false));
        }
        if (incident.status == "resolved" && incident.resolved_at &&
            *incident.resolved_at >= start_ms_) {
          Queue(project.path_with_namespace,
                IncidentEvent(options_.base_url, project, incident, environment, deployment,
                              /*resolved=*/true));
        }
      }
      if (older || static_cast<int64_t>(incidents.page) * incidents.per_page >= page->total) break;
    }
  }
  scanned_to_ms_ = now_ms;
  return Status::Ok();
}

bool CdEventsPublisher::Send(const Delivery& delivery, std::string* error) const {
  HttpFetchRequest request;
  request.url = delivery.url;
  request.method = "POST";
  request.body = delivery.event.body.dump();
  request.headers = CloudEventHeaders(delivery.event);
  HttpGetOptions options;
  options.allow_http = true;
  options.max_redirects = 0;
  options.max_bytes = 64 << 10;
  options.timeout = options_.timeout;
  auto response = HttpFetch(request, options);
  if (!response.ok()) {
    *error = response.status().message();
    return false;
  }
  if (response->status < 200 || response->status > 299) {
    *error = "HTTP " + std::to_string(response->status);
    return false;
  }
  return true;
}

void CdEventsPublisher::Run() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point next_scan = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (Clock::now() >= next_scan) {
      lock.unlock();
      Status scanned = Scan(WallMs(options_.clock));
      if (!scanned.ok()) {
        std::fprintf(stderr, "slipway serve: CDEvents: %s\n", scanned.message().c_str());
      }
      next_scan = Clock::now() + options_.scan_interval;
      lock.lock();
      continue;
    }
    // The first delivery due, if any, is sent without the lock held.
    auto due = std::find_if(pending_.begin(), pending_.end(),
                            [&](const Delivery& d) { return d.due <= Clock::now(); });
    if (due != pending_.end()) {
      Delivery delivery = std::move(*due);
      pending_.erase(due);
      lock.unlock();
      std::string error;
      bool sent = Send(delivery, &error);
      lock.lock();
      if (sent) {
        ++counts_.delivered;
      } else if (++delivery.attempts >= options_.max_attempts) {
        ++counts_.dropped;
        std::fprintf(stderr, "slipway serve: CDEvents: gave up on %s for %s after %d tries: %s\n",
                     delivery.event.id.c_str(), delivery.url.c_str(), delivery.attempts,
                     error.c_str());
      } else {
        ++counts_.retried;
        auto wait = std::min(options_.max_retry,
                             options_.first_retry * (1 << std::min(delivery.attempts - 1, 16)));
        delivery.due = Clock::now() + wait;
        pending_.push_back(std::move(delivery));
      }
      continue;
    }
    Clock::time_point until = next_scan;
    for (const Delivery& d : pending_) until = std::min(until, d.due);
    wake_.wait_until(lock, until, [&] { return stop_; });
  }
}

}  // namespace slipway
