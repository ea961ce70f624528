// Durations written the way GitLab reads them (its vendored ChronicDuration,
// with raise_exceptions on): `timeout`, `start_in`, `artifacts:expire_in`,
// `environment:auto_stop_in`.
//
// Accepted: numbers with optional units and any spacing ("3600", "90s",
// "1h 30m", "1h30m", "1 hour 30 minutes", "1.5h", "2 days", "1 week",
// "3 weeks and, 2 days"), chrono notation ("1:30" is 1 min 30 s, "4:01:01",
// up to years:months:days:hours:minutes:seconds), case-insensitively. Unit
// words: s sec secs second seconds, m min mins minute minutes, h hr hrs hour
// hours, d dy day days, w wk wks week weeks, mo mos month months, y yr yrs
// year years; "and", "with", "plus" are ignored. A leading unit counts as one
// ("day" is 1 day). A number without a unit is seconds. A day is 24 h, a week
// 7 days, a month 30 days, a year 365.25 days. A duration of zero is invalid,
// as in GitLab ("should be a duration").
#ifndef SLIPWAY_UTIL_DURATION_H_
#define SLIPWAY_UTIL_DURATION_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "util/status.h"

namespace slipway {

// Whole seconds (fractions are truncated, but "0.5s" is still valid and
// gives 0). On error the message quotes the text and says what is wrong,
// e.g. "'1 fortnight' is not a valid duration: unknown word 'fortnight'".
StatusOr<int64_t> ParseDuration(std::string_view text);

// artifacts:expire_in: as ParseDuration, but "never" (any case) is also
// accepted and returns std::nullopt, meaning the artifacts never expire.
StatusOr<std::optional<int64_t>> ParseExpireIn(std::string_view text);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_DURATION_H_
