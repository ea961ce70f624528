#include "server/cron.h"

#include <gtest/gtest.h>

#include <ctime>
#include <optional>
#include <string>

namespace slipway {
namespace {

// Unix ms of a UTC time.
int64_t Utc(int year, int month, int day, int hour, int minute) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

int64_t Next(const char* cron, const char* zone, int64_t after) {
  StatusOr<int64_t> next = NextRun(cron, zone, after);
  EXPECT_TRUE(next.ok()) << next.status().message();
  return next.ok() ? *next : -1;
}

TEST(CronTest, ParsesFieldsListsRangesStepsAndNames) {
  auto spec = ParseCron("*/15 9-17/4 1,15 JAN-mar mon-fri");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->minutes.count(), 4u);
  EXPECT_TRUE(spec->minutes[0] && spec->minutes[15] && spec->minutes[30] && spec->minutes[45]);
  EXPECT_TRUE(spec->hours[9] && spec->hours[13] && spec->hours[17]);
  EXPECT_EQ(spec->hours.count(), 3u);
  EXPECT_EQ(spec->days_of_month.count(), 2u);
  EXPECT_EQ(spec->months.count(), 3u);
  EXPECT_TRUE(spec->months[1] && spec->months[3]);
  EXPECT_EQ(spec->days_of_week.count(), 5u);
  EXPECT_FALSE(spec->days_of_week[0]);
  EXPECT_TRUE(spec->dom_restricted);
  EXPECT_TRUE(spec->dow_restricted);

  auto sunday = ParseCron("0 0 * * 7");
  ASSERT_TRUE(sunday.ok());
  EXPECT_TRUE(sunday->days_of_week[0]);
  EXPECT_FALSE(sunday->dow_restricted == false);
  auto from = ParseCron("5/20 * * * 5-7");
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(from->minutes.count(), 3u);  // 5, 25, 45
  EXPECT_TRUE(from->days_of_week[5] && from->days_of_week[6] && from->days_of_week[0]);
  EXPECT_TRUE(ParseCron("@daily").ok());
  EXPECT_TRUE(ParseCron("  0   3  *  *  *  ").ok());
}

TEST(CronTest, RejectsBadExpressionsWithTheField) {
  auto expect_error = [](const char* cron, const std::string& message) {
    auto spec = ParseCron(cron);
    ASSERT_FALSE(spec.ok()) << cron;
    EXPECT_EQ(spec.status().message(), message);
  };
  expect_error("* * * *",
               "cron '* * * *': expected 5 fields (minute hour day-of-month month "
               "day-of-week), got 4");
  expect_error("60 * * * *", "cron '60 * * * *': minute: '60' is outside 0-59");
  expect_error("x * * * *", "cron 'x * * * *': minute: 'x' is not a number or name");
  expect_error("* * 0 * *", "cron '* * 0 * *': day of month: '0' is outside 1-31");
  expect_error("* * * 13 *", "cron '* * * 13 *': month: '13' is outside 1-12");
  expect_error("*/0 * * * *", "cron '*/0 * * * *': minute: step '0' is not a positive number");
  expect_error("5-1 * * * *", "cron '5-1 * * * *': minute: range '5-1' runs backwards");
  expect_error("1,,2 * * * *", "cron '1,,2 * * * *': minute: empty list item in '1,,2'");
  expect_error("* * * * 8", "cron '* * * * 8': day of week: '8' is outside 0-7");
  expect_error("* * * jan-foo *", "cron '* * * jan-foo *': month: 'foo' is not a number or name");
  EXPECT_FALSE(NextRun("* * * * *", "Mars/Olympus", 0).ok());
  EXPECT_FALSE(NextRun("* * * * *", "../../etc/passwd", 0).ok());
  auto never = NextRun("0 0 30 2 *", "UTC", 0);
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.status().message(), "cron '0 0 30 2 *' matches no time in the next 5 years");
}

