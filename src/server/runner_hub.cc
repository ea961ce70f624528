#include "server/runner_hub.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "exec/remote_job.h"
#include "util/logger.h"

namespace slipway {

struct RunnerHub::Lease {
  const Job* job = nullptr;
  const JobSpec* spec = nullptr;
  std::string repository;
  LogSink* log = nullptr;  // Valid while Run waits for this lease.
  int64_t fence = 0;       // 0 while waiting for a runner.
  int64_t runner_id = 0;
  Clock::TimePoint renewed;
  std::optional<JobResult> result;  // Set by Finish (or on expiry).
  bool cancel_sent = false;
};

void RunnerHub::Connection::SetWaker(std::function<void()> waker) {
  std::lock_guard<std::mutex> lock(mu_);
  waker_ = std::move(waker);
}

std::string RunnerHub::Connection::Take(bool* closed) {
  std::lock_guard<std::mutex> lock(mu_);
  *closed = closed_;
  std::string out;
  out.swap(queued_);
  return out;
}

void RunnerHub::Connection::Push(std::string line) {
  std::function<void()> waker;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_ += line;
    waker = waker_;
  }
  if (waker) waker();
}

void RunnerHub::Connection::Close() {
  std::function<void()> waker;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    waker = waker_;
  }
  if (waker) waker();
}

void RunnerHub::Connection::Closed() { hub_->Disconnected(this); }

RunnerHub::RunnerHub(Options options)
    : options_(options), clock_(options.clock != nullptr ? options.clock : MachineClock()) {
  // Fences stay monotonic across restarts of the server: a runner still
  // holding one from before cannot match a new lease.
  next_fence_ = WallMillis() * 1000;
}

RunnerHub::~RunnerHub() = default;

int64_t RunnerHub::WallMillis() const { return UnixMillis(clock_->WallNow()); }

std::shared_ptr<RunnerHub::Connection> RunnerHub::Connect(RunnerInfo info) {
  auto connection = std::make_shared<Connection>(this, info);
  std::shared_ptr<Connection> replaced;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = connections_[info.id];
    replaced = std::move(slot);
    slot = connection;
    RunnerStatus& status = seen_[info.id];
    status.info = info;
    status.online = true;
    status.contacted_at = WallMillis();
    // Jobs it still holds from before (a reconnect) keep their leases.
    connection->Push(nlohmann::json({{"type", "hello"},
                                     {"runner_id", info.id},
                                     {"lease_timeout_ms", options_.lease_timeout.count()}})
                         .dump() +
                     "\n");
    DispatchLocked();
  }
  if (replaced) replaced->Close();
  std::string tags;
  for (const std::string& tag : info.tags) tags += (tags.empty() ? "" : ",") + tag;
  LogLine(LogLevel::kInfo, "runner_connected")
      .Int("runner_id", info.id)
      .Str("description", info.description)
      .Str("tags", tags)
      .Int("concurrency", info.concurrency)
      .Bool("replaced", replaced != nullptr);
  return connection;
}

void RunnerHub::Disconnected(Connection* connection) {
  LogLine(LogLevel::kInfo, "runner_disconnected").Int("runner_id", connection->info().id);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = connections_.find(connection->info().id);
  if (it == connections_.end() || it->second.get() != connection) return;
  connections_.erase(it);
  seen_[connection->info().id].online = false;
}

void RunnerHub::Contacted(int64_t runner_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seen_.find(runner_id);
  if (it != seen_.end()) it->second.contacted_at = WallMillis();
}

void RunnerHub::DispatchLocked() {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const std::shared_ptr<Lease>& lease = *it;
    Connection* chosen = nullptr;
    for (auto& [id, connection] : connections_) {
      const RunnerInfo& info = connection->info();
      bool tagged = std::all_of(
          lease->job->tags.begin(), lease->job->tags.end(), [&](const std::string& tag) {
            return std::find(info.tags.begin(), info.tags.end(), tag) != info.tags.end();
          });
      if (tagged && seen_[id].running < info.concurrency) {
        chosen = connection.get();
        break;
      }
    }
    if (chosen == nullptr) {
      ++it;
      continue;
    }
    lease->fence = ++next_fence_;
    lease->runner_id = chosen->info().id;
    lease->renewed = clock_->Now();
    ++seen_[lease->runner_id].running;
    leases_[lease->spec->job_id] = lease;
    if (ran_by_.size() >= kRememberedJobs) ran_by_.erase(ran_by_.begin());  // The oldest job.
    ran_by_[lease->spec->job_id] = lease->runner_id;
    nlohmann::json message = RemoteJobToJson(*lease->job, *lease->spec);
    message["type"] = "job";
    message["job_id"] = lease->spec->job_id;
    message["fence"] = lease->fence;
    chosen->Push(message.dump() + "\n");
    it = waiting_.erase(it);
  }
}

void RunnerHub::PushCancelLocked(const Lease& lease) {
  auto connection = connections_.find(lease.runner_id);
  if (connection == connections_.end()) return;  // It hears of it when it reports (409).
  connection->second->Push(
      nlohmann::json({{"type", "cancel"}, {"job_id", lease.spec->job_id}, {"fence", lease.fence}})
          .dump() +
      "\n");
}

