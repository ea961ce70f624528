// Environments and deployments against both backends.
#include <gtest/gtest.h>

#include "store/store.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"

namespace slipway {
namespace {

class StoreDeploymentsTest : public StoreTest {
 protected:
  int64_t AddProject(const std::string& path) { return AddTestProject(store_.get(), path); }
  DeploymentRecord Deploy(int64_t project, int64_t environment, const std::string& sha) {
    return AddTestDeployment(store_.get(), project, environment, sha, "running");
  }
};

TEST_P(StoreDeploymentsTest, AnEnvironmentIsOnePerProjectAndNameAndTakesTheLatestUrl) {
  int64_t app = AddProject("group/app");
  int64_t other = AddProject("group/other");
  EnvironmentRecord e;
  e.project_id = app;
  e.name = "production";
  e.tier = "production";
  e.external_url = "https://v1.example.com";
  auto first = store_->SaveEnvironment(e);
  ASSERT_TRUE(first.ok()) << first.status().message();
  e.external_url = "https://v2.example.com";
  auto again = store_->SaveEnvironment(e);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->external_url, "https://v2.example.com");
  e.project_id = other;
  auto elsewhere = store_->SaveEnvironment(e);
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_NE(elsewhere->id, first->id);
  auto listed = store_->ListEnvironments(app);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).state, "available");
  e.tier = "prod";
  EXPECT_FALSE(store_->SaveEnvironment(e).ok());
  e.tier = "other";
  e.name = "";
  EXPECT_FALSE(store_->SaveEnvironment(e).ok());
}

TEST_P(StoreDeploymentsTest, DeploymentsAreNumberedPerProjectAndFollowTheirStatus) {
  int64_t app = AddProject("group/app");
  int64_t other = AddProject("group/other");
  EnvironmentRecord e;
  e.project_id = app;
  e.name = "staging";
  e.tier = "staging";
  int64_t staging = store_->SaveEnvironment(e)->id;
  e.project_id = other;
  int64_t other_staging = store_->SaveEnvironment(e)->id;

  DeploymentRecord one = Deploy(app, staging, "aaa");
  DeploymentRecord two = Deploy(app, staging, "bbb");
  DeploymentRecord elsewhere = Deploy(other, other_staging, "ccc");
  EXPECT_EQ(one.iid, 1);
  EXPECT_EQ(two.iid, 2);
  EXPECT_EQ(elsewhere.iid, 1);
  EXPECT_FALSE(one.finished_at);

  auto done = store_->SetDeploymentStatus(one.id, "success");
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->finished_at);
  ASSERT_TRUE(store_->SetDeploymentStatus(two.id, "failed").ok());
  EXPECT_FALSE(store_->SetDeploymentStatus(two.id, "exploded").ok());
  EXPECT_FALSE(store_->SetDeploymentStatus(9999, "success").ok());

  auto last = store_->LastSuccessfulDeployment(staging);
  ASSERT_TRUE(last.ok() && *last);
  EXPECT_EQ((*last)->sha, "aaa");

  DeploymentFilter filter;
  filter.project_id = app;
  filter.sort = "desc";
  auto page = store_->ListDeployments(filter);
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].sha, "bbb");
  filter.status = "success";
  page = store_->ListDeployments(filter);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].sha, "aaa");
  filter.status = "nonsense";
  EXPECT_FALSE(store_->ListDeployments(filter).ok());
  filter.status.clear();
  filter.order_by = "sha; DROP TABLE deployments";
  EXPECT_FALSE(store_->ListDeployments(filter).ok());
}

