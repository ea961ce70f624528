#include "pipeline/ci_status.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(CiStatusTest, NamesAreGitLabs) {
  const char* names[] = {"created",   "waiting_for_resource",
                         "preparing", "pending",
                         "running",   "success",
                         "failed",    "canceled",
                         "skipped",   "manual",
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
  EXPECT_TRUE(JobTransitionAllowed(S::kManual, S::kPending));    // play
  EXPECT_TRUE(JobTransitionAllowed(S::kScheduled, S::kManual));  // unschedule
  EXPECT_TRUE(JobTransitionAllowed(S::kSkipped, S::kCreated));   // process
  EXPECT_TRUE(JobTransitionAllowed(S::kWaitingForResource, S::kPending));
  EXPECT_FALSE(JobTransitionAllowed(S::kCreated, S::kRunning));  // must be picked up first
  EXPECT_FALSE(JobTransitionAllowed(S::kManual, S::kSuccess));
  EXPECT_FALSE(JobTransitionAllowed(S::kRunning, S::kPending));
  EXPECT_FALSE(JobTransitionAllowed(S::kRunning, S::kRunning));
  for (S done : {S::kSuccess, S::kFailed, S::kCanceled}) {
    EXPECT_FALSE(JobTransitionAllowed(done, S::kPending)) << CiStatusName(done);
    EXPECT_FALSE(JobTransitionAllowed(done, S::kRunning)) << CiStatusName(done);
  }
}

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

TEST(StatusSetTest, CompositeOfCompletedJobsAsASuccessorSeesIt) {
  using S = CiStatus;
  auto of = [](std::initializer_list<StatusEntry> jobs, bool dag) {
    StatusSet set;
    for (const StatusEntry& job : jobs) set.Add(job.status, job.allow_failure);
    return set.Composite(dag);
  };
  EXPECT_EQ(StatusSet().Composite(), std::nullopt);  // GitLab's nil: callers choose.
  EXPECT_EQ(of({{S::kSuccess}, {S::kSkipped}}, false), S::kSuccess);
  EXPECT_EQ(of({{S::kSuccess}, {S::kSkipped}}, true), S::kSkipped);  // A need did not run.
  EXPECT_EQ(of({{S::kSuccess}, {S::kManual, true}}, false), S::kSuccess);
  EXPECT_EQ(of({{S::kSuccess}, {S::kManual, true}}, true), S::kSkipped);  // Ignored need.
  EXPECT_EQ(of({{S::kSkipped}, {S::kManual, true}}, false), S::kSkipped);
  EXPECT_EQ(of({{S::kFailed, true}}, false), S::kSuccess);  // A warning.
  EXPECT_EQ(of({{S::kFailed, true}}, true), S::kSuccess);
  EXPECT_EQ(of({{S::kCanceled}, {S::kSuccess}}, true), S::kCanceled);
  EXPECT_EQ(of({{S::kCanceled}, {S::kFailed}}, false), S::kFailed);
  EXPECT_EQ(of({{S::kSuccess}, {S::kRunning}}, true), S::kPending);  // Not complete yet.
  StatusSet a, b;
  a.Add(S::kSuccess, false);
  b.Add(S::kFailed, false);
  a.Merge(b);
  EXPECT_EQ(a.Composite(), S::kFailed);
}

TEST(CiStatusTest, WhatAUserMayDoFollowsGitLab) {
  using S = CiStatus;
  // Ci::Processable#retryable?: finished jobs.
  for (S s : {S::kSuccess, S::kFailed, S::kCanceled})
    EXPECT_TRUE(JobRetryable(s)) << CiStatusName(s);
  for (S s : {S::kCreated, S::kPending, S::kRunning, S::kSkipped, S::kManual, S::kScheduled}) {
    EXPECT_FALSE(JobRetryable(s)) << CiStatusName(s);
  }
  // HasStatus::CANCELABLE_STATUSES: alive (created or active) or scheduled.
  for (S s : {S::kCreated, S::kWaitingForResource, S::kPreparing, S::kPending, S::kRunning,
              S::kScheduled}) {
    EXPECT_TRUE(JobCancelable(s)) << CiStatusName(s);
  }
  for (S s : {S::kSuccess, S::kFailed, S::kCanceled, S::kSkipped, S::kManual}) {
    EXPECT_FALSE(JobCancelable(s)) << CiStatusName(s);
  }
  EXPECT_TRUE(JobPlayable(S::kManual));
  EXPECT_FALSE(JobPlayable(S::kSkipped));
  EXPECT_TRUE(IsCompleted(S::kSkipped));
  EXPECT_FALSE(IsFinished(S::kSkipped));
}

}  // namespace
}  // namespace slipway
