#include "config/component_version.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(ComponentVersionTest, ResolvesLatestAndPartialVersionsAmongReleasedTags) {
  std::vector<std::string> tags = {"1.0.0",  "1.2.0", "1.2.3",  "1.10.0", "2.0.0-rc.1",
                                   "v3.0.0", "main",  "01.0.0", "1.9"};
  EXPECT_EQ(ResolveComponentVersion(tags, "~latest"), "1.10.0");  // Numeric, not textual.
  EXPECT_EQ(ResolveComponentVersion(tags, "1"), "1.10.0");
  EXPECT_EQ(ResolveComponentVersion(tags, "1.2"), "1.2.3");
  EXPECT_EQ(ResolveComponentVersion(tags, "2"), std::nullopt);  // Only a pre-release.
  EXPECT_EQ(ResolveComponentVersion(tags, "3"), std::nullopt);  // "v3.0.0" is no version.
  EXPECT_EQ(ResolveComponentVersion({}, "~latest"), std::nullopt);
}

TEST(ComponentVersionTest, OnlyLatestAndPartialVersionsNeedTheTags) {
  for (const char* v : {"~latest", "1", "1.2", "10.20"}) EXPECT_TRUE(NeedsTagList(v)) << v;
  for (const char* v : {"1.2.3", "main", "v1", "1.", ".1", "", "~1", "1.2.3.4"}) {
    EXPECT_FALSE(NeedsTagList(v)) << v;
  }
}

}  // namespace
}  // namespace slipway
