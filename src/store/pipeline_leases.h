// Which server runs which pipeline when several `slipway serve` share one
// PostgreSQL database (docs/replicas.md). Every active pipeline a server
// runs or has queued carries that server's replica id (owner) and the time
// its lease ends (lease_expires_at, Unix ms); the owner renews its leases
// while it lives. A pipeline without an owner is free: any server may claim
// it. A pipeline whose owner's lease has ended was left by a server that
// died: recovery fails its running jobs (runner_system_failure) and frees
// it. SQLite holds one server: the same calls, with plain transactions.
#ifndef SLIPWAY_STORE_PIPELINE_LEASES_H_
#define SLIPWAY_STORE_PIPELINE_LEASES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace slipway {

struct LeaseRecovery {
  int64_t now_ms = 0;
  // A server starting again under the replica id it had: its pipelines are
  // recovered at once, whatever their lease says. Empty: none.
  std::string previous_owner;
  // Every running job and every owned pipeline (a single server starting:
  // nobody else can be running anything).
  bool everything = false;
  // Not everything: the recovering server, which holds each recovered
  // pipeline (owner, lease until lease_end) while it ends the interrupted
  // jobs and retries them, then frees it. Freed at once, no server could
  // claim and resume the pipeline before its retries exist.
  std::string new_owner;
  int64_t lease_end = 0;
};

struct RecoveredPipelines {
  std::vector<int64_t> pipeline_ids;  // Freed, or held by new_owner (above), by id.
  std::vector<JobRecord> jobs;        // Were running, now failed (runner_system_failure).
};

class PipelineLeases {
 public:
  virtual ~PipelineLeases() = default;
  // Whether other servers may use the database at the same time
  // (PostgreSQL); SQLite: false.
  virtual bool SharedByServers() = 0;
  // Takes pipeline id for owner until expires_at when it has no owner or is
  // owner's already; false when another server owns it.
  virtual StatusOr<bool> ClaimPipeline(int64_t id, std::string_view owner, int64_t expires_at) = 0;
  // Who holds pipeline id now: its owner's replica id, or nullopt when it is
  // free (or there is no such pipeline). A plain read: a caller that waits
  // for a pipeline to become free polls this, not ClaimPipeline's write.
  virtual StatusOr<std::optional<std::string>> PipelineOwner(int64_t id) = 0;
  // Takes the oldest active (created .. running) pipeline without an owner
  // for owner; each such pipeline goes to exactly one caller, also across
  // servers (PostgreSQL: FOR UPDATE SKIP LOCKED). None: there is none.
  virtual StatusOr<std::optional<int64_t>> ClaimNextPipeline(std::string_view owner,
                                                             int64_t expires_at) = 0;
  // Moves the lease of every pipeline owner holds to expires_at; returns
  // their ids (a pipeline missing from them was taken over: its owner's
  // lease had ended).
  virtual StatusOr<std::vector<int64_t>> RenewLeases(std::string_view owner,
                                                     int64_t expires_at) = 0;
  // Frees pipeline id if owner holds it.
  virtual Status ReleasePipeline(int64_t id, std::string_view owner) = 0;
  // Active pipelines whose owner's lease ended before now_ms (and those of
  // what.previous_owner, and free ones with running jobs): their running
  // jobs become failed with runner_system_failure and they are freed, in one
  // transaction; pipelines another caller is recovering are skipped.
  virtual StatusOr<RecoveredPipelines> RecoverPipelines(const LeaseRecovery& what) = 0;
  // Cron's compare-and-set: moves schedule id's next_run_at from due_at to
  // next_run_at (none: the schedule can never run again and becomes
  // inactive). True for exactly one caller per due_at: the one that fires it.
  virtual StatusOr<bool> ClaimScheduleRun(int64_t id, int64_t due_at,
                                          std::optional<int64_t> next_run_at) = 0;
};

// The store's leases (both backends have them); null for a store that has
// none, which PipelineService::Create refuses.
inline PipelineLeases* LeasesOf(Store* store) { return dynamic_cast<PipelineLeases*>(store); }

}  // namespace slipway

#endif  // SLIPWAY_STORE_PIPELINE_LEASES_H_
