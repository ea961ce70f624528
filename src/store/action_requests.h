// Actions asked through one server on a pipeline another server runs
// (docs/replicas.md, "Forwarded actions"): a row in action_requests, a
// notice to the owner, which takes the row, acts exactly as if asked
// directly, and writes the answer; the asking server waits for it. Each
// request is taken by at most one server, or abandoned by the one that asked
// (then nobody does it): an action is never done twice, nor lost without an
// answer. SQLite holds one server and never needs them.
#ifndef SLIPWAY_STORE_ACTION_REQUESTS_H_
#define SLIPWAY_STORE_ACTION_REQUESTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace slipway {

struct ActionRequest {
  int64_t id = 0;
  int64_t pipeline_id = 0;
  std::optional<int64_t> job_id;  // For the job actions.
  // cancel_job, retry_job, play_job, cancel_pipeline or retry_pipeline.
  std::string action;
  // pending (asked), taken (by taken_by, acting), done or failed (error).
  std::string state = "pending";
  std::string requested_by;  // Replica ids.
  std::string taken_by;
  // done: the job the action leaves (a retry's new job) or the pipeline.
  std::optional<int64_t> result_id;
  std::string error;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

class ActionRequests {
 public:
  virtual ~ActionRequests() = default;
  // Stores request as pending and notifies (request:<id>) in the same
  // transaction; removes answered requests older than an hour.
  virtual StatusOr<ActionRequest> CreateActionRequest(const ActionRequest& request) = 0;
  virtual StatusOr<std::optional<ActionRequest>> GetActionRequest(int64_t id) = 0;
  // pending -> taken by owner, while owner holds the pipeline's lease; none
  // when it is not pending any more or owner does not hold the pipeline.
  virtual StatusOr<std::optional<ActionRequest>> TakeActionRequest(int64_t id,
                                                                   std::string_view owner) = 0;
  // Pending requests on the pipelines owner holds, oldest first.
  virtual StatusOr<std::vector<int64_t>> PendingActionRequests(std::string_view owner) = 0;
  // taken by owner -> done (error empty) or failed; notifies (done:<id>) in
  // the same transaction. False when owner had not taken it.
  virtual StatusOr<bool> FinishActionRequest(int64_t id, std::string_view owner,
                                             std::optional<int64_t> result_id,
                                             std::string_view error) = 0;
  // pending -> failed with error (the asking server gives up, or acts
  // itself); false when somebody took it first.
  virtual StatusOr<bool> AbandonActionRequest(int64_t id, std::string_view error) = 0;
};

inline ActionRequests* ActionRequestsOf(Store* store) {
  return dynamic_cast<ActionRequests*>(store);
}

}  // namespace slipway

#endif  // SLIPWAY_STORE_ACTION_REQUESTS_H_
