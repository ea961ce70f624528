// Incidents, alert tokens and deployment commits against both backends.
#include <gtest/gtest.h>

#include "store/store.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"

namespace slipway {
namespace {

class StoreIncidentsTest : public StoreTest {
 protected:
  int64_t AddProject(const std::string& path) { return AddTestProject(store_.get(), path); }
  int64_t AddEnvironment(int64_t project, const std::string& name, const std::string& tier) {
    return AddTestEnvironment(store_.get(), project, name, tier);
  }
  DeploymentRecord Deploy(int64_t project, int64_t environment, const std::string& sha,
                          const std::string& status) {
    return AddTestDeployment(store_.get(), project, environment, sha, status);
  }
  IncidentRecord Open(IncidentRecord incident) {
    auto created = store_->CreateIncident(incident);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : incident;
  }
};

TEST_P(StoreIncidentsTest, IncidentsAreNumberedPerProjectAndLinkToTheirDeployment) {
  int64_t app = AddProject("group/app");
  int64_t other = AddProject("group/other");
  int64_t production = AddEnvironment(app, "production", "production");
  DeploymentRecord failed = Deploy(app, production, std::string(40, 'a'), "failed");

  // What an automatic rollback does.
  IncidentRecord first = Open(NewIncident(app, failed.id, "v2 failed its checks", "rollback"));
  IncidentRecord second = Open(NewIncident(app, std::nullopt, "slow pages", "api"));
  IncidentRecord elsewhere = Open(NewIncident(other, std::nullopt, "down", "api"));
  EXPECT_EQ(first.iid, 1);
  EXPECT_EQ(second.iid, 2);
  EXPECT_EQ(elsewhere.iid, 1);
  EXPECT_EQ(first.status, "open");
  EXPECT_EQ(first.source, "rollback");
  EXPECT_EQ(first.deployment_id, failed.id);
  EXPECT_EQ(first.created_at, NowMs());
  EXPECT_FALSE(first.resolved_at);

  clock_.Advance(std::chrono::minutes(5));
  auto resolved = store_->ResolveIncident(first.id, std::nullopt);
  ASSERT_TRUE(resolved.ok()) << resolved.status().message();
  EXPECT_EQ(resolved->status, "resolved");
  EXPECT_EQ(resolved->resolved_at, NowMs());
  clock_.Advance(std::chrono::minutes(5));
  // Resolving again keeps the first resolution.
  EXPECT_EQ(store_->ResolveIncident(first.id, std::nullopt)->resolved_at, resolved->resolved_at);
  auto reopened = store_->ReopenIncident(first.id);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->status, "open");
  EXPECT_FALSE(reopened->resolved_at);

  auto by_iid = store_->GetIncidentByIid(app, 2);
  ASSERT_TRUE(by_iid.ok() && *by_iid);
  EXPECT_EQ((*by_iid)->title, "slow pages");
  IncidentRecord edited = **by_iid;
  edited.description = "root cause: " + std::string(40, 'a');
  edited.deployment_id = failed.id;
  auto updated = store_->UpdateIncident(edited);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->deployment_id, failed.id);

  auto open = store_->ListIncidents({.project_id = app, .status = "open", .sort = "asc"});
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->total, 2);
  EXPECT_EQ(open->items.at(0).id, first.id);

  EXPECT_FALSE(store_->CreateIncident(NewIncident(app, std::nullopt, "", "api")).ok());
  EXPECT_FALSE(store_->CreateIncident(NewIncident(app, std::nullopt, "x", "pager")).ok());
  EXPECT_FALSE(store_->ResolveIncident(9999, std::nullopt).ok());
  EXPECT_FALSE(store_->ListIncidents({.project_id = app, .status = "closed"}).ok());
}

