#include "store/ci_status.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(CiStatusTest, NamesAreGitLabs) {
  const char* names[] = {"created", "waiting_for_resource", "preparing", "pending",
                         "running", "success", "failed", "canceled", "skipped", "manual",
                         "scheduled"};
  for (const char* name : names) {
    std::optional<CiStatus> s = ParseCiStatus(name);
    ASSERT_TRUE(s.has_value()) << name;
    EXPECT_STREQ(CiStatusName(*s), name);
  }
  EXPECT_FALSE(ParseCiStatus("cancelled").has_value());
  EXPECT_FALSE(ParseCiStatus("succeeded").has_value());
}

TEST(CiStatusTest, JobTransitionsFollowGitLabsStateMachine) {
  using S = CiStatus;
  EXPECT_TRUE(JobTransitionAllowed(S::kCreated, S::kPending));
  EXPECT_TRUE(JobTransitionAllowed(S::kCreated, S::kManual));
  EXPECT_TRUE(JobTransitionAllowed(S::kPending, S::kRunning));
  EXPECT_TRUE(JobTransitionAllowed(S::kRunning, S::kSuccess));
  EXPECT_TRUE(JobTransitionAllowed(S::kManual, S::kPending));       // play
  EXPECT_TRUE(JobTransitionAllowed(S::kScheduled, S::kManual));     // unschedule
  EXPECT_TRUE(JobTransitionAllowed(S::kSkipped, S::kCreated));      // process
  EXPECT_TRUE(JobTransitionAllowed(S::kWaitingForResource, S::kPending));
  EXPECT_FALSE(JobTransitionAllowed(S::kCreated, S::kRunning));     // must be picked up first
  EXPECT_FALSE(JobTransitionAllowed(S::kManual, S::kSuccess));
  EXPECT_FALSE(JobTransitionAllowed(S::kRunning, S::kPending));
  EXPECT_FALSE(JobTransitionAllowed(S::kRunning, S::kRunning));
  for (S done : {S::kSuccess, S::kFailed, S::kCanceled}) {
    EXPECT_FALSE(JobTransitionAllowed(done, S::kPending)) << CiStatusName(done);
    EXPECT_FALSE(JobTransitionAllowed(done, S::kRunning)) << CiStatusName(done);
  }
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

TEST(CompositeStatusTest, GitLabTable) {
  using S = CiStatus;
  EXPECT_EQ(CompositeStatus({}), S::kSkipped);
  EXPECT_EQ(CompositeStatus({{S::kSuccess}, {S::kSkipped}}), S::kSuccess);
  EXPECT_EQ(CompositeStatus({{S::kSuccess}, {S::kFailed, true}}), S::kSuccess);
  EXPECT_EQ(CompositeStatus({{S::kSkipped}, {S::kFailed, true}}), S::kSuccess);
  EXPECT_EQ(CompositeStatus({{S::kSkipped}}), S::kSkipped);
  EXPECT_EQ(CompositeStatus({{S::kCreated}, {S::kCreated}}), S::kCreated);
  EXPECT_EQ(CompositeStatus({{S::kSuccess}, {S::kCanceled}}), S::kCanceled);
  EXPECT_EQ(CompositeStatus({{S::kCreated}, {S::kPending}}), S::kPending);
  EXPECT_EQ(CompositeStatus({{S::kSuccess}, {S::kPending}}), S::kRunning);
  EXPECT_EQ(CompositeStatus({{S::kFailed}, {S::kRunning}}), S::kRunning);
  EXPECT_EQ(CompositeStatus({{S::kSuccess}, {S::kManual}, {S::kCreated}}), S::kManual);
  EXPECT_EQ(CompositeStatus({{S::kSuccess}, {S::kManual, true}}), S::kSuccess);
  EXPECT_EQ(CompositeStatus({{S::kSuccess}, {S::kCreated}}), S::kRunning);
  EXPECT_EQ(CompositeStatus({{S::kSuccess}, {S::kFailed}}), S::kFailed);
  EXPECT_EQ(CompositeStatus({{S::kFailed}, {S::kCanceled}}), S::kFailed);
}

}  // namespace
}  // namespace slipway
