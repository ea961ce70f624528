// Leases of pipelines among servers sharing one database (pipeline_leases.h)
// against both backends, with two stores (two connections) where the
// question is who wins.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "store/pipeline_leases.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"

namespace slipway {
namespace {

class StoreLeasesTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    project_id_ = AddTestProject(store_.get(), "group/app");
    ASSERT_NE(project_id_, 0);
    leases_ = LeasesOf(store_.get());
    ASSERT_NE(leases_, nullptr);
  }

  // A pending pipeline with one job; returns the pipeline's id, the job's in *job_id.
  int64_t AddPipeline(int64_t* job_id = nullptr) {
    JobRecord job;
    job.name = "build";
    PipelineRecord p;
    p.project_id = project_id_;
    p.ref = "main";
    p.status = CiStatus::kPending;
    auto created = store_->CreatePipeline(p, {job});
    EXPECT_TRUE(created.ok()) << created.status().message();
    if (!created.ok()) return 0;
    if (job_id != nullptr) *job_id = store_->ListJobs({.pipeline_id = created->id})->items[0].id;
    return created->id;
  }

  // Another connection to the same database, as another server has.
  std::unique_ptr<Store> OtherServer() {
    auto opened = OpenStore(url_, Options());
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  int64_t project_id_ = 0;
  PipelineLeases* leases_ = nullptr;
};

TEST_P(StoreLeasesTest, EachFreePipelineIsClaimedByExactlyOneServer) {
  constexpr int kPipelines = 40;
  std::set<int64_t> all;
  for (int i = 0; i < kPipelines; ++i) all.insert(AddPipeline());
  std::unique_ptr<Store> other = OtherServer();
  ASSERT_NE(other, nullptr);
  // Two servers claim at once until nothing is left.
  auto claim_all = [](PipelineLeases* leases, const char* owner, std::vector<int64_t>* got) {
    while (true) {
      StatusOr<std::optional<int64_t>> next = leases->ClaimNextPipeline(owner, 1'000'000);
      ASSERT_TRUE(next.ok()) << next.status().message();
      if (!*next) return;
      got->push_back(**next);
    }
  };
  std::vector<int64_t> a, b;
  std::thread second([&] { claim_all(LeasesOf(other.get()), "b", &b); });
  claim_all(leases_, "a", &a);
  second.join();
  std::set<int64_t> claimed(a.begin(), a.end());
  for (int64_t id : b) EXPECT_TRUE(claimed.insert(id).second) << "pipeline " << id << " twice";
  EXPECT_EQ(claimed, all);
  EXPECT_EQ(a.size() + b.size(), all.size());
  // Each holds what it claimed: the renewal lists exactly those.
  std::sort(a.begin(), a.end());
  EXPECT_EQ(*leases_->RenewLeases("a", 2'000'000), a);
}

TEST_P(StoreLeasesTest, ClaimsFinishedAndHeldPipelinesOnlyAsTheRulesSay) {
  int64_t held = AddPipeline();
  int64_t done = AddPipeline();
  ASSERT_TRUE(store_->UpdatePipelineStatus(done, CiStatus::kSuccess).ok());
  EXPECT_EQ(*leases_->PipelineOwner(held), std::nullopt);
  EXPECT_TRUE(*leases_->ClaimPipeline(held, "a", 1000));
  EXPECT_EQ(*leases_->PipelineOwner(held), "a");
  EXPECT_EQ(*leases_->PipelineOwner(held + 1000), std::nullopt);  // No such pipeline.
  EXPECT_TRUE(*leases_->ClaimPipeline(held, "a", 1500));          // Its own again.
  EXPECT_FALSE(*leases_->ClaimPipeline(held, "b", 1000));
  // Finished pipelines are never claimed as work, only by id (an action).
  EXPECT_FALSE(leases_->ClaimNextPipeline("b", 1000)->has_value());
  ASSERT_TRUE(leases_->ReleasePipeline(held, "b").ok());  // Not b's: nothing happens.
  EXPECT_FALSE(*leases_->ClaimPipeline(held, "b", 1000));
  ASSERT_TRUE(leases_->ReleasePipeline(held, "a").ok());
  EXPECT_EQ(*leases_->PipelineOwner(held), std::nullopt);
  EXPECT_EQ(*leases_->ClaimNextPipeline("b", 1000), held);
  EXPECT_EQ(*leases_->PipelineOwner(held), "b");
  EXPECT_EQ(*leases_->RenewLeases("b", 5000), std::vector<int64_t>{held});
  EXPECT_TRUE(leases_->RenewLeases("a", 5000)->empty());
}

TEST_P(StoreLeasesTest, ExpiredLeasesAreRecoveredOnceWithTheirRunningJobsFailed) {
  int64_t job = 0;
  int64_t left = AddPipeline(&job);
  int64_t alive = AddPipeline();
  ASSERT_TRUE(store_->UpdateJob(job, {.status = CiStatus::kPending}).ok());
  ASSERT_TRUE(store_->UpdateJob(job, {.status = CiStatus::kRunning}).ok());
  ASSERT_TRUE(*leases_->ClaimPipeline(left, "a", 1000));
  ASSERT_TRUE(*leases_->ClaimPipeline(alive, "b", 5000));

  LeaseRecovery early;
  early.now_ms = 999;
  auto none = leases_->RecoverPipelines(early);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->pipeline_ids.empty());
  EXPECT_TRUE(none->jobs.empty());

