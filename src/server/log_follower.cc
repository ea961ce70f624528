#include "server/log_follower.h"

#include <algorithm>

namespace slipway {

namespace {

constexpr int64_t kReadChunk = 64 * 1024;

}  // namespace

LogFollower::LogFollower(Store* store, LogHub* hub, Options options)
    : store_(store), hub_(hub), options_(options), thread_([this] { Loop(); }) {
  if (ReplicaNotices* notices = NoticesOf(store_); notices != nullptr) {
    auto listening = notices->Listen([this](const ReplicaNotice& n) { OnNotice(n); });
    if (listening.ok()) listener_ = std::move(*listening);
  }
}

LogFollower::~LogFollower() {
  listener_.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

LogFollower::Following::~Following() { follower_->Unfollow(job_id_); }

std::unique_ptr<LogFollower::Following> LogFollower::Follow(int64_t job_id, int64_t position) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = jobs_.try_emplace(job_id);
  ++it->second.watchers;
  if (added) {
    // Read at once: what was appended between the watcher's own read and
    // now sent its notice before anyone here followed the job. And once more
    // `settle` later: an append left without a notice because of one sent
    // before (nobody here heard it) has committed by then.
    it->second.position = position;
    it->second.due = std::chrono::steady_clock::now();
    it->second.settle = true;
    cv_.notify_all();
  }
  return std::unique_ptr<Following>(new Following(this, job_id));
}

void LogFollower::Unfollow(int64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it != jobs_.end() && --it->second.watchers == 0) jobs_.erase(it);
}

void LogFollower::OnNotice(const ReplicaNotice& notice) {
  using Kind = ReplicaNotice::Kind;
  if (notice.kind != Kind::kLog && notice.kind != Kind::kMissed) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  for (auto& [id, job] : jobs_) {
    if (job.finished || (notice.kind == Kind::kLog && id != notice.id)) continue;
    job.due = now;
    job.settle = true;
  }
  cv_.notify_all();
}

void LogFollower::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    auto next = now + options_.poll;
    auto due = jobs_.end();
    for (auto it = jobs_.begin(); it != jobs_.end() && due == jobs_.end(); ++it) {
      if (it->second.finished) continue;
      if (it->second.due <= now) due = it;
      next = std::min(next, it->second.due);
    }
    if (due == jobs_.end()) {
      cv_.wait_until(lock, next);
      continue;
    }
    const int64_t job_id = due->first;
    int64_t position = due->second.position;
    const bool settle = due->second.settle;
    due->second.settle = false;
    lock.unlock();
    bool finished = Read(job_id, &position);
    lock.lock();
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) continue;  // Its last watcher left meanwhile.
    it->second.position = std::max(it->second.position, position);
    it->second.finished = finished;
    // A notice that came during the read left the job due at once.
    if (!it->second.settle) {
      it->second.due =
          std::chrono::steady_clock::now() + (settle ? options_.settle : options_.poll);
    }
  }
}

bool LogFollower::Read(int64_t job_id, int64_t* position) {
  // The status first: its writer appends the log before it writes a final
  // status, so a log read after seeing one is whole.
  auto job = store_->GetJob(job_id);
  bool finished = job.ok() && (!job->has_value() || IsFinished((*job)->status) ||
                               (*job)->status == CiStatus::kSkipped);
  for (;;) {
    auto slice = store_->ReadLog(job_id, *position, kReadChunk);
    if (!slice.ok() || slice->bytes.empty()) break;
    hub_->Publish(job_id, slice->offset, slice->bytes);
    *position = slice->offset + static_cast<int64_t>(slice->bytes.size());
    if (*position >= slice->total_size) break;
  }
  if (finished) hub_->Finish(job_id);
  return finished;
}

}  // namespace slipway
