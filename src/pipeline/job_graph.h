// Who waits for whom among a pipeline's jobs: each job's stage, its local
// `needs` (as indices) and the reverse edges. Built once from the jobs and
// shared by what asks about order: the checks of pipeline/validate.h
// (cycles), the run plan (pipeline/run_plan.h) and the server's actions on
// stored jobs.
#ifndef SLIPWAY_PIPELINE_JOB_GRAPH_H_
#define SLIPWAY_PIPELINE_JOB_GRAPH_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/job.h"

namespace slipway {

// One job as the graph sees it.
struct GraphJob {
  std::string name;
  int stage = -1;  // Index in the pipeline's stages; -1 when it names none.
  // Local needs by job name; nullopt: a stage job (no `needs:`), which
  // waits for every earlier stage.
  std::optional<std::vector<std::string>> needs;
};

class JobGraph {
 public:
  JobGraph() = default;
  // Needs naming jobs that are not in `jobs` are left out (the validator
  // reports them; at run time they are other projects', or optional needs
  // of jobs rules removed); a need listed twice is one edge.
  explicit JobGraph(std::vector<GraphJob> jobs);
  // The local needs of the jobs (not other projects' or pipelines'), and
  // their stages' indices in `stages`.
  static JobGraph FromJobs(const std::vector<Job>& jobs, const std::vector<std::string>& stages);

  int size() const { return static_cast<int>(jobs_.size()); }
  const std::string& name(int i) const { return jobs_[i].name; }
  int stage(int i) const { return jobs_[i].stage; }
  // A DAG job has `needs:` (possibly empty) and waits only for them.
  bool dag(int i) const { return jobs_[i].needs.has_value(); }
  const std::vector<int>& needs(int i) const { return needs_[i]; }
  const std::vector<int>& dependents(int i) const { return dependents_[i]; }
  // -1 when no job has that name.
  int Find(std::string_view name) const;

  // The jobs that wait for one of `from`, directly or not, as GitLab's
  // ResetSkippedJobsService finds them: the transitive dependents through
  // needs, and every job of a stage after the earliest stage of `from`.
  // Indexed by job; `from` themselves are not marked unless they wait for
  // another of `from`.
  std::vector<bool> WaitingFor(const std::vector<int>& from) const;

  // A job on a cycle of needs, found by a depth-first search from each job
  // in order (the search's start, as GitLab reports one error for the
  // pipeline); nullopt without cycles.
  std::optional<int> JobOnCycle() const;

 private:
  std::vector<GraphJob> jobs_;
  std::vector<std::vector<int>> needs_;
  std::vector<std::vector<int>> dependents_;
  std::map<std::string, int, std::less<>> index_;
};

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_JOB_GRAPH_H_
