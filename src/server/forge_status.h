// Commit statuses posted back to the project's forge (docs/server.md,
// "Commit statuses to the forge"): for every state a pipeline takes, the
// commit gets a status on GitLab, GitHub or Gitea, as each documents it —
//  - GitLab: POST {api}/projects/{id or url-encoded path}/statuses/{sha},
//    header PRIVATE-TOKEN, JSON {state, ref, name, target_url,
//    description}; state pending, running, success, failed, canceled,
//    skipped.
//  - GitHub: POST {api}/repos/{owner}/{repo}/statuses/{sha}, header
//    Authorization: Bearer, Accept: application/vnd.github+json,
//    X-GitHub-Api-Version: 2022-11-28, JSON {state, target_url,
//    description, context}; state pending, success, failure, error.
//  - Gitea: POST {api}/repos/{owner}/{repo}/statuses/{sha}, header
//    Authorization: token, the same JSON and states as GitHub.
// A thread of its own finds the pipelines whose status changed (the store
// is read once per scan interval, so whatever changes a pipeline — a job,
// the API, crash recovery — is covered) and hands the posts to a
// RetryingSender: retried with back-off, and of several waiting for the
// same commit and context, the latest wins. Each post's result is recorded
// in the store (forge_statuses) for the dashboard. Of servers sharing the
// database, the one that claims a pipeline's state sends it (event_claims.h).
// The token travels only
// in its header: never in a URL, a log line or an API answer.
#ifndef SLIPWAY_SERVER_FORGE_STATUS_H_
#define SLIPWAY_SERVER_FORGE_STATUS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "server/event_claims.h"
#include "server/periodic_thread.h"
#include "server/retrying_sender.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/status.h"

namespace slipway {

// The forge's name for a kind ("GitLab", "GitHub", "Gitea"); the kind itself
// for an unknown one.
std::string ForgeDisplayName(const std::string& kind);

// Checks settings as `project add` takes them: a known kind, an http(s)
// API URL (GitLab's and Gitea's must be given; GitHub's defaults to
// https://api.github.com), a project (GitHub and Gitea: owner/repo) and a
// token. Fills the default URL.
Status CheckForgeSettings(ProjectForgeSettings* settings);

// The state of a pipeline status in the forge's words.
std::string ForgeState(const std::string& kind, CiStatus status);

// The status's context (GitLab: name): "slipway" and the pipeline's source,
// e.g. "slipway/push", "slipway/merge_request_event".
std::string ForgeStatusContext(const PipelineRecord& pipeline);

// The POST that sets pipeline's status on the forge; target_url is the
// pipeline's page.
HttpFetchRequest ForgeStatusRequest(const ProjectForgeSettings& forge,
                                    const PipelineRecord& pipeline, const std::string& target_url);

struct ForgeStatusOptions {
  std::string base_url;  // The server's, for each status's target_url.
  std::chrono::milliseconds scan_interval{1000};
  RetryOptions retry;
  ClaimOptions claims;
  // The store's clock (what its timestamps are read against); null: the
  // machine's.
  const Clock* clock = nullptr;
};

class ForgeStatusPublisher {
 public:
  // Posts the state of every pipeline whose status changes at or after
  // start_ms. Starts the thread.
  ForgeStatusPublisher(Store* store, ForgeStatusOptions options, int64_t start_ms);
  ~ForgeStatusPublisher();  // Stops the thread; unsent statuses are dropped.
  ForgeStatusPublisher(const ForgeStatusPublisher&) = delete;
  ForgeStatusPublisher& operator=(const ForgeStatusPublisher&) = delete;

  RetryingSender::Counts counts() { return sender_.counts(); }

 private:
  Status Scan(int64_t now_ms);
  // Queues the post of pipeline's state, which claim holds.
  void Post(const ProjectRecord& project, const ProjectForgeSettings& forge,
            const PipelineRecord& pipeline, const DeliveryClaim& claim);
  // Sends what a server that died had claimed.
  Status Resend(const DeliveryClaim& claim);

  Store* const store_;
  const ForgeStatusOptions options_;
  // Only the thread touches these.
  int64_t scanned_to_ms_;
  // The status last queued per pipeline, and its updated_at (entries older
  // than the scan window are dropped).
  std::map<int64_t, std::pair<CiStatus, int64_t>> queued_;

  EventClaims claims_;  // Outlives sender_, whose callbacks use it.
  RetryingSender sender_;
  PeriodicThread scanner_;  // Last: stopped before the rest goes.
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_FORGE_STATUS_H_
