// PipelineService: leases of pipelines among servers sharing one database
// (store/pipeline_leases.h, docs/replicas.md).
#include <algorithm>

#include "server/service_impl.h"
#include "util/logger.h"

namespace slipway {
namespace internal {

// A single server (SQLite) writes no owner per pipeline: at start it
// recovers everything (RecoverLeases) and claims every active pipeline once.
bool Service::ClaimLocked(int64_t id) {
  if (!shared_) return true;
  StatusOr<bool> claimed = leases_->ClaimPipeline(id, options_.replica_id, LeaseEnd());
  if (!claimed.ok()) {
    LogLine(LogLevel::kError, "lease_error")
        .Int("pipeline_id", id)
        .Str("error", claimed.status().message());
    return false;
  }
  return *claimed;
}

bool Service::MayClaim(int64_t id) {
  if (!shared_) return true;
  StatusOr<std::optional<std::string>> owner = leases_->PipelineOwner(id);
  if (!owner.ok()) {
    LogLine(LogLevel::kError, "lease_error")
        .Int("pipeline_id", id)
        .Str("error", owner.status().message());
    return true;  // The claim decides, as without the read.
  }
  return !*owner || **owner == options_.replica_id;
}

void Service::ReleaseLocked(int64_t id) {
  if (!shared_) return;
  Status released = leases_->ReleasePipeline(id, options_.replica_id);
  if (!released.ok()) {
    LogLine(LogLevel::kError, "lease_error")
        .Int("pipeline_id", id)
        .Str("error", released.message());
  }
}

void Service::ClaimFreeLocked() {
  while (!shared_ ||
         static_cast<int>(queue_.size() + active_.size()) < options_.max_running_pipelines) {
    StatusOr<std::optional<int64_t>> next =
        leases_->ClaimNextPipeline(options_.replica_id, LeaseEnd());
    if (!next.ok()) {
      LogLine(LogLevel::kError, "lease_error").Str("error", next.status().message());
      return;
    }
    if (!*next) return;
    int64_t id = **next;
    if (active_.count(id) > 0 || std::find(queue_.begin(), queue_.end(), id) != queue_.end()) {
      continue;
    }
    queue_.push_back(id);
    cv_.notify_one();
    await_cv_.notify_all();
  }
}

Status Service::RecoverLeases(bool starting, int64_t now_ms) {
  LeaseRecovery what;
  what.now_ms = now_ms;
  if (starting) {
    what.previous_owner = options_.replica_id;
    what.everything = !shared_;
  }
  if (!what.everything) {
    what.new_owner = options_.replica_id;
    what.lease_end = LeaseEnd(now_ms);
  }
  StatusOr<RecoveredPipelines> recovered = leases_->RecoverPipelines(what);
  if (!recovered.ok()) return recovered.status();
  // Held while their interrupted jobs end and are retried, then free: the
  // timer's claim (or another replica's, on the notice) resumes them.
  auto free_them = [&] {
    if (what.everything) return;
    std::lock_guard<std::mutex> lock(mu_);
    for (int64_t id : recovered->pipeline_ids) ReleaseLocked(id);
  };
  if (shared_ && !recovered->pipeline_ids.empty()) {
    for (int64_t id : recovered->pipeline_ids) {
      LogLine(LogLevel::kWarn, "pipeline_taken_over")
          .Int("pipeline_id", id)
          .Str("replica_id", options_.replica_id)
          .Str("message", "the server that ran it stopped renewing its lease");
    }
  }
  Status finished = FinishInterrupted(recovered->jobs);
  free_them();
  return finished;
}

void Service::Heartbeat() {
  if (!shared_) return;
  const int64_t now = NowMs();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    StatusOr<std::vector<int64_t>> mine = leases_->RenewLeases(options_.replica_id, LeaseEnd(now));
    if (!mine.ok()) {
      LogLine(LogLevel::kError, "lease_error").Str("error", mine.status().message());
      return;
    }
    auto lost = [&](int64_t id) { return !std::binary_search(mine->begin(), mine->end(), id); };
    // Taken over while this server could not renew (a pause, the database
    // out of reach): another server runs it now, this one must not write.
    for (auto& [id, active] : active_) {
      if (!lost(id) || active->cancel) continue;
      LogLine(LogLevel::kWarn, "lease_lost").Int("pipeline_id", id);
      active->cancel = true;
      active->again = false;
      if (active->scheduler != nullptr) {
        active->recorder->Detach();
        active->scheduler->Cancel();
      }
    }
    queue_.erase(std::remove_if(queue_.begin(), queue_.end(), lost), queue_.end());
  }
  Status recovered = RecoverLeases(false, now);
  if (!recovered.ok()) {
    LogLine(LogLevel::kError, "lease_error").Str("error", recovered.message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  ClaimFreeLocked();
  // Requests whose notice was lost, or left to this replica by one that
  // died: the notice thread performs them.
  if (requests_ == nullptr || listener_ == nullptr) return;
  auto pending = requests_->PendingActionRequests(options_.replica_id);
  if (!pending.ok()) {
    LogLine(LogLevel::kError, "action_request_error").Str("error", pending.status().message());
    return;
  }
  for (int64_t id : *pending) notices_queue_.push_back({ReplicaNotice::Kind::kRequest, id});
  if (!pending->empty()) notice_cv_.notify_one();
}

Status Service::ClaimForAction(int64_t pipeline_id, bool* claimed) {
  *claimed = false;
  if (!shared_) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  if (active_.count(pipeline_id) > 0 ||
      std::find(queue_.begin(), queue_.end(), pipeline_id) != queue_.end()) {
    return Status::Ok();
  }
  if (!ClaimLocked(pipeline_id)) {
    return Status::Error("pipeline " + std::to_string(pipeline_id) +
                         " is running on another server replica: act on it through that one, "
                         "or wait until it ends");
  }
  *claimed = true;
  return Status::Ok();
}

void Service::ReleaseUnlessQueued(int64_t pipeline_id, bool claimed) {
  if (!claimed) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (active_.count(pipeline_id) > 0 ||
      std::find(queue_.begin(), queue_.end(), pipeline_id) != queue_.end()) {
    return;
  }
  ReleaseLocked(pipeline_id);
}

}  // namespace internal
}  // namespace slipway
