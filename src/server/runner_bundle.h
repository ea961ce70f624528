// How a commit travels from the server's mirror to a remote runner
// (docs/runners.md, "The repository"): as a git bundle of one ref, made in a
// scratch repository that borrows the server's objects (its repositories
// are not written to), and fetched by the runner into a bare repository of its
// own.
#ifndef SLIPWAY_SERVER_RUNNER_BUNDLE_H_
#define SLIPWAY_SERVER_RUNNER_BUNDLE_H_

#include <string>

#include "util/status.h"

namespace slipway {

// Writes a bundle of commit (and its history) from the git repository
// repository (bare or not; its objects may be borrowed) to bundle_path.
// Fails naming the commit when repository lacks it.
Status MakeCommitBundle(const std::string& repository, const std::string& commit,
                        const std::string& bundle_path);

// Fetches commit from the bundle at bundle_path into the bare repository
// repo (created when missing) and checks that repo now has it.
Status FetchCommitBundle(const std::string& bundle_path, const std::string& commit,
                         const std::string& repo);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_RUNNER_BUNDLE_H_
