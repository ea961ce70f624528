#include "server/deploy_freeze.h"

#include "server/cron.h"

namespace slipway {

StatusOr<std::optional<ActiveFreeze>> ActiveFreezeAt(const std::vector<FreezePeriodRecord>& periods,
                                                     int64_t now_ms) {
  std::optional<ActiveFreeze> active;
  for (const FreezePeriodRecord& period : periods) {
    StatusOr<int64_t> start = NextRun(period.freeze_start, period.cron_timezone, now_ms);
    if (!start.ok()) return start.status();
    StatusOr<int64_t> end = NextRun(period.freeze_end, period.cron_timezone, now_ms);
    if (!end.ok()) return end.status();
    if (*end >= *start) continue;
    if (!active || *end > active->ends_at_ms) active = ActiveFreeze{period, *end};
  }
  return active;
}

}  // namespace slipway
