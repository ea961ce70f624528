// DORA metrics end to end below the HTTP layer: a real git history with
// fixed commit dates, deployments finished at fixed times on the store's
// fake clock, the commits each one shipped recorded from git as the server
// records them, then every metric against figures worked out by hand.
#include "server/dora.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "server/deployment_commits.h"
#include "server/gitlab_json.h"
#include "server/incident_links.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

constexpr int64_t kHour = 3'600'000;

int64_t At(const std::string& iso) { return *ParseIsoTime(iso); }

class DoraTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    project_ = AddTestProject(store_.get(), "group/app");
    production_ = Environment("production", "production");
    staging_ = Environment("staging", "staging");
    // The history, committer dates fixed (GIT_COMMITTER_DATE).
    c1_ = CommitAt("c1", "2026-03-01T00:00:00Z");
    c2_ = CommitAt("c2", "2026-03-01T06:00:00Z");
    c3_ = CommitAt("c3", "2026-03-02T00:00:00Z");
    c4_ = CommitAt("c4", "2026-03-02T12:00:00Z");
    c5_ = CommitAt("c5", "2026-03-03T00:00:00Z");
    // Back to TestRepo's dates for whatever runs next in this process.
    setenv("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z", 1);
    setenv("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z", 1);
  }

  int64_t Environment(const std::string& name, const std::string& tier) {
    return AddTestEnvironment(store_.get(), project_, name, tier);
  }

  std::string CommitAt(const std::string& message, const std::string& iso) {
    setenv("GIT_COMMITTER_DATE", iso.c_str(), 1);
    setenv("GIT_AUTHOR_DATE", iso.c_str(), 1);
    return repo_.Commit(message);
  }

  // A deployment of sha that finishes with status at iso; a successful one
  // records what it shipped, as the server does when it succeeds.
  DeploymentRecord Deploy(int64_t environment, const std::string& sha, const std::string& status,
                          const std::string& iso) {
    clock_.Advance(std::chrono::milliseconds(At(iso) - NowMs()));
    DeploymentRecord finished = AddTestDeployment(store_.get(), project_, environment, sha, status);
    if (status == "success") {
      Status recorded = RecordShippedCommits(store_.get(), repo_.dir(), finished);
      EXPECT_TRUE(recorded.ok()) << recorded.message();
    }
    return finished;
  }

  std::vector<DoraPoint> Query(DoraMetric metric, DoraInterval interval,
                               std::vector<std::string> tiers = {"production"}) {
    DoraQuery q;
    q.project_id = project_;
    q.tiers = tiers;
    q.from_ms = At("2026-03-01");
    q.to_ms = At("2026-03-05");  // end_date 2026-03-04, inclusive.
    auto facts = store_->LoadDoraFacts(q);
    EXPECT_TRUE(facts.ok()) << facts.status().message();
    return ComputeDora(*facts, {metric, interval, q.from_ms, q.to_ms});
  }

  DoraPoint All(DoraMetric metric, std::vector<std::string> tiers = {"production"}) {
    auto points = Query(metric, DoraInterval::kAll, tiers);
    EXPECT_EQ(points.size(), 1u);
    return points.empty() ? DoraPoint{} : points[0];
  }

  TestRepo repo_;
  int64_t project_ = 0, production_ = 0, staging_ = 0;
  std::string c1_, c2_, c3_, c4_, c5_;
};

