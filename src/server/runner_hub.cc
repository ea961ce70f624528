#include "server/runner_hub.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "exec/beneath_io.h"
#include "exec/remote_job.h"
#include "util/logger.h"

namespace slipway {

struct RunnerHub::Lease {
  const Job* job = nullptr;
  const JobSpec* spec = nullptr;
  RemoteJobFiles files;
  LogSink* log = nullptr;  // Valid while Run waits for this lease.
  int64_t fence = 0;       // 0 while waiting for a runner.
  int64_t runner_id = 0;
  Clock::TimePoint renewed;
  std::optional<JobResult> result;       // Set by Finish (or on expiry).
  std::optional<ArchiveFile> artifacts;  // The upload, as Finish names it.
  bool cancel_sent = false;
  uint64_t log_received = 0;  // Log bytes of this lease stored so far (AppendLog).
  // The job message, pushed by Run once the lease is recorded (on_leased).
  std::string message;
  bool pushed = false;
  // The artifacts upload: appended to by the API's threads (not under the
  // hub's mu_, a chunk is up to a MiB), closed by Run once the lease ended.
  std::mutex upload_mu;
  uint64_t uploaded GUARDED_BY(upload_mu) = 0;
  bool upload_closed GUARDED_BY(upload_mu) = false;
};

// The archive of one job's artifacts going to runners (ArtifactsArchive).
struct RunnerHub::Packed {
  std::string path;
  int holders = 0;  // Live leases that get these artifacts; under the hub's mu_.
  // Held while packing, so that concurrent asks pack once, and by
  // RemoveArchive, so that an archive being packed is removed after.
  std::mutex mu;
  std::optional<ArchiveFile> archive GUARDED_BY(mu);  // Once packed.
  bool removed GUARDED_BY(mu) = false;
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
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : MachineClock()),
      bundles_(options.bundle_dir + "/commits") {
  // Fences stay monotonic across restarts of the server: a runner still
  // holding one from before cannot match a new lease.
  next_fence_ = WallMillis() * 1000;
  instance_ = next_fence_;
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

bool RunnerHub::SetConcurrency(int64_t runner_id, int concurrency) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (connections_.count(runner_id) == 0) return false;
    // The connection's own info keeps what it announced; seen_ is what
    // DispatchLocked counts against.
    seen_[runner_id].info.concurrency = concurrency;
    DispatchLocked();
  }
  LogLine(LogLevel::kDebug, "runner_slots")
      .Int("runner_id", runner_id)
      .Int("concurrency", concurrency);
  return true;
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
      const RunnerStatus& status = seen_[id];
      if (HasTags(info, *lease->job) && status.running < status.info.concurrency) {
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
    HoldArchivesLocked(*lease);
    nlohmann::json message = RemoteJobToJson(*lease->job, *lease->spec);
    message["type"] = "job";
    message["job_id"] = lease->spec->job_id;
    message["fence"] = lease->fence;
    // Not pushed here: Run records the lease first (a server killed between
    // the two must not leave a job running on a runner while the database
    // says it waits: another replica would run it again at once).
    lease->message = message.dump() + "\n";
    it = waiting_.erase(it);
    cv_.notify_all();
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

JobResult RunnerHub::Run(const Job& job, const JobSpec& spec, RemoteJobFiles files, LogSink* log,
                         const CancelToken& cancel,
                         const std::function<void(const RunnerInfo&)>& on_leased) {
  auto lease = std::make_shared<Lease>();
  lease->job = &job;
  lease->spec = &spec;
  lease->files = std::move(files);
  lease->log = log;
  // Under way by the time a runner asks for it (api_runners.cc).
  bundles_.Prepare(lease->files.repository, spec.commit);
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
  for (;;) {
    if (lease->fence != 0 && !lease->pushed) {
      lease->pushed = true;
      if (on_leased) {
        RunnerInfo info = seen_[lease->runner_id].info;
        lock.unlock();
        on_leased(info);
        lock.lock();
      }
      // The lease runs from the push. A runner that went away meanwhile
      // never gets the job: its lease expires.
      lease->renewed = clock_->Now();
      auto connection = connections_.find(lease->runner_id);
      if (connection != connections_.end() && !shutdown_) connection->second->Push(lease->message);
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
    auto it = leases_.find(spec.job_id);
    if (it != leases_.end() && it->second == lease) leases_.erase(it);
    auto status = seen_.find(lease->runner_id);
    if (status != seen_.end()) --status->second.running;
    std::vector<std::shared_ptr<Packed>> unused = ReleaseArchivesLocked(*lease);
    DispatchLocked();
    lock.unlock();
    Collect(lease.get(), job, &result);
    for (const auto& packed : unused) RemoveArchive(packed.get());
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
                                std::optional<uint64_t> offset, std::string_view bytes,
                                int* refused_status, std::string* why) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Lease> lease;
  *refused_status = 0;
  LeaseError error = Find(runner_id, job_id, fence, &lease);
  if (error != LeaseError::kNone) return error;
  if (offset) {
    if (*offset > lease->log_received) {
      *refused_status = 416;
      *why = "the log chunk starts at byte " + std::to_string(*offset) + " but " +
             std::to_string(lease->log_received) + " were received";
      return error;
    }
    // A chunk sent again whose first answer was lost: only what is new.
    bytes.remove_prefix(std::min<uint64_t>(lease->log_received - *offset, bytes.size()));
  }
  if (bytes.empty()) return error;
  // Under mu_: Run does not return (ending the sink's life) meanwhile.
  Status stored = lease->log->WriteChecked(lease->job->name, bytes);
  if (stored.ok()) {
    lease->log_received += bytes.size();
  } else {
    *refused_status = 503;
    *why = stored.message();
  }
  return error;
}

LeaseError RunnerHub::Finish(int64_t runner_id, int64_t job_id, int64_t fence, JobResult result,
                             std::optional<ArchiveFile> artifacts) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Lease> lease;
  LeaseError error = Find(runner_id, job_id, fence, &lease);
  if (error != LeaseError::kNone) return error;
  lease->result = std::move(result);
  lease->artifacts = std::move(artifacts);
  cv_.notify_all();
  return LeaseError::kNone;
}

LeaseError RunnerHub::Source(int64_t runner_id, int64_t job_id, int64_t fence,
                             std::string* repository, std::string* commit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Lease> lease;
  LeaseError error = Find(runner_id, job_id, fence, &lease);
  if (error != LeaseError::kNone) return error;
  *repository = lease->files.repository;
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

std::string RunnerHub::UploadPath(int64_t job_id, int64_t fence) const {
  return options_.bundle_dir + "/" + std::to_string(job_id) + "-" + std::to_string(fence) +
         ".artifacts.tar";
}

LeaseError RunnerHub::AppendArtifacts(int64_t runner_id, int64_t job_id, int64_t fence,
                                      uint64_t offset, std::string_view bytes, int* refused_status,
                                      std::string* why) {
  *refused_status = 0;
  std::shared_ptr<Lease> lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    LeaseError error = Find(runner_id, job_id, fence, &lease);
    if (error != LeaseError::kNone) return error;
  }
  std::lock_guard<std::mutex> upload(lease->upload_mu);
  if (lease->upload_closed) return LeaseError::kUnknownJob;  // It ended meanwhile.
  if (offset != lease->uploaded) {
    *refused_status = 416;
    *why = "the upload has " + std::to_string(lease->uploaded) + " bytes, not " +
           std::to_string(offset);
    return LeaseError::kNone;
  }
  if (bytes.size() >
      options_.max_artifacts_bytes - std::min(offset, options_.max_artifacts_bytes)) {
    *refused_status = 413;
    *why = "the artifacts of a job may have at most " +
           std::to_string(options_.max_artifacts_bytes) + " bytes";
    return LeaseError::kNone;
  }
  std::string path = UploadPath(job_id, fence);
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (offset == 0 ? O_TRUNC : O_APPEND);
  UniqueFd fd(open(path.c_str(), flags, 0600));
  Status written =
      fd.get() < 0 ? Status::Error("cannot open " + path) : WriteAll(fd.get(), bytes, path);
  if (!written.ok()) {
    *refused_status = 500;
    *why = written.message();
    return LeaseError::kNone;
  }
  lease->uploaded += bytes.size();
  return LeaseError::kNone;
}

void RunnerHub::HoldArchivesLocked(const Lease& lease) {
  for (const auto& [from, dir] : lease.files.artifacts_from) {
    std::shared_ptr<Packed>& packed = packed_[from];
    if (packed == nullptr) {
      packed = std::make_shared<Packed>();
      packed->path = options_.bundle_dir + "/artifacts-" + std::to_string(from) + "-" +
                     std::to_string(instance_) + "-" + std::to_string(++next_packed_) + ".tar";
    }
    ++packed->holders;
  }
}

std::vector<std::shared_ptr<RunnerHub::Packed>> RunnerHub::ReleaseArchivesLocked(
    const Lease& lease) {
  std::vector<std::shared_ptr<Packed>> unused;
  for (const auto& [from, dir] : lease.files.artifacts_from) {
    auto it = packed_.find(from);
    if (it == packed_.end() || --it->second->holders > 0) continue;
    unused.push_back(std::move(it->second));
    packed_.erase(it);
  }
  return unused;
}

void RunnerHub::RemoveArchive(Packed* packed) {
  std::lock_guard<std::mutex> lock(packed->mu);
  packed->removed = true;
  std::remove(packed->path.c_str());
  std::remove((packed->path + ".partial").c_str());
}

LeaseError RunnerHub::ArtifactsArchive(int64_t runner_id, int64_t job_id, int64_t fence,
                                       int64_t from_job, std::string* path, ArchiveFile* archive,
                                       Status* error) {
  path->clear();
  *error = Status::Ok();
  std::string dir;
  std::shared_ptr<Packed> packed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<Lease> lease;
    LeaseError found = Find(runner_id, job_id, fence, &lease);
    if (found != LeaseError::kNone) return found;
    auto it = lease->files.artifacts_from.find(from_job);
    if (it == lease->files.artifacts_from.end()) return LeaseError::kNone;
    dir = it->second;
    packed = packed_.at(from_job);  // The lease holds it.
  }
  // Not under mu_: packing reads the whole tree.
  std::lock_guard<std::mutex> lock(packed->mu);
  if (packed->removed) return LeaseError::kUnknownJob;  // The lease ended meanwhile.
  if (!packed->archive) {
    std::string partial = packed->path + ".partial";
    std::remove(partial.c_str());
    StatusOr<ArchiveFile> made = PackTree(dir, {}, partial);
    if (made.ok() && made->size > 0 && std::rename(partial.c_str(), packed->path.c_str()) != 0) {
      made = Status::Error("cannot rename " + partial);
    }
    if (!made.ok()) {
      std::remove(partial.c_str());
      *error = made.status();
      return LeaseError::kNone;
    }
    packed->archive = *made;
  }
  *archive = *packed->archive;
  if (archive->size > 0) *path = packed->path;  // An empty tree: nothing to send.
  return LeaseError::kNone;
}

void RunnerHub::Collect(Lease* lease, const Job& job, JobResult* result) {
  const int64_t job_id = lease->spec->job_id;
  std::lock_guard<std::mutex> upload(lease->upload_mu);
  lease->upload_closed = true;
  std::string uploaded = UploadPath(job_id, lease->fence);
  if (lease->artifacts && result->outcome != JobOutcome::kCanceled) {
    // Only what a job's artifacts are made of: nothing else of the job dir
    // (its log file, say) is the runner's to write.
    Status unpacked = UnpackTree(uploaded, *lease->artifacts, lease->files.job_dir,
                                 options_.max_artifacts_bytes, {"artifacts", "reports"});
    if (!unpacked.ok()) {
      lease->log->Write(job.name,
                        "ERROR: the artifacts the runner sent were refused: " + unpacked.message() +
                            "\nERROR: Job failed (system failure)\n");
      result->outcome = JobOutcome::kFailed;
      result->failure_reason = "runner_system_failure";
    }
  }
  std::remove(uploaded.c_str());
  std::remove(BundlePath(job_id, lease->fence).c_str());
}

std::vector<RunnerStatus> RunnerHub::Runners() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunnerStatus> out;
  for (const auto& [id, status] : seen_) out.push_back(status);
  return out;
}

bool RunnerHub::Online(int64_t runner_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_.count(runner_id) != 0;
}

bool RunnerHub::HasTags(const RunnerInfo& runner, const Job& job) {
  return std::all_of(job.tags.begin(), job.tags.end(), [&](const std::string& tag) {
    return std::find(runner.tags.begin(), runner.tags.end(), tag) != runner.tags.end();
  });
}

std::optional<std::string> RunnerHub::StuckReason(int64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto waiting = std::find_if(waiting_.begin(), waiting_.end(),
                              [&](const auto& lease) { return lease->spec->job_id == job_id; });
  if (waiting == waiting_.end()) return std::nullopt;
  const Job& job = *(*waiting)->job;
  for (const auto& [id, connection] : connections_) {
    if (HasTags(connection->info(), job)) return std::nullopt;
  }
  if (connections_.empty()) return "This job is stuck because no runner is online.";
  std::string tags;
  for (const std::string& tag : job.tags) tags += (tags.empty() ? "" : ", ") + tag;
  return "This job is stuck because no runner online has all of its tags: " + tags;
}

}  // namespace slipway
