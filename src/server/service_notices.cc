// PipelineService: notices among replicas sharing one PostgreSQL database
// and the actions forwarded to a pipeline's owner (store/replica_notices.h,
// store/action_requests.h, docs/replicas.md).
#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "server/service_impl.h"
#include "util/logger.h"

namespace slipway {
namespace internal {
namespace {

// Set while the notice thread performs a request: an action that finds its
// pipeline owned elsewhere again is refused, never forwarded once more.
thread_local bool performing_request = false;

constexpr auto kRecheck = std::chrono::milliseconds(500);
// How long an action on a pipeline another replica runs waits for that
// replica to take it (docs/replicas.md, "Forwarded actions"); once taken, as
// long again for its answer.
constexpr int64_t kForwardTimeoutMs = 10000;

}  // namespace

Status Service::StartNotices() {
  if (!shared_ || notices_ == nullptr) return Status::Ok();
  auto listener = notices_->Listen([this](const ReplicaNotice& notice) { OnNotice(notice); });
  if (!listener.ok()) return listener.status();
  listener_ = std::move(*listener);
  notice_thread_ = std::thread([this] { NoticeLoop(); });
  return Status::Ok();
}

void Service::StopNotices() {
  // stopping_ is set: the notice thread ends; no notice arrives after this.
  notice_cv_.notify_all();
  if (notice_thread_.joinable()) notice_thread_.join();
  listener_.reset();
}

void Service::OnNotice(const ReplicaNotice& notice) {
  using Kind = ReplicaNotice::Kind;
  if (notice.kind == Kind::kLog) return;  // For live logs (log_follower.h): the most frequent.
  std::lock_guard<std::mutex> lock(mu_);
  if (notice.kind == Kind::kRequestDone || notice.kind == Kind::kMissed) answer_cv_.notify_all();
  if (notice.kind == Kind::kFree || notice.kind == Kind::kRequest || notice.kind == Kind::kMissed) {
    // Bounded: a flood of notices costs one pass per kind, not one each.
    if (notices_queue_.size() < 1000) notices_queue_.push_back(notice);
    notice_cv_.notify_one();
  }
}

void Service::NoticeLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    notice_cv_.wait(lock, [&] { return stopping_ || !notices_queue_.empty(); });
    if (stopping_) return;
    ReplicaNotice notice = notices_queue_.front();
    notices_queue_.pop_front();
    using Kind = ReplicaNotice::Kind;
    if (notice.kind == Kind::kFree || notice.kind == Kind::kMissed) ClaimFreeLocked();
    if (notice.kind == Kind::kRequest) {
      lock.unlock();
      PerformRequest(notice.id);
      lock.lock();
    } else if (notice.kind == Kind::kMissed && requests_ != nullptr) {
      // Requests whose notices were lost (also run by the timer).
      lock.unlock();
      auto pending = requests_->PendingActionRequests(options_.replica_id);
      if (pending.ok()) {
        for (int64_t id : *pending) PerformRequest(id);
      }
      lock.lock();
    }
  }
}

void Service::PerformRequest(int64_t id) {
  if (requests_ == nullptr) return;
  // Only the pipeline's owner takes it, once.
  auto taken = requests_->TakeActionRequest(id, options_.replica_id);
  if (!taken.ok()) {
    LogLine(LogLevel::kError, "action_request_error")
        .Int("request_id", id)
        .Str("error", taken.status().message());
    return;
  }
  if (!*taken) return;
  const ActionRequest& request = **taken;
  LogLine(LogLevel::kInfo, "action_request")
      .Int("request_id", id)
      .Str("action", request.action)
      .Int("pipeline_id", request.pipeline_id)
      .Str("requested_by", request.requested_by);
  performing_request = true;
  StatusOr<int64_t> result = Status::Error("unknown action '" + request.action + "'");
  const int64_t job_id = request.job_id.value_or(0);
  auto job_result = [](const StatusOr<JobRecord>& job) -> StatusOr<int64_t> {
    if (!job.ok()) return job.status();
    return job->id;
  };
  if (request.action == "cancel_job") {
    result = job_result(CancelJob(job_id));
  } else if (request.action == "retry_job") {
    result = job_result(RetryJob(job_id));
  } else if (request.action == "play_job") {
    result = job_result(PlayJob(job_id));
  } else if (request.action == "cancel_pipeline") {
    Status canceled = CancelPipeline(request.pipeline_id);
    result = canceled.ok() ? StatusOr<int64_t>(request.pipeline_id) : canceled;
  } else if (request.action == "retry_pipeline") {
    StatusOr<PipelineRecord> retried = RetryPipeline(request.pipeline_id);
    result = retried.ok() ? StatusOr<int64_t>(retried->id) : retried.status();
  }
  performing_request = false;
  std::string error = result.ok() ? "" : result.status().message();
  if (!result.ok() && error.empty()) error = "the action failed";
  auto finished = requests_->FinishActionRequest(
      id, options_.replica_id, result.ok() ? std::optional<int64_t>(*result) : std::nullopt, error);
  if (!finished.ok()) {
    LogLine(LogLevel::kError, "action_request_error")
        .Int("request_id", id)
        .Str("error", finished.status().message());
  }
}