TEST(CronTest, NextRunInUtc) {
  int64_t t = Utc(2026, 1, 2, 3, 4);
  EXPECT_EQ(Next("* * * * *", "UTC", t), Utc(2026, 1, 2, 3, 5));
  EXPECT_EQ(Next("* * * * *", "UTC", t + 30000), Utc(2026, 1, 2, 3, 5));
  EXPECT_EQ(Next("4 3 * * *", "UTC", t), Utc(2026, 1, 3, 3, 4));  // Strictly after.
  EXPECT_EQ(Next("0 0 1 * *", "UTC", t), Utc(2026, 2, 1, 0, 0));
  EXPECT_EQ(Next("0 12 29 feb *", "UTC", t), Utc(2028, 2, 29, 12, 0));
  EXPECT_EQ(Next("@hourly", "UTC", t), Utc(2026, 1, 2, 4, 0));
}

TEST(CronTest, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // 2026-01-02 is a Friday. "1st or 15th, or any Monday": next is Mon 5th.
  int64_t t = Utc(2026, 1, 2, 12, 0);
  EXPECT_EQ(Next("0 0 1,15 * mon", "UTC", t), Utc(2026, 1, 5, 0, 0));
  // With `*` in day of month only the weekday counts...
  EXPECT_EQ(Next("0 0 * * mon", "UTC", t), Utc(2026, 1, 5, 0, 0));
  // ...and with `*/1`-style day of month (starts with '*') both must match:
  // the 15th is a Thursday, the first Monday that is odd-numbered is the 5th.
  EXPECT_EQ(Next("0 0 */2 * mon", "UTC", t), Utc(2026, 1, 5, 0, 0));
  EXPECT_EQ(Next("0 0 */2 * tue", "UTC", t), Utc(2026, 1, 13, 0, 0));
  // Day of month restricted, weekday `*`: only the day of month.
  EXPECT_EQ(Next("0 0 15 * *", "UTC", t), Utc(2026, 1, 15, 0, 0));
}

TEST(CronTest, TimeZonesAndDaylightSaving) {
  const char* tz = getenv("TZ");  // Unset, or pinned by a service test run before.
  std::optional<std::string> before = tz ? std::optional<std::string>(tz) : std::nullopt;
  // Berlin is UTC+1 in winter, UTC+2 in summer (from 2026-03-29 02:00 local).
  EXPECT_EQ(Next("0 3 * * *", "Europe/Berlin", Utc(2026, 1, 2, 0, 0)), Utc(2026, 1, 2, 2, 0));
  EXPECT_EQ(Next("0 3 * * *", "Europe/Berlin", Utc(2026, 7, 2, 0, 0)), Utc(2026, 7, 2, 1, 0));
  // 02:30 does not exist on 2026-03-29: that day is skipped.
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", Utc(2026, 3, 28, 12, 0)), Utc(2026, 3, 30, 0, 30));
  // Hourly across the gap: 01:00 CET, then 03:00 CEST (one hour later).
  EXPECT_EQ(Next("0 * * * *", "Europe/Berlin", Utc(2026, 3, 29, 0, 0)), Utc(2026, 3, 29, 1, 0));
  // New York falls back on 2026-11-01: 01:30 happens twice, runs once (EDT).
  int64_t first = Next("30 1 * * *", "America/New_York", Utc(2026, 11, 1, 0, 0));
  EXPECT_EQ(first, Utc(2026, 11, 1, 5, 30));
  EXPECT_EQ(Next("30 1 * * *", "America/New_York", first), Utc(2026, 11, 2, 6, 30));
  // Every 30 minutes through the repeated hour: 01:00 EDT, 01:30 EDT, then 02:00 EST.
  EXPECT_EQ(Next("*/30 * * * *", "America/New_York", Utc(2026, 11, 1, 5, 30)),
            Utc(2026, 11, 1, 7, 0));
  // The process's TZ is left as it was.
  tz = getenv("TZ");
  EXPECT_EQ(tz ? std::optional<std::string>(tz) : std::nullopt, before);
}

// A pinned TZ (see PinTimeZoneVariable) is set to the system zone and stays
// set: NextRun only replaces it, which is safe under threads reading environ.
TEST(CronTest, PinnedTimeZoneIsOnlyReplaced) {
  PinTimeZoneVariable();
  std::string pinned = getenv("TZ");
  EXPECT_FALSE(pinned.empty());
  EXPECT_EQ(Next("0 3 * * *", "Europe/Berlin", Utc(2026, 1, 2, 0, 0)), Utc(2026, 1, 2, 2, 0));
  ASSERT_NE(getenv("TZ"), nullptr);
  EXPECT_EQ(std::string(getenv("TZ")), pinned);
}

}  // namespace
}  // namespace slipway