TEST_P(DoraTest, FiveMetricsOfAScriptedHistoryMatchTheHandWorkedFigures) {
  // Production:
  //   D1 c2 success 03-01 12:00  first deployment: ships its head c2 only
  //   D2 c4 success 03-02 18:00  ships c3, c4 (c4 ^c2)
  //   D3 c5 failed  03-03 06:00  ships nothing (failed)
  //   D4 c4 success 03-03 07:00  rollback to c4: c4 ^c4 ships nothing; rework
  //   D5 c5 success 03-04 00:00  ships c5 (c5 ^c4); an incident names c5
  // Staging: D6 c5 success 03-04 02:00 (first there: ships c5).
  DeploymentRecord d1 = Deploy(production_, c2_, "success", "2026-03-01T12:00:00Z");
  DeploymentRecord d2 = Deploy(production_, c4_, "success", "2026-03-02T18:00:00Z");
  Deploy(production_, c5_, "failed", "2026-03-03T06:00:00Z");
  DeploymentRecord d4 = Deploy(production_, c4_, "success", "2026-03-03T07:00:00Z");
  DeploymentRecord d5 = Deploy(production_, c5_, "success", "2026-03-04T00:00:00Z");
  Deploy(staging_, c5_, "success", "2026-03-04T02:00:00Z");
  EXPECT_EQ(store_->ListDeploymentCommits(d1.id)->size(), 1u);
  EXPECT_EQ(store_->ListDeploymentCommits(d2.id)->size(), 2u);
  EXPECT_EQ(store_->ListDeploymentCommits(d4.id)->size(), 0u);
  EXPECT_EQ(store_->ListDeploymentCommits(d5.id)->size(), 1u);

  // I1: "root cause: <c5>" → D5 (the first successful deployment that
  // shipped c5), open 03-04 01:00 to 03:00. I2: unlinked, 03-02 00:00 to 00:30.
  IncidentRecord i1 = NewIncident(project_, std::nullopt, "errors after c5", "api");
  i1.description = "Error rate up.\nroot cause: " + c5_.substr(0, 8) + "\n";
  i1.deployment_id = *DeploymentOfRootCause(store_.get(), project_, i1.description);
  EXPECT_EQ(i1.deployment_id, d5.id);
  i1.created_at = At("2026-03-04T01:00:00Z");
  int64_t i1_id = store_->CreateIncident(i1)->id;
  ASSERT_TRUE(store_->ResolveIncident(i1_id, At("2026-03-04T03:00:00Z")).ok());
  IncidentRecord i2 = NewIncident(project_, std::nullopt, "slow", "api");
  i2.created_at = At("2026-03-02T00:00:00Z");
  int64_t i2_id = store_->CreateIncident(i2)->id;
  ASSERT_TRUE(store_->ResolveIncident(i2_id, At("2026-03-02T00:30:00Z")).ok());

  // Deployment frequency: successes D1, D2, D4, D5 = 4 over 4 days = 1 a day.
  DoraPoint frequency = All(DoraMetric::kDeploymentFrequency);
  EXPECT_EQ(frequency.value, 4);
  EXPECT_EQ(frequency.mean, 1.0);
  EXPECT_EQ(frequency.bands["2024"], "elite");
  EXPECT_EQ(frequency.bands["2022"], "high");

  // Lead time, per shipped commit: D1 c2 12:00-06:00 = 6 h = 21600 s;
  // D2 c3 03-02 18:00 - 03-02 00:00 = 64800 s, c4 18:00-12:00 = 21600 s;
  // D5 c5 03-04 00:00 - 03-03 00:00 = 86400 s. Sorted 21600 21600 64800
  // 86400: median (21600+64800)/2 = 43200; mean 194400/4 = 48600.
  DoraPoint lead = All(DoraMetric::kLeadTimeForChanges);
  EXPECT_EQ(lead.count, 4);
  EXPECT_EQ(lead.value, 43200);
  EXPECT_EQ(lead.mean, 48600);
  EXPECT_EQ(lead.bands["2024"], "elite");  // <= one day.

  // Change failure rate: D1..D5 finished; D3 failed, D5 has an incident:
  // 2/5 = 0.4.
  DoraPoint failure = All(DoraMetric::kChangeFailureRate);
  EXPECT_EQ(failure.count, 5);
  EXPECT_EQ(failure.matching, 2);
  EXPECT_DOUBLE_EQ(*failure.value, 0.4);
  EXPECT_EQ(failure.bands["2024"], "low");
  EXPECT_EQ(failure.bands["2022"], "low");

  // Recovery: D3 failed 06:00, D4 succeeded 07:00: 3600 s. D5's incident
  // from 01:00, no later production success, resolved 03:00: 7200 s.
  // Median (3600+7200)/2 = 5400.
  DoraPoint recovery = All(DoraMetric::kFailedDeploymentRecoveryTime);
  EXPECT_EQ(recovery.count, 2);
  EXPECT_EQ(recovery.value, 5400);
  EXPECT_EQ(recovery.mean, 5400);
  EXPECT_EQ(recovery.bands["2024"], "high");  // Over an hour, under a day.

  // GitLab's time to restore service: incidents open 7200 s and 1800 s:
  // median 4500.
  DoraPoint restore = All(DoraMetric::kTimeToRestoreService);
  EXPECT_EQ(restore.count, 2);
  EXPECT_EQ(restore.value, 4500);

  // Rework: D4 follows the failed D3: 1 of 5.
  DoraPoint rework = All(DoraMetric::kDeploymentReworkRate);
  EXPECT_EQ(rework.matching, 1);
  EXPECT_DOUBLE_EQ(*rework.value, 0.2);
  EXPECT_TRUE(rework.bands.empty());  // Neither report has bands for it.

  // Daily lead time: 03-01 D1 21600; 03-02 D2 median 43200; 03-03 none
  // (D4 shipped nothing); 03-04 D5 86400.
  auto daily = Query(DoraMetric::kLeadTimeForChanges, DoraInterval::kDaily);
  ASSERT_EQ(daily.size(), 4u);
  EXPECT_EQ(daily[0].date, "2026-03-01");
  EXPECT_EQ(daily[0].value, 21600);
  EXPECT_EQ(daily[1].value, 43200);
  EXPECT_FALSE(daily[2].value);
  EXPECT_EQ(daily[3].value, 86400);
  auto monthly = Query(DoraMetric::kDeploymentFrequency, DoraInterval::kMonthly);
  ASSERT_EQ(monthly.size(), 1u);
  EXPECT_EQ(monthly[0].date, "2026-03-01");
  EXPECT_EQ(monthly[0].value, 4);

  // Staging alone: D6, its first deployment, ships its head c5:
  // 03-04 02:00 - 03-03 00:00 = 26 h = 93600 s.
  EXPECT_EQ(All(DoraMetric::kDeploymentFrequency, {"staging"}).value, 1);
  EXPECT_EQ(All(DoraMetric::kLeadTimeForChanges, {"staging"}).value, 26 * kHour / 1000);
  // One metric's query loads only what that metric is computed from.
  DoraRequest lead_request{DoraMetric::kLeadTimeForChanges, DoraInterval::kAll, At("2026-03-01"),
                           At("2026-03-05")};
  auto lead_facts = store_->LoadDoraFacts(DoraQueryFor(lead_request, project_, {"production"}));
  ASSERT_TRUE(lead_facts.ok());
  EXPECT_EQ(lead_facts->lead_times.size(), 4u);
  EXPECT_TRUE(lead_facts->deployments.empty());
  EXPECT_TRUE(lead_facts->incidents.empty());
  EXPECT_EQ(ComputeDora(*lead_facts, lead_request)[0].value, 43200);
  // Both tiers: 5 successes.
  EXPECT_EQ(All(DoraMetric::kDeploymentFrequency, {"production", "staging"}).value, 5);
}

