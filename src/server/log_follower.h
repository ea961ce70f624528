// Live logs of jobs another server writes (servers sharing one PostgreSQL
// database, docs/replicas.md "Live logs"): the job's log grows in the
// database, not in this server's LogHub. For every job that has watchers
// here, one reader follows the database and publishes what it finds to the
// hub, which fans it out to all the job's watchers (LogStream joins the
// chunks by offset, so a chunk also published by a local writer or read
// twice is sent once). It reads a job:
//  - at once when the `log:<job id>` notice comes (the writer sends one
//    after an append, at most one per job every 100 ms, and one when the
//    job finished), and once more `settle` later: an append whose notice
//    was left out for the 100 ms had committed before then;
//  - at once, and `settle` later, when it gets its first watcher, and for
//    every job when the notice connection was lost (ReplicaNotice::kMissed):
//    a notice sent before (unheard here) may have left an append without one;
//  - every `poll` (notices can be missed).
// A read that finds the job finished publishes the rest and LogHub::Finish.
// Reads run on a thread of the follower's own, never on the notice thread.
#ifndef SLIPWAY_SERVER_LOG_FOLLOWER_H_
#define SLIPWAY_SERVER_LOG_FOLLOWER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "server/log_hub.h"
#include "store/replica_notices.h"
#include "store/store.h"
#include "util/thread_annotations.h"

namespace slipway {

class LogFollower {
 public:
  struct Options {
    std::chrono::milliseconds poll{1000};
    std::chrono::milliseconds settle{150};
  };

  // store and hub must outlive the follower. Listens to the store's notices
  // (when it has any: without, it polls only).
  LogFollower(Store* store, LogHub* hub, Options options);
  ~LogFollower();  // Stops listening and joins the thread.
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // A watcher of job_id that has the log up to position (it subscribed to
  // the hub before reading it): the job is followed while any watcher
  // holds its Following. Thread-safe.
  class Following {
   public:
    ~Following();
    Following(const Following&) = delete;
    Following& operator=(const Following&) = delete;

   private:
    friend class LogFollower;
    Following(LogFollower* follower, int64_t job_id) : follower_(follower), job_id_(job_id) {}
    LogFollower* follower_;
    int64_t job_id_;
  };
  std::unique_ptr<Following> Follow(int64_t job_id, int64_t position);

 private:
  struct Job {
    int watchers = 0;
    int64_t position = 0;  // Read and published up to here.
    bool finished = false;
    bool settle = false;  // Read again `settle` after the next read.
    std::chrono::steady_clock::time_point due;
  };

  void OnNotice(const ReplicaNotice& notice);
  void Unfollow(int64_t job_id);
  void Loop();
  // Publishes the job's log from position to its end; whether it finished.
  bool Read(int64_t job_id, int64_t* position);

  Store* store_;
  LogHub* hub_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Job> jobs_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::unique_ptr<NoticeListener> listener_;
  std::thread thread_;  // Last: starts once the members above exist.
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_LOG_FOLLOWER_H_
