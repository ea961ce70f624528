// One publisher's side of "one server sends each event"
// (store/delivery_claims.h, docs/replicas.md "Publishers"). A publisher
// follows the store as before and, before queuing an event, claims it: only
// the server whose claim succeeds sends. A claim is finished once its
// requests were answered or given up (RetryingSender's done); until then
// the claimer renews its lease on every scan. A claim whose lease ended
// unsent — its server died between claim and send, or could not reach the
// database for longer than the lease — is taken over on another server's
// scan and sent from its payload: an event is sent at least once, and
// twice only when a server died after sending and before recording it.
#ifndef SLIPWAY_SERVER_EVENT_CLAIMS_H_
#define SLIPWAY_SERVER_EVENT_CLAIMS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/delivery_claims.h"
#include "util/clock.h"
#include "util/thread_annotations.h"

namespace slipway {

struct ClaimOptions {
  // Names this server in the claims' owner column, followed by a random
  // suffix per process (a server started again does not renew what the
  // previous process claimed: another takes that over). Empty: the
  // suffix alone.
  std::string replica_id;
  int64_t lease_ms = 30000;  // How long an unrenewed claim waits for its owner.
};

// Thread-safe: Claim and Tick run on the publisher's thread, the
// completions on its sender's.
class EventClaims {
 public:
  // clock: the store's (what lease times are read against); null: the
  // machine's. A store without DeliveryClaims: every claim succeeds.
  EventClaims(Store* store, std::string publisher, ClaimOptions options, const Clock* clock);
  EventClaims(const EventClaims&) = delete;
  EventClaims& operator=(const EventClaims&) = delete;

  // True when this server is to send claim (claim.publisher is filled in).
  StatusOr<bool> Claim(DeliveryClaim claim, int64_t now_ms);

  // What each of the n requests carrying claim calls once it was answered or
  // given up; the claim is finished after the last. n == 0: finished now.
  // key: the RetryingSender key the requests are queued under (empty:
  // none); a request with the same key replaces a waiting one, so the claim
  // that key carried before is finished now.
  std::function<void()> Completion(const DeliveryClaim& claim, int n, const std::string& key = "");

  // Once per scan: renews this server's unsent claims and takes over those
  // whose owner's lease ended, returning them for the publisher to send
  // (and to pass to Completion).
  StatusOr<std::vector<DeliveryClaim>> Tick(int64_t now_ms);

  const std::string& owner() const { return owner_; }

 private:
  void Finish(const std::string& subject, const std::string& state);
  int64_t NowMs() const;

  DeliveryClaims* const claims_;  // Null: the store has none.
  const std::string publisher_;
  const ClaimOptions options_;
  const Clock* const clock_;
  const std::string owner_;
  int64_t ticks_ = 0;  // Only Tick touches it.
  std::mutex mu_;
  // Per RetryingSender key, the claim (subject, state) its request carries.
  std::map<std::string, std::pair<std::string, std::string>> by_key_ GUARDED_BY(mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_EVENT_CLAIMS_H_
