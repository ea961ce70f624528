// `slipway run` and deployments (docs/deployments.md, "slipway run"): the
// deployments a run made are kept in .slipway/deployments.json, and a
// deployment that failed its checks in an environment with
// `rollback: automatic: true` is rolled back locally: the environment's last
// successful deployment has its job run again in its own run directory,
// from the pipeline of its commit, with the artifacts that run kept.
#ifndef SLIPWAY_CLI_RUN_DELIVER_H_
#define SLIPWAY_CLI_RUN_DELIVER_H_

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/common.h"
#include "cli/run.h"
#include "exec/deploy_history.h"
#include "exec/run_result.h"
#include "exec/scheduler.h"
#include "pipeline/instantiate.h"

namespace slipway {

// What a finished run's deployments ask for.
struct LocalRollbackRequest {
  LocalDeployment failed;  // As recorded.
};

// Records the deployments of result (jobs with environment:action start
// that ended success, failed or canceled) for run run_id of commit (empty:
// a working tree with changes, which cannot be run again). rollback_of:
// set when this run was itself a rollback. Returns the failed deployments
// whose environment asks for an automatic rollback (none for a rollback: a
// rollback that fails stops there). Problems are printed to err.
std::vector<LocalRollbackRequest> RecordLocalDeployments(
    const Pipeline& pipeline, const RunResult& result, int run_id, const std::string& project_dir,
    const std::string& commit, std::optional<int64_t> rollback_of, std::FILE* err);

// The outcomes of run run_id's jobs (its report.json) as a scheduler's
// prior jobs, except job, which runs again.
StatusOr<std::map<std::string, PriorJob>> PriorJobsOfRun(const std::string& project_dir, int run_id,
                                                         const std::string& job);

// Rolls request.failed's environment back to its last successful
// deployment recorded before it: loads the pipeline of that deployment's
// commit (options with ref set to it), and runs its job again in its run
// directory (front's console and output; rerun_id, prior and rollback_of
// set). Says what it does on front.out, why it cannot on front.err.
// Returns the rerun's exit code, or kExitFailed when there is nothing to
// roll back to.
int RollBackLocally(const LocalRollbackRequest& request, const PipelineOptions& options,
                    RunFrontOptions front, Executor* executor, Clock* clock);

// The commit a run of the working tree of project_dir is of: HEAD when the
// tree has no changes, else empty.
std::string CleanWorkTreeCommit(const std::string& project_dir);

}  // namespace slipway

#endif  // SLIPWAY_CLI_RUN_DELIVER_H_