TEST_P(StoreIncidentsTest, AnAlertKeyOpensOneIncidentUntilItIsResolved) {
  int64_t app = AddProject("group/app");
  int64_t other = AddProject("group/other");
  IncidentRecord alert = NewIncident(app, std::nullopt, "HighErrorRate", "alertmanager");
  alert.external_key = "f1a2b3";
  alert.created_at = NowMs() - 60'000;  // The alert's startsAt.
  IncidentRecord first = Open(alert);
  EXPECT_EQ(first.created_at, NowMs() - 60'000);
  IncidentRecord again = Open(alert);
  EXPECT_EQ(again.id, first.id);
  alert.project_id = other;
  EXPECT_NE(Open(alert).id, first.id);  // Keys of other projects never collide.

  auto none = store_->ResolveIncidentByKey(app, "unknown", std::nullopt);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  auto resolved = store_->ResolveIncidentByKey(app, "f1a2b3", NowMs() + 1);
  ASSERT_TRUE(resolved.ok() && *resolved);
  EXPECT_EQ((*resolved)->id, first.id);
  EXPECT_EQ((*resolved)->resolved_at, NowMs() + 1);

  // Firing again after it was resolved is a new incident, with the next iid
  // (the refused duplicate took none).
  alert.project_id = app;
  IncidentRecord next = Open(alert);
  EXPECT_NE(next.id, first.id);
  EXPECT_EQ(next.iid, 2);
  // The old one cannot be reopened beside it.
  EXPECT_FALSE(store_->ReopenIncident(first.id).ok());
}

TEST_P(StoreIncidentsTest, AnAlertTokenIsCheckedByItsHashAndReplacedByANewOne) {
  int64_t app = AddProject("group/app");
  int64_t other = AddProject("group/other");
  EXPECT_FALSE(*store_->CheckAlertToken(app, "anything"));
  auto token = store_->CreateAlertToken(app);
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_TRUE(*store_->CheckAlertToken(app, *token));
  EXPECT_FALSE(*store_->CheckAlertToken(other, *token));
  EXPECT_FALSE(*store_->CheckAlertToken(app, ""));
  EXPECT_FALSE(*store_->CheckAlertToken(app, *token + "x"));
  auto raw = RawDatabase();
  ASSERT_TRUE(raw);
  auto stored = raw->Query("SELECT token_sha256 FROM alert_integrations");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_NE(stored->at(0).Text(0), *token);  // Never the token itself.
  auto replaced = store_->CreateAlertToken(app);
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(*store_->CheckAlertToken(app, *token));
  EXPECT_TRUE(*store_->CheckAlertToken(app, *replaced));
}

TEST_P(StoreIncidentsTest, ACommitLeadsToTheFirstSuccessfulDeploymentThatShippedIt) {
  int64_t app = AddProject("group/app");
  int64_t production = AddEnvironment(app, "production", "production");
  std::string a(40, 'a'), b = "b" + std::string(39, '1'), c(40, 'c');
  DeploymentRecord one = Deploy(app, production, b, "success");
  ASSERT_TRUE(store_->AddDeploymentCommits(one.id, {{a, 1000}, {b, 2000}}).ok());
  ASSERT_TRUE(store_->AddDeploymentCommits(one.id, {{b, 2000}}).ok());  // Kept once.
  clock_.Advance(std::chrono::minutes(1));
  DeploymentRecord two = Deploy(app, production, c, "success");
  auto commits = store_->ListDeploymentCommits(one.id);
  ASSERT_TRUE(commits.ok());
  EXPECT_EQ(*commits, (std::vector<DeploymentCommit>{{a, 1000}, {b, 2000}}));

  auto of_a = store_->DeploymentOfCommit(app, a);
  ASSERT_TRUE(of_a.ok() && *of_a) << of_a.status().message();
  EXPECT_EQ((*of_a)->id, one.id);
  auto abbreviated = store_->DeploymentOfCommit(app, "B111111");
  ASSERT_TRUE(abbreviated.ok() && *abbreviated);
  EXPECT_EQ((*abbreviated)->id, one.id);
  auto by_head = store_->DeploymentOfCommit(app, c);  // No commits recorded: its own sha.
  ASSERT_TRUE(by_head.ok() && *by_head);
  EXPECT_EQ((*by_head)->id, two.id);
  EXPECT_FALSE(*store_->DeploymentOfCommit(app, "ddddddd"));
  // Not a sha: refused, never a pattern.
  EXPECT_FALSE(store_->DeploymentOfCommit(app, "abc%").ok());
  EXPECT_FALSE(store_->DeploymentOfCommit(app, "abc").ok());
}

SLIPWAY_STORE_TEST_SUITE(StoreIncidentsTest);

}  // namespace
}  // namespace slipway
