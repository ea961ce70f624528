#include "server/gitlab_json.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(GitLabJsonTest, IsoTimesAsGitLabWritesThem) {
  EXPECT_EQ(IsoTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(IsoTime(1796478300123), "2026-12-05T13:45:00.123Z");
}

TEST(GitLabJsonTest, ParsesIsoTimes) {
  EXPECT_EQ(ParseIsoTime("2026-12-05T13:45:00.123Z"), 1796478300123);
  EXPECT_EQ(ParseIsoTime("2026-12-05T13:45:00Z"), 1796478300000);
  EXPECT_EQ(ParseIsoTime("2026-12-05T15:45:00+02:00"), 1796478300000);
  EXPECT_EQ(ParseIsoTime("2026-12-05"), 1796428800000);
  EXPECT_EQ(ParseIsoTime("yesterday"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2026-13-05"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2026-12-05T13:45"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2026-12-05T13:45:00Zjunk"), std::nullopt);
}

TEST(GitLabJsonTest, InvalidUtf8IsReplaced) {
  EXPECT_EQ(JsonString("ok\xff"), "\"ok\xef\xbf\xbd\"");
}

}  // namespace
}  // namespace slipway
