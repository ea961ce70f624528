#include "util/duration.h"

#include <gtest/gtest.h>

#include <ostream>

namespace slipway {
namespace {

struct DurationCase {
  const char* text;
  int64_t seconds;
};

void PrintTo(const DurationCase& c, std::ostream* os) { *os << '"' << c.text << '"'; }

class DurationTest : public testing::TestWithParam<DurationCase> {};

TEST_P(DurationTest, Parses) {
  StatusOr<int64_t> seconds = ParseDuration(GetParam().text);
  ASSERT_TRUE(seconds.ok()) << seconds.status().message();
  EXPECT_EQ(*seconds, GetParam().seconds);
}

constexpr int64_t kDay = 24 * 3600;

INSTANTIATE_TEST_SUITE_P(
    Table, DurationTest,
    testing::Values(
        DurationCase{"3600", 3600}, DurationCase{"42", 42}, DurationCase{"90s", 90},
        DurationCase{"42 seconds", 42}, DurationCase{"1h 30m", 5400}, DurationCase{"1h30m", 5400},
        DurationCase{"1 hour 30 minutes", 5400}, DurationCase{"1.5h", 5400},
        DurationCase{".5h", 1800}, DurationCase{"2 days", 2 * kDay},
        DurationCase{"1 week", 7 * kDay}, DurationCase{"1 month", 30 * kDay},
        DurationCase{"18 months", 18 * 30 * kDay}, DurationCase{"1 year", 31557600},
        DurationCase{"1 year 6 months", 31557600 + 180 * kDay},
        DurationCase{"3 weeks and, 2 days", 23 * kDay},
        DurationCase{"3 weeks, plus 2 days", 23 * kDay},
        DurationCase{"3 weeks with 2 days", 23 * kDay}, DurationCase{"1:20", 80},
        DurationCase{"1:20.51", 80}, DurationCase{"4:01:01", 4 * 3600 + 61},
        DurationCase{"1 : 00 : 00", 3600}, DurationCase{"1:00:00:00", kDay},
        DurationCase{"day", kDay}, DurationCase{"minute 30s", 90},
        DurationCase{"3 Mins 4 Sec", 184}, DurationCase{"2 hrs 20 min", 8400},
        DurationCase{"2h20min", 8400}, DurationCase{"6 mos 1 day", 181 * kDay},
        DurationCase{"47 yrs 6 mos and 4.5d", 47LL * 31557600 + 180 * kDay + 4 * kDay + 12 * 3600},
        DurationCase{"  10   minutes  ", 600}, DurationCase{"10 MINUTES", 600},
        DurationCase{"1 wk 1 dy", 8 * kDay}, DurationCase{"2 y", 2 * 31557600},
        DurationCase{"0.5s", 0},  // Valid (not zero), truncated to whole seconds.
        DurationCase{"1 2", 2}    // A number followed by a number adds nothing, as in GitLab.
        ));

struct ErrorCase {
  const char* text;
  const char* message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << '"' << c.text << '"'; }

class DurationErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(DurationErrorTest, Fails) {
  StatusOr<int64_t> seconds = ParseDuration(GetParam().text);
  ASSERT_FALSE(seconds.ok()) << *seconds;
  EXPECT_EQ(seconds.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, DurationErrorTest,
    testing::Values(
        ErrorCase{"", "'' is not a valid duration"}, ErrorCase{"0", "'0' is not a valid duration"},
        ErrorCase{"0 seconds", "'0 seconds' is not a valid duration"},
        ErrorCase{"gobblygoo", "'gobblygoo' is not a valid duration: unknown word 'gobblygoo'"},
        ErrorCase{"23 gobblygoos",
                  "'23 gobblygoos' is not a valid duration: unknown word 'gobblygoos'"},
        ErrorCase{"1 fortnight", "'1 fortnight' is not a valid duration: unknown word 'fortnight'"},
        ErrorCase{"-5", "'-5' is not a valid duration: unknown word '-'"},
        ErrorCase{"1h 30x", "'1h 30x' is not a valid duration: unknown word 'x'"},
        ErrorCase{"never", "'never' is not a valid duration: unknown word 'never'"},
        ErrorCase{"1,5h", "'1,5h' is not a valid duration: unknown word ','"},
        ErrorCase{"99999999999999999999 years",
                  "'99999999999999999999 years' is not a valid duration: too long"}));

TEST(ExpireInTest, NeverMeansNoExpiry) {
  for (const char* text : {"never", "Never", "NEVER"}) {
    StatusOr<std::optional<int64_t>> r = ParseExpireIn(text);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_FALSE(r->has_value()) << text;
  }
  StatusOr<std::optional<int64_t>> week = ParseExpireIn("1 week");
  ASSERT_TRUE(week.ok());
  EXPECT_EQ(week->value(), 7 * kDay);
  StatusOr<std::optional<int64_t>> bad = ParseExpireIn("nevermore");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "'nevermore' is not a valid duration: unknown word 'nevermore'");
}

}  // namespace
}  // namespace slipway
