// Deploy freezes (GitLab's freeze periods, doc/user/project/releases
// "Prevent unintentional releases by setting a deploy freeze"): a period of a
// project from each time its `freeze_start` cron matches until the next time
// its `freeze_end` does, in its `cron_timezone`. A pipeline created during
// one gets CI_DEPLOY_FREEZE=true, as in GitLab; the server also holds deploy
// jobs that would start during one (docs/deployments.md).
#ifndef SLIPWAY_SERVER_DEPLOY_FREEZE_H_
#define SLIPWAY_SERVER_DEPLOY_FREEZE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "store/store.h"
#include "util/status.h"

namespace slipway {

struct ActiveFreeze {
  FreezePeriodRecord period;
  int64_t ends_at_ms = 0;  // Its freeze_end's next match.
};

// The period of `periods` in which now_ms lies — the one ending last when
// several do — or none. A period is active at t when its end's next match
// after t comes before its start's (so from a start's minute, inclusive, to
// the end's, exclusive). Errors: a period whose cron or zone is bad (the API
// refuses those; a database edited by hand is the only way).
StatusOr<std::optional<ActiveFreeze>> ActiveFreezeAt(const std::vector<FreezePeriodRecord>& periods,
                                                     int64_t now_ms);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_DEPLOY_FREEZE_H_
