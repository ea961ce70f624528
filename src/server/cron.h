// Pipeline schedules' cron syntax and their next run time in a time zone.
//
// Five fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12
// or jan-dec), day of week (0-7 or sun-sat; 0 and 7 are Sunday). Each field is
// `*`, a value, a range `a-b`, a step `*/n` or `a-b/n` or `a/n` (from a to the
// field's end), or a comma-separated list of those. Names are
// case-insensitive. As in Vixie cron (and GitLab's fugit), when both the day
// of month and the day of week are restricted (neither starts with `*`), a day
// matches if either does.
//
// Times are local wall-clock times of an IANA zone (read from
// /usr/share/zoneinfo through TZ and the C library). Across DST changes: a
// time skipped by a spring-forward gap does not occur (the job does not run
// that day at that time; jobs every hour run at the next existing hour); a
// time repeated by a fall-back runs once, at its first occurrence.
#ifndef SLIPWAY_SERVER_CRON_H_
#define SLIPWAY_SERVER_CRON_H_

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace slipway {

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // Bits 1..31.
  std::bitset<13> months;         // Bits 1..12.
  std::bitset<7> days_of_week;    // 0 = Sunday.
  bool dom_restricted = false;    // The field did not start with '*'.
  bool dow_restricted = false;
};

// Errors name the field and the offending text, e.g.
// "cron 'x * * * *': minute: 'x' is not a number or name".
StatusOr<CronSpec> ParseCron(std::string_view text);

// Whether timezone names a zone in /usr/share/zoneinfo ("UTC", "Europe/Berlin").
bool ValidTimeZone(const std::string& timezone);

// The first time strictly after after_ms (Unix ms) whose local time in
// timezone matches cron, in Unix ms (whole minutes). Errors for a bad cron or
// zone, or when nothing matches within 5 years (e.g. "0 0 31 2 *").
StatusOr<int64_t> NextRun(std::string_view cron, const std::string& timezone, int64_t after_ms);

// NextRun switches TZ while it computes: call this before starting threads
// that read the environment (any that start processes), so that TZ is set
// (to the system zone if it was unset) and NextRun only ever replaces it.
void PinTimeZoneVariable();

}  // namespace slipway

#endif  // SLIPWAY_SERVER_CRON_H_