JobResult RunnerHub::Run(const Job& job, const JobSpec& spec, const std::string& repository,
                         LogSink* log, const CancelToken& cancel,
                         const std::function<void(const RunnerInfo&)>& on_leased) {
  auto lease = std::make_shared<Lease>();
  lease->job = &job;
  lease->spec = &spec;
  lease->repository = repository;
  lease->log = log;
  std::unique_lock<std::mutex> lock(mu_);
  waiting_.push_back(lease);
  DispatchLocked();
  if (lease->fence == 0) {
    std::string tags;
    for (const std::string& tag : job.tags) tags += (tags.empty() ? "" : ", ") + tag;
    log->Write(job.name, "Waiting for a runner" +
                             (tags.empty() ? std::string() : " with the tags [" + tags + "]") +
                             "...\n");
  }
  JobResult result;
  bool announced = false;
  for (;;) {
    if (lease->fence != 0 && !announced && on_leased) {
      announced = true;
      RunnerInfo info = seen_[lease->runner_id].info;
      lock.unlock();
      on_leased(info);
      lock.lock();
      continue;
    }
    if (lease->result) {
      result = std::move(*lease->result);
      break;
    }
    if (shutdown_) {
      if (lease->fence == 0) waiting_.erase(std::find(waiting_.begin(), waiting_.end(), lease));
      result.outcome = JobOutcome::kCanceled;
      break;
    }
    if (lease->fence == 0 && cancel.canceled()) {
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), lease));
      result.outcome = JobOutcome::kCanceled;
      return result;
    }
    Clock::TimePoint now = clock_->Now();
    if (lease->fence != 0 && now - lease->renewed >= options_.lease_timeout) {
      log->Write(job.name, "ERROR: the runner was not heard of for " +
                               std::to_string(options_.lease_timeout.count()) +
                               " ms: its lease expired\nERROR: Job failed (system failure)\n");
      result.outcome = JobOutcome::kFailed;
      result.failure_reason = "runner_system_failure";
      result.exit_code = -1;
      PushCancelLocked(*lease);
      break;
    }
    if (lease->fence != 0 && cancel.canceled() && !lease->cancel_sent) {
      lease->cancel_sent = true;
      PushCancelLocked(*lease);
    }
    // Woken by reports; the short bound is for cancel, which notifies no one.
    Clock::TimePoint deadline = now + std::chrono::milliseconds(200);
    if (lease->fence != 0) deadline = std::min(deadline, lease->renewed + options_.lease_timeout);
    clock_->SleepUntil(lock, cv_, deadline);
  }
  if (lease->fence != 0) {
    std::remove(BundlePath(spec.job_id, lease->fence).c_str());
    auto it = leases_.find(spec.job_id);
    if (it != leases_.end() && it->second == lease) leases_.erase(it);
    auto status = seen_.find(lease->runner_id);
    if (status != seen_.end()) --status->second.running;
    DispatchLocked();
  }
  if (cancel.canceled() && result.outcome != JobOutcome::kSuccess) {
    result.outcome = JobOutcome::kCanceled;
  }
  return result;
}

LeaseError RunnerHub::Find(int64_t runner_id, int64_t job_id, int64_t fence,
                           std::shared_ptr<Lease>* out) {
  auto it = leases_.find(job_id);
  if (it == leases_.end() || it->second->result) return LeaseError::kUnknownJob;
  if (it->second->fence != fence || it->second->runner_id != runner_id) {
    return LeaseError::kStaleFence;
  }
  *out = it->second;
  (*out)->renewed = clock_->Now();
  auto status = seen_.find(runner_id);
  if (status != seen_.end()) status->second.contacted_at = WallMillis();
  return LeaseError::kNone;
}

LeaseError RunnerHub::Heartbeat(int64_t runner_id, int64_t job_id, int64_t fence) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Lease> lease;
  return Find(runner_id, job_id, fence, &lease);
}

LeaseError RunnerHub::AppendLog(int64_t runner_id, int64_t job_id, int64_t fence,
                                std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Lease> lease;
  LeaseError error = Find(runner_id, job_id, fence, &lease);
  // Under mu_: Run does not return (ending the sink's life) meanwhile.
  if (error == LeaseError::kNone) lease->log->Write(lease->job->name, bytes);
  return error;
}

LeaseError RunnerHub::Finish(int64_t runner_id, int64_t job_id, int64_t fence, JobResult result) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Lease> lease;
  LeaseError error = Find(runner_id, job_id, fence, &lease);
  if (error != LeaseError::kNone) return error;
  lease->result = std::move(result);
  cv_.notify_all();
  return LeaseError::kNone;
}

LeaseError RunnerHub::Source(int64_t runner_id, int64_t job_id, int64_t fence,
                             std::string* repository, std::string* commit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Lease> lease;
  LeaseError error = Find(runner_id, job_id, fence, &lease);
  if (error != LeaseError::kNone) return error;
  *repository = lease->repository;
  *commit = lease->spec->commit;
  return LeaseError::kNone;
}

void RunnerHub::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

std::string RunnerHub::BundlePath(int64_t job_id, int64_t fence) const {
  return options_.bundle_dir + "/" + std::to_string(job_id) + "-" + std::to_string(fence) +
         ".bundle";
}

std::vector<RunnerStatus> RunnerHub::Runners() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunnerStatus> out;
  for (const auto& [id, status] : seen_) out.push_back(status);
  return out;
}

std::optional<RunnerInfo> RunnerHub::RunnerOf(int64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ran_by_.find(job_id);
  if (it == ran_by_.end()) return std::nullopt;
  return seen_[it->second].info;
}

}  // namespace slipway
