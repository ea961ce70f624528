#include "server/cdevents_publisher.h"

#include <cstdio>
#include <functional>
#include <optional>

#include "util/http_get.h"

namespace slipway {

namespace {

RetryOptions SenderOptions(const CdEventsOptions& options) {
  RetryOptions retry;
  retry.what = "CDEvents";
  retry.first_retry = options.first_retry;
  retry.max_retry = options.max_retry;
  retry.max_attempts = options.max_attempts;
  retry.max_pending = options.max_pending;
  retry.timeout = options.timeout;
  return retry;
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
      claims_(store, "cdevent", options_.claims, options_.clock),
      sender_(SenderOptions(options_)),
      scanner_(options_.scan_interval,
               ScanTick("CDEvents", options_.clock, [this](int64_t now) { return Scan(now); })) {}

CdEventsPublisher::~CdEventsPublisher() = default;

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

void CdEventsPublisher::Send(const std::string& project_path, const CdEvent& event,
                             const DeliveryClaim& claim) {
  std::vector<std::string> urls = SinksOf(project_path);
  std::function<void()> finished = claims_.Completion(claim, static_cast<int>(urls.size()));
  for (const std::string& url : urls) {
    RetryingSender::Request request;
    request.http.url = url;
    request.http.method = "POST";
    request.http.body = event.body.dump();
    request.http.headers = CloudEventHeaders(event);
    request.done = [finished](bool, const std::string&) { finished(); };
    sender_.Send(std::move(request));
  }
}

Status CdEventsPublisher::Queue(const ProjectRecord& project, const CdEvent& event,
                                int64_t now_ms) {
  if (announced_.count(event.id) > 0) return Status::Ok();
  DeliveryClaim claim;
  claim.subject = event.id;
  claim.state = "sent";  // An event happens once: the first claim wins.
  claim.project_id = project.id;
  claim.payload =
      nlohmann::json{{"id", event.id},           {"type", event.type}, {"source", event.source},
                     {"subject", event.subject}, {"time", event.time}, {"body", event.body}}
          .dump();
  StatusOr<bool> mine = claims_.Claim(claim, now_ms);
  if (!mine.ok()) return mine.status();
  announced_.insert(event.id);
  if (*mine) Send(project.path_with_namespace, event, claim);
  return Status::Ok();
}

Status CdEventsPublisher::Resend(const DeliveryClaim& claim) {
  auto project = store_->GetProject(claim.project_id);
  if (!project.ok()) return project.status();
  nlohmann::json saved = nlohmann::json::parse(claim.payload, nullptr, false);
  if (!*project || !saved.is_object()) {
    claims_.Completion(claim, 0);  // Nothing to send it to, or nothing to send.
    return Status::Ok();
  }
  CdEvent event;
  event.id = saved.value("id", "");
  event.type = saved.value("type", "");
  event.source = saved.value("source", "");
  event.subject = saved.value("subject", "");
  event.time = saved.value("time", "");
  event.body = saved.value("body", nlohmann::json::object());
  Send((*project)->path_with_namespace, event, claim);
  return Status::Ok();
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
        if (Status s = Queue(project, DeploymentEvent(options_.base_url, project, **environment, d),
                             now_ms);
            !s.ok()) {
          return s;
        }
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
        const bool opened = incident.created_at >= start_ms_;
        const bool resolved = incident.status == "resolved" && incident.resolved_at &&
                              *incident.resolved_at >= start_ms_;
        for (bool resolution : {false, true}) {
          if (!(resolution ? resolved : opened)) continue;
          if (Status s = Queue(project,
                               IncidentEvent(options_.base_url, project, incident, environment,
                                             deployment, resolution),
                               now_ms);
              !s.ok()) {
            return s;
          }
        }
      }
      if (older || static_cast<int64_t>(incidents.page) * incidents.per_page >= page->total) break;
    }
  }
  scanned_to_ms_ = now_ms;
  auto left = claims_.Tick(now_ms);
  if (!left.ok()) return left.status();
  for (const DeliveryClaim& claim : *left) {
    if (Status s = Resend(claim); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace slipway
