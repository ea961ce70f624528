// The executors of a `slipway runner` (docs/runners.md, "On the runner"):
// one per project and commit, whose workspaces outlive the jobs.
//
// Each executor has the state directory DIR/builds/project-<id>
// (workspace.h): the snapshot of the commit (source-ref, checked out once
// with git) and a pool of workspaces (builds/<n>/<name>) that each job
// brings back to exactly the snapshot instead of making anew. Jobs of the
// same project and commit share one executor, so that only the first runs
// git and later ones write only what an earlier job changed.
//
// An executor no job uses stays for the next job of its commit: one per
// project (a job of another commit of that project replaces it, so that the
// new snapshot is reconciled in the same directory) and kMaxIdle in all.
// Jobs of two commits of one project at once get two executors; the second
// makes its snapshot under its own run directory, DIR/runs/<n>, removed
// with it (workspace.h: a snapshot held by a concurrent run).
#ifndef SLIPWAY_CLI_RUNNER_EXECUTORS_H_
#define SLIPWAY_CLI_RUNNER_EXECUTORS_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "exec/executor.h"
#include "util/thread_annotations.h"

namespace slipway {

class RunnerExecutors {
 public:
  // Makes an executor whose workspaces live in state_dir.
  using Make = std::function<std::unique_ptr<Executor>(const std::string& state_dir)>;

  // At most this many executors are kept with no job (one per project).
  static constexpr size_t kMaxIdle = 8;

  // dir: the runner's --dir.
  RunnerExecutors(std::string dir, Make make) : dir_(std::move(dir)), make_(std::move(make)) {}
  ~RunnerExecutors();  // After every Lease has ended.
  RunnerExecutors(const RunnerExecutors&) = delete;
  RunnerExecutors& operator=(const RunnerExecutors&) = delete;

  struct Entry {
    std::string project, commit;
    std::string run_dir;
    std::unique_ptr<Executor> executor;
    int users = 0;  // Leases.
  };
  // The use of an executor by one job; ends when destroyed.
  class Lease {
   public:
    Lease(RunnerExecutors* owner, Entry* entry) : owner_(owner), entry_(entry) {}
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Executor* executor() const;
    // JobHost::run_dir for the job: the same for every job of the executor.
    const std::string& run_dir() const;

   private:
    RunnerExecutors* owner_;
    Entry* entry_;
  };

  // The executor for jobs of project (CI_PROJECT_ID: digits, else "0") at
  // commit. Thread-safe.
  std::unique_ptr<Lease> Take(const std::string& project, const std::string& commit);

  // The state directory of project's executors (see above).
  std::string StateDir(const std::string& project) const;

 private:
  void Return(Entry* entry);
  // Destroys the idle entry it points at (an executor no job uses).
  void Drop(std::list<std::unique_ptr<Entry>>::iterator it) REQUIRES(mu_);

  const std::string dir_;
  const Make make_;
  std::mutex mu_;
  // Most recently used first.
  std::list<std::unique_ptr<Entry>> entries_ GUARDED_BY(mu_);
  int64_t runs_ GUARDED_BY(mu_) = 0;  // Run directories numbered so far.
};

}  // namespace slipway

#endif  // SLIPWAY_CLI_RUNNER_EXECUTORS_H_
