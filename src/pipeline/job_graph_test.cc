#include "pipeline/job_graph.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

using Needs = std::optional<std::vector<std::string>>;

JobGraph Graph(std::vector<GraphJob> jobs) { return JobGraph(std::move(jobs)); }

TEST(JobGraphTest, NeedsOnUnknownJobsAreDroppedAndDuplicatesCountOnce) {
  JobGraph g = Graph({{"a", 0, std::nullopt}, {"b", 1, Needs({"a", "a", "gone"})}});
  EXPECT_FALSE(g.dag(0));
  EXPECT_TRUE(g.dag(1));
  EXPECT_EQ(g.needs(1), std::vector<int>{0});
  EXPECT_EQ(g.dependents(0), std::vector<int>{1});
  EXPECT_EQ(g.Find("b"), 1);
  EXPECT_EQ(g.Find("gone"), -1);
}

// ResetSkippedJobsService's set: needs descendants, transitively, and jobs
// of stages after the earliest one given.
TEST(JobGraphTest, WaitingForFollowsNeedsTransitivelyAndLaterStages) {
  JobGraph g = Graph({{"a", 0, Needs({})},
                      {"b", 0, Needs({"a"})},
                      {"c", 0, Needs({"b"})},
                      {"peer", 0, std::nullopt},
                      {"late", 1, std::nullopt},
                      {"late_dag", 1, Needs({"peer"})}});
  std::vector<bool> waiting = g.WaitingFor({0});
  EXPECT_EQ(waiting, (std::vector<bool>{false, true, true, false, true, true}));
  EXPECT_EQ(g.WaitingFor({4}), (std::vector<bool>(6, false)));
}

TEST(JobGraphTest, JobOnCycleIsTheFirstSearchStartThatFindsOne) {
  EXPECT_EQ(Graph({{"a", 0, Needs({"b"})}, {"b", 0, Needs({})}}).JobOnCycle(), std::nullopt);
  JobGraph cyclic = Graph({{"free", 0, Needs({})},
                           {"x", 0, Needs({"y"})},
                           {"y", 0, Needs({"z"})},
                           {"z", 0, Needs({"x"})}});
  EXPECT_EQ(cyclic.JobOnCycle(), 1);
  EXPECT_EQ(Graph({{"self", 0, Needs({"self"})}}).JobOnCycle(), 0);
}

}  // namespace
}  // namespace slipway