bool Service::CanForward() const {
  return shared_ && requests_ != nullptr && listener_ != nullptr && !performing_request;
}

StatusOr<int64_t> Service::Forward(int64_t pipeline_id, std::optional<int64_t> job_id,
                                   const char* action) {
  ActionRequest asked;
  asked.pipeline_id = pipeline_id;
  asked.job_id = job_id;
  asked.action = action;
  asked.requested_by = options_.replica_id;
  auto created = requests_->CreateActionRequest(asked);
  if (!created.ok()) return created.status();
  const int64_t id = created->id;
  const auto timeout = std::chrono::milliseconds(kForwardTimeoutMs);
  const auto start = std::chrono::steady_clock::now();
  const std::string what = "pipeline " + std::to_string(pipeline_id);
  while (true) {
    auto now = requests_->GetActionRequest(id);
    if (!now.ok()) return now.status();
    if (!*now) return Status::Error(what + ": the action request was removed");
    const ActionRequest& request = **now;
    if (request.state == "done") {
      if (request.result_id) return *request.result_id;
      return Status::Error(what + ": the action was done but its answer names nothing");
    }
    if (request.state == "failed") return Status::Error(request.error);
    if (request.state == "pending") {
      // The pipeline may have become free meanwhile (its owner ended it, or
      // died and the pipeline was taken over and ended): no owner will take
      // the request then, and this replica does it as an owner would. A
      // read first: the claim (a write) only when the pipeline is free or
      // this replica's (recovery took it over for this one). Another
      // replica's, even with its lease ended, cannot be claimed: recovery
      // frees it first.
      bool claimed = false;
      if (MayClaim(pipeline_id)) {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return Status::Error(what + ": this server is stopping");
        claimed = ClaimLocked(pipeline_id);
      }
      if (claimed) {
        PerformRequest(id);
        ReleaseUnlessQueued(pipeline_id, true);
        continue;
      }
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    if (request.state == "pending" && waited >= timeout) {
      auto abandoned = requests_->AbandonActionRequest(id, "nobody answered");
      if (!abandoned.ok()) return abandoned.status();
      if (*abandoned) {
        return Status::Error(what +
                             " is running on another server replica, which did not take the "
                             "action within " +
                             std::to_string(kForwardTimeoutMs / 1000) +
                             " s: nothing was done; try again");
      }
      continue;  // Taken just now: its answer comes.
    }
    // A taken request gets as long again: the owner acts (a cancel waits
    // for its processes to end).
    if (request.state == "taken" && waited >= 2 * timeout) {
      return Status::Error(what + " is running on server replica " + request.taken_by +
                           ", which took the action but did not answer within " +
                           std::to_string(2 * kForwardTimeoutMs / 1000) +
                           " s; look at the pipeline to see whether it was done");
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return Status::Error(what + ": this server is stopping");
    answer_cv_.wait_for(lock, kRecheck);
  }
}

}  // namespace internal

int64_t ServerTimerPeriodMs() {
  const char* ms = std::getenv("SLIPWAY_TEST_TIMER_MS");
  if (ms == nullptr || *ms == '\0') return 1000;
  return std::clamp<int64_t>(std::atoll(ms), 1, int64_t{24} * 3600 * 1000);
}
}  // namespace slipway
