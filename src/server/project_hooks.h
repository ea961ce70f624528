// Outgoing project hooks (GitLab's project webhooks, docs/api.md "Project
// hooks"): each change of a pipeline's status is POSTed to the project's
// hooks with pipeline_events as GitLab's "Pipeline Hook" payload, each
// change of a job's status to those with job_events as its "Job Hook", with
// the headers GitLab sends (X-Gitlab-Event, X-Gitlab-Token when the hook
// has a token, X-Gitlab-Event-UUID, Idempotency-Key). A thread of its own
// reads the store once per scan interval — pipelines updated since the
// last scan, and the jobs of those and of the running ones — and hands the
// POSTs to a RetryingSender (retried with back-off). Of servers sharing
// the database, the one that claims an event sends it (event_claims.h); a
// restart announces what happens after it, and what a dead server claimed
// but did not send.
#ifndef SLIPWAY_SERVER_PROJECT_HOOKS_H_
#define SLIPWAY_SERVER_PROJECT_HOOKS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/event_claims.h"
#include "server/periodic_thread.h"
#include "server/retrying_sender.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/status.h"

namespace slipway {

// GitLab's "Pipeline Hook" payload (object_kind pipeline) for pipeline and
// its jobs (latest attempts).
nlohmann::json PipelineHookPayload(const ProjectRecord& project, const PipelineRecord& pipeline,
                                   const std::vector<JobRecord>& jobs, const std::string& base_url);
// GitLab's "Job Hook" payload (object_kind build).
nlohmann::json JobHookPayload(const ProjectRecord& project, const PipelineRecord& pipeline,
                              const JobRecord& job, const std::string& base_url);

// The POST of a payload to hook, with GitLab's headers; event is
// "Pipeline Hook" or "Job Hook".
HttpFetchRequest ProjectHookRequest(const ProjectHookRecord& hook, const std::string& event,
                                    const nlohmann::json& payload);

struct ProjectHookOptions {
  std::string base_url;  // The server's, for the payloads' URLs.
  std::chrono::milliseconds scan_interval{1000};
  RetryOptions retry;
  ClaimOptions claims;
  const Clock* clock = nullptr;  // The store's; null: the machine's.
};

class ProjectHookPublisher {
 public:
  // Announces what changes at or after start_ms. Starts the thread.
  ProjectHookPublisher(Store* store, ProjectHookOptions options, int64_t start_ms);
  ~ProjectHookPublisher();  // Stops the thread; unsent events are dropped.
  ProjectHookPublisher(const ProjectHookPublisher&) = delete;
  ProjectHookPublisher& operator=(const ProjectHookPublisher&) = delete;

  RetryingSender::Counts counts() { return sender_.counts(); }

 private:
  Status Scan(int64_t now_ms);
  Status ScanProject(const ProjectRecord& project, const std::vector<ProjectHookRecord>& hooks,
                     int64_t since, int64_t now_ms);
  // Claims the event (subject "pipeline:ID" or "job:ID", its status read
  // at version) and queues it to hooks when this server is to send it.
  Status Announce(const ProjectRecord& project, const std::vector<ProjectHookRecord>& hooks,
                  const std::string& subject, CiStatus status, int64_t version,
                  const nlohmann::json& payload, int64_t now_ms);
  void Queue(const std::vector<ProjectHookRecord>& hooks, const DeliveryClaim& claim,
             const nlohmann::json& payload);

  Store* const store_;
  const ProjectHookOptions options_;
  // Only the thread touches these. The status last announced per pipeline
  // and per job, with the scan that last saw it (entries not seen for a
  // while are dropped).
  int64_t scanned_to_ms_;
  int64_t scans_ = 0;
  std::map<int64_t, std::pair<CiStatus, int64_t>> pipelines_;
  std::map<int64_t, std::pair<CiStatus, int64_t>> jobs_;

  EventClaims claims_;  // Outlives sender_, whose callbacks use it.
  RetryingSender sender_;
  PeriodicThread scanner_;  // Last: stopped before the rest goes.
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_PROJECT_HOOKS_H_
