// The header of a git bundle (git's bundle format, versions 2 and 3):
// what a runner checks before it hands the pack that follows to git
// (server/runner_bundle.h).
#ifndef SLIPWAY_UTIL_GIT_BUNDLE_H_
#define SLIPWAY_UTIL_GIT_BUNDLE_H_

#include <cstddef>
#include <string_view>

#include "util/status.h"

namespace slipway {

// The longest header ParseBundleHeader looks for its end in.
inline constexpr size_t kMaxBundleHeader = 64 << 10;

// Parses the start of a bundle (head: its first bytes, up to
// kMaxBundleHeader), checks that it names commit among its refs, needs no
// other commit (no prerequisites) and uses SHA-1 object ids, and returns the
// offset where its pack starts. Errors say what is wrong.
StatusOr<size_t> ParseBundleHeader(std::string_view head, std::string_view commit);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_GIT_BUNDLE_H_
