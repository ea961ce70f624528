// Which server sends each event when several `slipway serve` share one
// database (docs/replicas.md, docs/database.md "deliveries"). The
// publishers (commit statuses, project hooks, CDEvents) each follow the
// store on every server; before sending, a server claims the event: one
// row per publisher and subject (a pipeline, a job, an event id) holds the
// state last claimed, the version (the subject's updated_at) it was read
// at, who claimed it, until when, and whether it went out. A claim takes
// the row only when its state differs and its version is not older, so of
// servers that see the same change exactly one sends it, and a server that
// read the subject before a later change cannot send the older state after
// the newer one. The claimer renews its unsent claims while it lives; a
// claim whose lease ended unsent (the server died between claim and send)
// is taken over by another server, which sends it then.
#ifndef SLIPWAY_STORE_DELIVERY_CLAIMS_H_
#define SLIPWAY_STORE_DELIVERY_CLAIMS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace slipway {

struct DeliveryClaim {
  std::string publisher;  // "commit_status", "project_hook", "cdevent".
  std::string subject;    // "pipeline:12", "job:40", a CDEvent's id.
  std::string state;      // What is sent about it: a status, or "sent".
  int64_t version = 0;    // The subject's updated_at the state was read at.
  int64_t project_id = 0;
  std::string payload;  // What a server taking the claim over sends (no secret).
};

class DeliveryClaims {
 public:
  virtual ~DeliveryClaims() = default;
  // Takes claim.subject for owner until expires_at: true when there was no
  // row, or its state differs from claim.state and its version is at most
  // claim.version (the row then holds claim, unsent). False: another server
  // claimed this state (or a newer one) first.
  virtual StatusOr<bool> ClaimDelivery(const DeliveryClaim& claim, std::string_view owner,
                                       int64_t expires_at) = 0;
  // Marks the claim sent (or given up) at now_ms, if owner still holds it
  // with that state.
  virtual Status FinishDelivery(std::string_view publisher, std::string_view subject,
                                std::string_view state, std::string_view owner, int64_t now_ms) = 0;
  // Moves the lease of owner's unsent claims of publisher to expires_at.
  virtual Status RenewDeliveries(std::string_view publisher, std::string_view owner,
                                 int64_t expires_at) = 0;
  // Takes up to limit unsent claims of publisher whose lease ended before
  // now_ms for owner until expires_at, and returns them; each goes to one
  // caller.
  virtual StatusOr<std::vector<DeliveryClaim>> TakeOverDeliveries(std::string_view publisher,
                                                                  std::string_view owner,
                                                                  int64_t now_ms,
                                                                  int64_t expires_at,
                                                                  int limit) = 0;
  // Forgets the claims sent before before_ms.
  virtual Status PruneDeliveries(int64_t before_ms) = 0;
};

// The store's claims (both backends have them); null for a store without.
inline DeliveryClaims* DeliveryClaimsOf(Store* store) {
  return dynamic_cast<DeliveryClaims*>(store);
}

}  // namespace slipway

#endif  // SLIPWAY_STORE_DELIVERY_CLAIMS_H_
