// How an incident finds the deployment that caused it (docs/dora.md): a
// deployment named by id, or a `root cause: <sha>` line in its description
// (fourkeys' convention) resolved to the project's first successful
// deployment that shipped that commit.
#ifndef SLIPWAY_SERVER_INCIDENT_LINKS_H_
#define SLIPWAY_SERVER_INCIDENT_LINKS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace slipway {

// The sha of the first "root cause: <sha>" in text (case-insensitive
// "root cause:", then spaces, then 7 to 40 hex digits), or none.
std::optional<std::string> RootCauseSha(std::string_view text);

// The deployment text's root cause names, if it resolves to one of
// project_id's deployments; none when there is no root cause line or no
// deployment shipped that commit.
StatusOr<std::optional<int64_t>> DeploymentOfRootCause(Store* store, int64_t project_id,
                                                       std::string_view text);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_INCIDENT_LINKS_H_