// What the environments API and auto_stop_in need: create (a taken name
// is an error, not a constraint failure), update, an auto-stop time on the
// store's clock, the environments due, and delete with their deployments.
TEST_P(StoreDeploymentsTest, EnvironmentsAreCreatedUpdatedStoppedByTimeAndDeleted) {
  int64_t app = AddProject("group/app");
  EnvironmentRecord e;
  e.project_id = app;
  e.name = "review/one";
  e.tier = "development";
  auto one = store_->CreateEnvironment(e);
  ASSERT_TRUE(one.ok()) << one.status().message();
  auto taken = store_->CreateEnvironment(e);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().message(), "environment name has already been taken");
  e.name = "review/two";
  auto two = store_->CreateEnvironment(e);
  ASSERT_TRUE(two.ok()) << two.status().message();  // The store still works after the refusal.
  auto found = store_->FindEnvironment(app, "review/two");
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->id, two->id);
  EXPECT_FALSE((*store_->FindEnvironment(app, "review/none")).has_value());

  EnvironmentRecord changed = *one;
  changed.external_url = "https://one.example.com";
  changed.tier = "staging";
  auto updated = store_->UpdateEnvironment(changed);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(updated->external_url, "https://one.example.com");
  EXPECT_EQ(updated->tier, "staging");
  changed.tier = "prod";
  EXPECT_FALSE(store_->UpdateEnvironment(changed).ok());

  EXPECT_FALSE(one->auto_stop_at.has_value());
  auto timed = store_->SetEnvironmentAutoStop(one->id, 3600);
  ASSERT_TRUE(timed.ok()) << timed.status().message();
  ASSERT_TRUE(timed->auto_stop_at.has_value());
  EXPECT_EQ(*timed->auto_stop_at, NowMs() + 3'600'000);
  ASSERT_TRUE(store_->SetEnvironmentAutoStop(two->id, 60).ok());
  auto due = store_->EnvironmentsToAutoStop(NowMs() + 59'999);
  ASSERT_TRUE(due.ok()) << due.status().message();
  EXPECT_TRUE(due->empty());
  due = store_->EnvironmentsToAutoStop(NowMs() + 3'600'000);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ(due->at(0).id, two->id);  // The earlier time first.
  // A stopped environment is not due; one without a time never is.
  ASSERT_TRUE(store_->SetEnvironmentState(app, "review/two", "stopped").ok());
  ASSERT_TRUE(store_->SetEnvironmentAutoStop(one->id, std::nullopt).ok());
  EXPECT_TRUE(store_->EnvironmentsToAutoStop(NowMs() + 3'600'000)->empty());

  DeploymentRecord deployed = Deploy(app, two->id, "abc");
  ASSERT_TRUE(store_->DeleteEnvironment(two->id).ok());
  EXPECT_FALSE((*store_->GetEnvironment(two->id)).has_value());
  EXPECT_FALSE((*store_->GetDeployment(deployed.id)).has_value()) << "deployments go with it";
}

TEST_P(StoreDeploymentsTest, ChecksAndRollbacksAreKeptOnTheDeployment) {
  int64_t app = AddProject("group/app");
  EnvironmentRecord e;
  e.project_id = app;
  e.name = "production";
  e.tier = "production";
  auto env = store_->SaveEnvironment(e);
  ASSERT_TRUE(env.ok());
  DeploymentRecord failed = Deploy(app, env->id, "bbb");
  EXPECT_EQ(failed.checks, "");
  EXPECT_FALSE(failed.rollback_of);
  const std::string checks = R"([{"name":"health","outcome":"fail"}])";
  auto stored = store_->SetDeploymentChecks(failed.id, checks);
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  EXPECT_EQ(stored->checks, checks);
  EXPECT_FALSE(store_->SetDeploymentChecks(failed.id + 100, checks).ok());

  DeploymentRecord rollback;
  rollback.project_id = app;
  rollback.environment_id = env->id;
  rollback.ref = "main";
  rollback.sha = "aaa";
  rollback.status = "running";
  rollback.rollback_of = failed.id;
  auto made = store_->CreateDeployment(rollback);
  ASSERT_TRUE(made.ok()) << made.status().message();
  auto read = store_->GetDeployment(made->id);
  ASSERT_TRUE(read.ok() && *read);
  EXPECT_EQ((*read)->rollback_of, failed.id);
  EXPECT_EQ((*store_->GetDeployment(failed.id))->checks, checks);
}

SLIPWAY_STORE_TEST_SUITE(StoreDeploymentsTest);

}  // namespace
}  // namespace slipway
