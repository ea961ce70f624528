// Sends the CDEvents of server/cdevents.h to the URLs configured per
// project (`slipway serve --cdevent-sink PROJECT=URL`, docs/deployments.md),
// as CloudEvents over HTTP in binary content mode, from a thread of its own:
// jobs never wait for it. It reads the store once per scan_interval for
// deployments and incidents that changed, so whatever records them (a job, a
// rollback, the API, Alertmanager) is covered without being told. The POSTs
// go through a RetryingSender (retrying_sender.h): a failed one (no answer,
// or a status other than 2xx) is retried with exponential back-off, up to
// max_attempts. Of servers sharing the database, the one that claims an
// event sends it (event_claims.h); a restart announces what happens after
// it, and what a dead server claimed but did not send.
#ifndef SLIPWAY_SERVER_CDEVENTS_PUBLISHER_H_
#define SLIPWAY_SERVER_CDEVENTS_PUBLISHER_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/cdevents.h"
#include "server/event_claims.h"
#include "server/periodic_thread.h"
#include "server/retrying_sender.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/status.h"

namespace slipway {

struct CdEventsOptions {
  // Project path -> URLs its events go to; "*" for every project.
  std::map<std::string, std::vector<std::string>> sinks;
  std::string base_url;  // The server's, for each event's source.
  std::chrono::milliseconds scan_interval{1000};
  std::chrono::milliseconds first_retry{1000};  // Doubled after each failure...
  std::chrono::milliseconds max_retry{60000};   // ...up to this.
  int max_attempts = 8;
  std::size_t max_pending = 10000;          // More: the oldest is dropped (and said).
  std::chrono::milliseconds timeout{5000};  // Per POST.
  ClaimOptions claims;
  // The store's clock (what its timestamps are read against); null: the
  // machine's. Delivery timing always uses the machine's steady clock.
  const Clock* clock = nullptr;
};

// Parses PROJECT=URL (an http or https URL) into options->sinks.
Status AddCdEventSink(const std::string& spec, CdEventsOptions* options);

class CdEventsPublisher {
 public:
  // Events about what finishes, opens or resolves at or after start_ms.
  // Starts the thread.
  CdEventsPublisher(Store* store, CdEventsOptions options, int64_t start_ms);
  ~CdEventsPublisher();  // Stops the thread; unsent events are dropped.
  CdEventsPublisher(const CdEventsPublisher&) = delete;
  CdEventsPublisher& operator=(const CdEventsPublisher&) = delete;

  using Counts = RetryingSender::Counts;
  Counts counts() { return sender_.counts(); }

 private:
  Status Scan(int64_t now_ms);
  // Claims event and sends it to project's sinks when this server is to.
  Status Queue(const ProjectRecord& project, const CdEvent& event, int64_t now_ms);
  void Send(const std::string& project_path, const CdEvent& event, const DeliveryClaim& claim);
  Status Resend(const DeliveryClaim& claim);  // What a server that died claimed.
  std::vector<std::string> SinksOf(const std::string& project_path) const;

  Store* const store_;
  const CdEventsOptions options_;
  const int64_t start_ms_;
  // Only the thread touches these.
  int64_t scanned_to_ms_;
  std::set<std::string> announced_;  // Event ids queued once.

  EventClaims claims_;  // Outlives sender_, whose callbacks use it.
  RetryingSender sender_;
  PeriodicThread scanner_;  // Last: stopped before the rest goes.
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_CDEVENTS_PUBLISHER_H_
