// The commits a successful deployment shipped, recorded when it succeeds so
// that DORA's lead time for changes counts every one of them, not only the
// deployment's head (docs/dora.md). git runs in the server's mirror of the
// project (server/repo_mirror.h) with argument vectors; the DORA queries
// never run git.
#ifndef SLIPWAY_SERVER_DEPLOYMENT_COMMITS_H_
#define SLIPWAY_SERVER_DEPLOYMENT_COMMITS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "store/store.h"
#include "util/status.h"

namespace slipway {

// At most this many commits are recorded for one deployment (the newest).
inline constexpr size_t kMaxCommitsPerDeployment = 1000;

// The commits reachable from sha and not from previous_sha (a rollback to
// an older commit ships none), newest first, at most
// kMaxCommitsPerDeployment. With no previous_sha (the environment's first
// successful deployment) only sha itself: the history before it was not
// delivered by this environment's deployments and would make lead times
// meaningless. Both must be commit ids (hex) in the repository at git_dir.
StatusOr<std::vector<DeploymentCommit>> ShippedCommits(const std::string& git_dir,
                                                       const std::string& sha,
                                                       const std::string& previous_sha);

// Records the commits `deployment` (just succeeded) shipped since the
// previous successful deployment of its environment. The caller holds the
// mirror's lock.
Status RecordShippedCommits(Store* store, const std::string& git_dir,
                            const DeploymentRecord& deployment);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_DEPLOYMENT_COMMITS_H_
