// Resource groups across a project's pipelines, as GitLab holds them
// (doc/ci/resource_groups): at most one job of a project with a given
// resource_group key runs at a time, whatever its pipeline. A job whose
// group is taken waits as waiting_for_resource; when the group is free, the
// group's process_mode (stored, GET/PUT /projects/:id/resource_groups/:key)
// says who goes next:
//  - unordered: the job that has waited longest;
//  - oldest_first / newest_first: a job of the oldest / newest pipeline
//    among the group's upcoming jobs (created, scheduled,
//    waiting_for_resource, pending: Store::UpcomingResourceJobs), which may
//    be one that is not ready yet — then nobody goes until it is;
//  - newest_ready_first: a waiting job of the newest pipeline.
// Within one pipeline the run plan already queues a group's jobs
// (pipeline/run_plan.h), so at most one job per pipeline and group asks here
// at a time.
//
// ResourceGroups also wakes every running pipeline's scheduler on request
// (WakeRuns), for the jobs held by deploy freezes and approvals
// (server_job_gate.h).
//
// Thread-safety: all methods may be called from any thread. ResourceGroups
// wakes schedulers from its own thread, never while a caller holds a
// scheduler's lock: two schedulers granting each other a group at once must
// not wait for each other's lock.
#ifndef SLIPWAY_SERVER_RESOURCE_GROUPS_H_
#define SLIPWAY_SERVER_RESOURCE_GROUPS_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "exec/scheduler.h"
#include "store/store.h"
#include "util/thread_annotations.h"

namespace slipway {

// The way back to a run's scheduler: set while it runs, cleared before it
// is destroyed.
class SchedulerWaker {
 public:
  void Set(Scheduler* scheduler) {
    std::lock_guard<std::mutex> lock(mu_);
    scheduler_ = scheduler;
  }
  void Wake() {
    std::lock_guard<std::mutex> lock(mu_);
    if (scheduler_ != nullptr) scheduler_->Wake();
  }

 private:
  std::mutex mu_;
  Scheduler* scheduler_ GUARDED_BY(mu_) = nullptr;
};

class ResourceGroups {
 public:
  // store must outlive this.
  explicit ResourceGroups(Store* store);
  ~ResourceGroups();
  ResourceGroups(const ResourceGroups&) = delete;
  ResourceGroups& operator=(const ResourceGroups&) = delete;

  struct Request {
    int64_t project_id = 0;
    std::string key;
    int64_t pipeline_id = 0;
    int64_t job_id = 0;
    std::shared_ptr<SchedulerWaker> waker;
  };
  // True when the job holds the group (now or already); else it waits and
  // its waker is woken once the group is handed to it.
  bool Acquire(const Request& request);
  // The job holds or waits for the group no more; a free group goes to the
  // next job.
  void Release(int64_t project_id, const std::string& key, int64_t job_id);
  // Everything the pipeline's jobs hold or wait for (its run ended).
  void ReleasePipeline(int64_t pipeline_id);
  // Hands every free group with waiting jobs to its next job: for changes
  // made elsewhere (an upcoming job of another pipeline skipped, a
  // process_mode changed). Called by the server's timer.
  void Reevaluate();

  // The job holding the group, 0 when free (for tests and the API).
  int64_t Holder(int64_t project_id, const std::string& key);

  // The schedulers of running pipelines, woken (from this object's thread)
  // by WakeRuns: the server's timer calls it every second.
  void AddRun(const std::shared_ptr<SchedulerWaker>& waker);
  void RemoveRun(const std::shared_ptr<SchedulerWaker>& waker);
  void WakeRuns();

 private:
  struct Waiter {
    int64_t pipeline_id = 0;
    int64_t seq = 0;  // Order of arrival.
    std::shared_ptr<SchedulerWaker> waker;
  };
  struct Group {
    int64_t holder = 0;  // Job id; 0: free.
    int64_t holder_pipeline = 0;
    std::map<int64_t, Waiter> waiting;  // By job id.
  };
  using GroupKey = std::pair<int64_t, std::string>;

  // The waiting job a free group goes to next, 0 for none (yet).
  int64_t Next(const GroupKey& key, const Group& group);
  // Hands free groups to their next jobs, queueing their wakers.
  void Hand(const GroupKey& key, Group* group);
  void WakeLoop();

  Store* store_;
  std::mutex mu_;
  std::map<GroupKey, Group> groups_ GUARDED_BY(mu_);
  int64_t seq_ GUARDED_BY(mu_) = 0;
  std::condition_variable wake_cv_;
  std::deque<std::shared_ptr<SchedulerWaker>> to_wake_ GUARDED_BY(mu_);
  std::set<std::shared_ptr<SchedulerWaker>> runs_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread waker_thread_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_RESOURCE_GROUPS_H_
