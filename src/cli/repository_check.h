// Whether a repository given to `slipway project add` is one the server can
// fetch, checked before the project is stored.
#ifndef SLIPWAY_CLI_REPOSITORY_CHECK_H_
#define SLIPWAY_CLI_REPOSITORY_CHECK_H_

#include <chrono>
#include <string>

#include "util/status.h"

namespace slipway {

// Whether git reads repo as a local path rather than a URL: no ':' at all,
// or a '/' before the first ':' (git's own rule; "host:path" is ssh).
bool IsLocalRepository(const std::string& repo);

// Checks repo with `git ls-remote REPO HEAD`, the way the server will reach
// it (an empty repository passes). A local path must exist and be a
// repository (a work tree's top or a bare one, as git fetch wants it, not a
// directory inside a work tree). A URL must answer within timeout; the
// check and anything it started are killed after that. Errors say what is
// wrong in a sentence that names repo.
Status CheckRepository(const std::string& repo, std::chrono::seconds timeout);

}  // namespace slipway

#endif  // SLIPWAY_CLI_REPOSITORY_CHECK_H_
