#include "util/containment.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "util/cgroup.h"

namespace slipway {
namespace {

// The test binary has no `__reap` mode of its own: where a test's jobs need
// a reaper, it is the slipway binary built beside it.
const bool kReaperNamed = [] {
  SetReaperBinary(SLIPWAY_BINARY, /*adopt_orphans=*/false);
  return true;
}();

TEST(ContainmentTest, DescribesThePathInUse) {
  const Containment& c = DefaultContainment();
  std::string text = c.Describe();
  switch (c.kind) {
    case ContainmentKind::kCgroup:
      EXPECT_EQ(text, "a cgroup v2 per job (under " + c.cgroup_parent + ")");
      break;
    case ContainmentKind::kReaper:
      EXPECT_EQ(text.rfind("a reaper process per job (no cgroup: ", 0), 0u) << text;
      EXPECT_EQ(c.reaper, SLIPWAY_BINARY);
      break;
    case ContainmentKind::kProcessGroup:
      ADD_FAILURE() << "the tests name a reaper: " << text;
      break;
  }
}

TEST(ContainmentTest, CgroupPathIsOursWhenUsed) {
  const Containment& c = DefaultContainment();
  if (c.kind != ContainmentKind::kCgroup) GTEST_SKIP() << c.Describe();
  StatusOr<std::string> own = OwnCgroupDir();
  ASSERT_TRUE(own.ok()) << own.status().message();
  EXPECT_EQ(c.cgroup_parent, *own);
}

}  // namespace
}  // namespace slipway
