#include "server/log_hub.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace slipway {
namespace {

TEST(LogHubTest, DeliversChunksOfTheSubscribedJobOnly) {
  LogHub hub;
  std::string got;
  bool finished = false;
  uint64_t h = hub.Subscribe(7, [&](int64_t offset, std::string_view bytes, bool done) {
    if (done) finished = true;
    got += std::to_string(offset) + ":" + std::string(bytes) + ";";
  });
  hub.Publish(8, 0, "other");
  hub.Publish(7, 0, "ab");
  hub.Publish(7, 2, "c");
  EXPECT_EQ(got, "0:ab;2:c;");
  EXPECT_EQ(hub.watchers(), 1u);
  hub.Finish(7);
  EXPECT_TRUE(finished);
  hub.Unsubscribe(h);
  hub.Publish(7, 3, "d");
  EXPECT_EQ(hub.watchers(), 0u);
  EXPECT_EQ(got, "0:ab;2:c;0:;");
}

TEST(LogHubTest, UnsubscribeRemovesOnlyThatListener) {
  LogHub hub;
  int a = 0, b = 0;
  uint64_t ha = hub.Subscribe(1, [&](int64_t, std::string_view, bool) { ++a; });
  hub.Subscribe(1, [&](int64_t, std::string_view, bool) { ++b; });
  EXPECT_NE(ha, 0u);
  hub.Unsubscribe(ha);
  hub.Unsubscribe(ha);     // Twice: ignored.
  hub.Unsubscribe(12345);  // Unknown: ignored.
  hub.Publish(1, 0, "x");
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(hub.watchers(), 1u);
}

}  // namespace
}  // namespace slipway