  LeaseRecovery late;
  late.now_ms = 1001;
  auto recovered = leases_->RecoverPipelines(late);
  ASSERT_TRUE(recovered.ok()) << recovered.status().message();
  EXPECT_EQ(recovered->pipeline_ids, std::vector<int64_t>{left});
  ASSERT_EQ(recovered->jobs.size(), 1u);
  EXPECT_EQ(recovered->jobs[0].id, job);
  EXPECT_EQ(recovered->jobs[0].status, CiStatus::kFailed);
  EXPECT_EQ(recovered->jobs[0].failure_reason, "runner_system_failure");
  // Done once: the pipeline is free now, and the server that lost it finds
  // it missing from its renewal.
  EXPECT_TRUE(leases_->RecoverPipelines(late)->pipeline_ids.empty());
  EXPECT_TRUE(leases_->RenewLeases("a", 9000)->empty());
  EXPECT_EQ(*leases_->ClaimNextPipeline("c", 9000), left);
}

TEST_P(StoreLeasesTest, AStartingServerRecoversItsOwnOrEverything) {
  int64_t job = 0;
  int64_t mine = AddPipeline(&job);
  int64_t theirs = AddPipeline();
  ASSERT_TRUE(store_->UpdateJob(job, {.status = CiStatus::kPending}).ok());
  ASSERT_TRUE(store_->UpdateJob(job, {.status = CiStatus::kRunning}).ok());
  ASSERT_TRUE(*leases_->ClaimPipeline(mine, "a", 10'000));
  ASSERT_TRUE(*leases_->ClaimPipeline(theirs, "b", 10'000));

  LeaseRecovery restart;
  restart.now_ms = 1;
  restart.previous_owner = "a";  // a started again under its own id.
  auto own = leases_->RecoverPipelines(restart);
  ASSERT_TRUE(own.ok()) << own.status().message();
  EXPECT_EQ(own->pipeline_ids, std::vector<int64_t>{mine});
  EXPECT_EQ(own->jobs.size(), 1u);

  LeaseRecovery single;  // A single server (SQLite) starting.
  single.now_ms = 1;
  single.everything = true;
  auto all = leases_->RecoverPipelines(single);
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->pipeline_ids, std::vector<int64_t>{theirs});
  EXPECT_TRUE(leases_->RenewLeases("b", 20'000)->empty());
}

TEST_P(StoreLeasesTest, AScheduleRunIsClaimedOnce) {
  ScheduleRecord s;
  s.project_id = project_id_;
  s.cron = "0 3 * * *";
  s.cron_timezone = "UTC";
  s.ref = "main";
  s.next_run_at = 1000;
  auto created = store_->CreateSchedule(s);
  ASSERT_TRUE(created.ok()) << created.status().message();
  std::unique_ptr<Store> other = OtherServer();
  ASSERT_NE(other, nullptr);
  bool first = false, second = false;
  std::thread racing(
      [&] { second = *LeasesOf(other.get())->ClaimScheduleRun(created->id, 1000, 2000); });
  first = *leases_->ClaimScheduleRun(created->id, 1000, 2000);
  racing.join();
  EXPECT_NE(first, second);
  EXPECT_EQ(*(*store_->GetSchedule(created->id))->next_run_at, 2000);
  // The last run of a schedule that can never run again turns it off.
  EXPECT_TRUE(*leases_->ClaimScheduleRun(created->id, 2000, std::nullopt));
  auto after = *store_->GetSchedule(created->id);
  EXPECT_FALSE(after->active);
  EXPECT_FALSE(after->next_run_at.has_value());
  EXPECT_FALSE(*leases_->ClaimScheduleRun(created->id, 2000, 3000));
}

SLIPWAY_STORE_TEST_SUITE(StoreLeasesTest);

}  // namespace
}  // namespace slipway
