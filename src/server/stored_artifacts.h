// Stored jobs' artifacts across pipelines: which job's artifacts a ref's
// "latest" means (GitLab's download by ref name and needs:project), which
// pipelines' artifacts GitLab keeps past their expire_in ("keep latest
// artifacts"), and removing a job's artifacts (the API's DELETE and the
// expiry cleaner). docs/artifacts.md, "Expiry".
#ifndef SLIPWAY_SERVER_STORED_ARTIFACTS_H_
#define SLIPWAY_SERVER_STORED_ARTIFACTS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "store/store.h"
#include "util/status.h"

namespace slipway {

// GitLab's Project#latest_successful_build_for_ref: the latest attempt of
// the job called `name` in the latest successful pipeline of the project
// for `ref` (child pipelines are not looked at), if it succeeded; none
// otherwise.
StatusOr<std::optional<JobRecord>> LatestSuccessfulJob(Store* store, int64_t project_id,
                                                       const std::string& ref,
                                                       const std::string& name);

// Whether `pipeline`'s artifacts are locked, i.e. kept whatever their
// expire_in says, as GitLab keeps them by default: it is (or is a child
// pipeline of) the latest pipeline for its ref, or the latest successful
// one (GitLab's Ci::Refs::UnlockPreviousPipelinesWorker unlocks all others).
StatusOr<bool> ArtifactsLocked(Store* store, const PipelineRecord& pipeline);

// Removes the job's artifact files (under run_dir, the directory of its
// pipeline, as its records name them) and then its records. A retried
// attempt's records name the directory its newer attempt replaced: for one
// only the records go. Symbolic links are removed, never followed; a record
// whose path leads outside run_dir is refused. True if it had any.
StatusOr<bool> RemoveJobArtifacts(Store* store, const std::string& run_dir, const JobRecord& job);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_STORED_ARTIFACTS_H_