TEST_P(DoraTest, ADeploymentShipsAtMostTheBoundAndNothingOnARollback) {
  auto shipped = ShippedCommits(repo_.dir(), c5_, c2_);
  ASSERT_TRUE(shipped.ok()) << shipped.status().message();
  ASSERT_EQ(shipped->size(), 3u);  // c5, c4, c3, newest first.
  EXPECT_EQ(shipped->at(0).sha, c5_);
  EXPECT_EQ(shipped->at(0).committed_at, At("2026-03-03T00:00:00Z"));
  EXPECT_TRUE(ShippedCommits(repo_.dir(), c2_, c5_)->empty());
  EXPECT_EQ(ShippedCommits(repo_.dir(), c5_, "")->size(), 1u);
  EXPECT_FALSE(ShippedCommits(repo_.dir(), "--output=/tmp/x", "").ok());
  EXPECT_FALSE(ShippedCommits(repo_.dir(), c5_, "HEAD~1").ok());
}

SLIPWAY_STORE_TEST_SUITE(DoraTest);

TEST(DoraBandsTest, BandsComeFromTheTableInTheTree) {
  // 2024's change failure rate: elite 5%, medium 10%, high 20%, low 40%.
  EXPECT_EQ(DoraBands(DoraMetric::kChangeFailureRate, 0.04)->at("2024"), "elite");
  EXPECT_EQ(DoraBands(DoraMetric::kChangeFailureRate, 0.08)->at("2024"), "medium");
  EXPECT_EQ(DoraBands(DoraMetric::kChangeFailureRate, 0.15)->at("2024"), "high");
  EXPECT_EQ(DoraBands(DoraMetric::kChangeFailureRate, 0.15)->at("2022"), "high");
  EXPECT_EQ(DoraBands(DoraMetric::kChangeFailureRate, 0.25)->at("2022"), "medium");
  // Deployments per day: 2024 high is at least once a week.
  EXPECT_EQ(DoraBands(DoraMetric::kDeploymentFrequency, 0.2)->at("2024"), "high");
  EXPECT_EQ(DoraBands(DoraMetric::kDeploymentFrequency, 0.01)->at("2024"), "low");
  EXPECT_TRUE(DoraBands(DoraMetric::kDeploymentReworkRate, 0.1)->empty());
}

TEST(DoraDateTest, OnlyRealDaysParse) {
  EXPECT_EQ(ParseDoraDate("2026-03-01"), At("2026-03-01T00:00:00Z"));
  EXPECT_FALSE(ParseDoraDate("2026-02-30"));
  EXPECT_FALSE(ParseDoraDate("2026-3-01"));
  EXPECT_FALSE(ParseDoraDate("2026-03-01T00:00:00Z"));
  EXPECT_EQ(DoraDate(At("2026-03-04T23:59:59Z")), "2026-03-04");
}

}  // namespace
}  // namespace slipway
