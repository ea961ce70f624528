// Resource groups across pipelines and outdated deployment jobs in
// `slipway serve` (docs/deployments.md): real git, real store, real bash
// jobs. Jobs wait on gate files the test creates; a deploy job takes a lock
// directory with mkdir, which fails if another deploy job holds it, so an
// overlap fails the job whatever the timing.
#include <gtest/gtest.h>

#include "server/api.h"
#include "server/deployment_safety.h"
#include "server/pipeline_service_test_util.h"

namespace slipway {
namespace {

constexpr char kGatedDeploys[] = R"yaml(
build:
  stage: build
  script: while [ ! -f "$WORK/build-$N" ]; do sleep 0.02; done
deploy:
  stage: deploy
  resource_group: production
  script:
    - mkdir "$WORK/lock"
    - echo "$N" >> "$WORK/order"
    - while [ ! -f "$WORK/deploy-$N" ]; do sleep 0.02; done
    - rmdir "$WORK/lock"
)yaml";

class ServiceResourceGroupsTest : public PipelineServiceTest {
 protected:
  void SetUp() override {
    configure_ = [](ServiceOptions* options) { options->max_running_pipelines = 4; };
    PipelineServiceTest::SetUp();
  }

  void Open(const std::string& gate) { std::ofstream(work_dir_ + "/" + gate) << "open\n"; }

  // Pipeline n of kGatedDeploys; its build gate opened unless !build.
  int64_t Create(int64_t project, int n, bool build = true) {
    CreatePipelineRequest request;
    request.project_id = project;
    request.variables = {{"WORK", work_dir_}, {"N", std::to_string(n)}};
    auto created = service_->CreatePipeline(request);
    EXPECT_TRUE(created.ok()) << created.status().message();
    if (build) Open("build-" + std::to_string(n));
    return created.ok() ? created->id : 0;
  }

  bool WaitJob(int64_t pipeline, const std::string& name, CiStatus status) {
    int64_t id = Jobs(pipeline).at(name).id;
    return WaitFor([&] {
      auto job = store_->GetJob(id);
      return job.ok() && *job && (*job)->status == status;
    });
  }

  std::string Order() { return ReadAll(work_dir_ + "/order"); }

  // The pipeline's status once it has ended. (WaitDone also waits for
  // every pipeline to let go, which here others do later.)
  CiStatus Ended(int64_t pipeline_id) {
    CiStatus last = CiStatus::kCreated;
    bool done = WaitFor([&] {
      auto p = store_->GetPipeline(pipeline_id);
      if (!p.ok() || !*p) return false;
      last = (*p)->status;
      return !IsActive(last);
    });
    EXPECT_TRUE(done) << "pipeline " << pipeline_id << " still " << CiStatusName(last);
    return last;
  }

  int64_t project_ = 0;

  // A project of kGatedDeploys and pipelines 1..count, in that order: the
  // first one's deploy job runs (until its gate opens), the others' wait.
  std::vector<int64_t> Queue(int count) {
    repo_.Write(".gitlab-ci.yml", kGatedDeploys);
    repo_.Commit("gated deploys");
    project_ = AddProject();
    std::vector<int64_t> pipelines;
    for (int n = 1; n <= count; ++n) {
      pipelines.push_back(Create(project_, n));
      EXPECT_TRUE(WaitJob(pipelines.back(), "deploy",
                          n == 1 ? CiStatus::kRunning : CiStatus::kWaitingForResource))
          << n;
    }
    return pipelines;
  }

  // Pipelines 0..3: 0 holds the group (its deploy runs until its gate
  // opens), then 1..3 want it, in that order; the builds of those in
  // `not_ready` stay gated, so that their deploy jobs are upcoming but not
  // ready. Returns the order in which the deploy jobs ran; builds of
  // `not_ready` are opened once the others have deployed (`after_others`)
  // or once pipeline 0 has finished.
  std::string RunFour(const std::string& mode, std::set<int> not_ready, bool after_others) {
    repo_.Write(".gitlab-ci.yml", kGatedDeploys);
    repo_.Commit("gated deploys");
    int64_t project = AddProject();
    std::vector<int64_t> pipelines;
    pipelines.push_back(Create(project, 0));
    EXPECT_TRUE(WaitJob(pipelines[0], "deploy", CiStatus::kRunning));
    auto set = store_->SetResourceGroupMode(project, "production", mode);
    EXPECT_TRUE(set.ok() && *set) << mode;
    for (int n = 1; n <= 3; ++n) {
      bool ready = !not_ready.count(n);
      pipelines.push_back(Create(project, n, ready));
      EXPECT_TRUE(WaitJob(pipelines[n], "deploy",
                          ready ? CiStatus::kWaitingForResource : CiStatus::kCreated))
          << n;
    }
    for (int n = 1; n <= 3; ++n) Open("deploy-" + std::to_string(n));
    Open("deploy-0");
    EXPECT_EQ(Ended(pipelines[0]), CiStatus::kSuccess);
    if (after_others) {
      for (int n = 1; n <= 3; ++n) {
        if (!not_ready.count(n)) {
          EXPECT_EQ(Ended(pipelines[n]), CiStatus::kSuccess);
        }
      }
    }
    for (int n : not_ready) Open("build-" + std::to_string(n));
    for (int64_t p : pipelines) EXPECT_EQ(Ended(p), CiStatus::kSuccess) << Order();
    return Order();
  }
};

TEST_P(ServiceResourceGroupsTest, DeployJobsOfTwoPipelinesNeverOverlap) {
  // The second pipeline's deploy job waits for the group the first holds,
  // as GitLab shows it (Queue), and is the group's upcoming job.
  std::vector<int64_t> pipelines = Queue(2);
  int64_t first = pipelines[0];
  int64_t second = pipelines[1];
  auto upcoming = store_->UpcomingResourceJobs(project_, "production");
  ASSERT_TRUE(upcoming.ok());
  ASSERT_EQ(upcoming->size(), 1u);
  EXPECT_EQ(upcoming->at(0).id, Jobs(second).at("deploy").id);
  // Its gate open, it would run (and fail on the lock) if it started now.
  Open("deploy-2");
  Open("deploy-1");
  EXPECT_EQ(Ended(first), CiStatus::kSuccess);
  EXPECT_EQ(Ended(second), CiStatus::kSuccess) << Log(Jobs(second).at("deploy").id);
  EXPECT_EQ(Order(), "1\n2\n");
  EXPECT_EQ(Jobs(second).at("deploy").resource_group, "production");
}

TEST_P(ServiceResourceGroupsTest, UnorderedGoesInTheOrderJobsAsked) {
  EXPECT_EQ(RunFour("unordered", {}, false), "0\n1\n2\n3\n");
}

TEST_P(ServiceResourceGroupsTest, NewestReadyFirstTakesTheNewestWaitingPipeline) {
  EXPECT_EQ(RunFour("newest_ready_first", {}, false), "0\n3\n2\n1\n");
}

// Pipeline 3's deploy job is not ready when the group frees: newest_ready
// first does not wait for it.
TEST_P(ServiceResourceGroupsTest, NewestReadyFirstSkipsJobsThatAreNotReady) {
  EXPECT_EQ(RunFour("newest_ready_first", {3}, true), "0\n2\n1\n3\n");
}

// newest_first waits for the newest pipeline's upcoming deploy job even
// while it is not ready (created), as GitLab's upcoming processables do.
TEST_P(ServiceResourceGroupsTest, NewestFirstWaitsForTheNewestPipeline) {
  EXPECT_EQ(RunFour("newest_first", {3}, false), "0\n3\n2\n1\n");
}

TEST_P(ServiceResourceGroupsTest, OldestFirstWaitsForTheOldestPipeline) {
  EXPECT_EQ(RunFour("oldest_first", {1}, false), "0\n1\n2\n3\n");
}

TEST_P(ServiceResourceGroupsTest, CancelingAWaitingJobHandsTheGroupOn) {
  std::vector<int64_t> pipelines = Queue(3);
  int64_t first = pipelines[0];
  int64_t second = pipelines[1];
  int64_t third = pipelines[2];
  auto canceled = service_->CancelJob(Jobs(second).at("deploy").id);
  ASSERT_TRUE(canceled.ok()) << canceled.status().message();
  EXPECT_EQ(canceled->status, CiStatus::kCanceled);
  Open("deploy-1");
  Open("deploy-3");
  EXPECT_EQ(Ended(first), CiStatus::kSuccess);
  EXPECT_EQ(Ended(third), CiStatus::kSuccess);
  EXPECT_EQ(Ended(second), CiStatus::kCanceled);
  EXPECT_EQ(Order(), "1\n3\n");
}

constexpr char kManualDeploy[] = R"yaml(
deploy:
  stage: deploy
  script: echo "deploying $CI_COMMIT_SHA"
  environment: production
  when: manual
)yaml";

class ServiceOutdatedDeploymentTest : public ServiceResourceGroupsTest {
 protected:
  // The job once it has finished, and its pipeline's worker let go.
  JobRecord Finished(int64_t job_id) {
    JobRecord last;
    bool done = WaitFor([&] {
      auto job = store_->GetJob(job_id);
      if (!job.ok() || !*job) return false;
      last = **job;
      return IsFinished(last.status);
    });
    EXPECT_TRUE(done) << "job " << job_id << " still " << CiStatusName(last.status);
    WaitDone(last.pipeline_id);
    return **store_->GetJob(job_id);
  }
  JobRecord Play(int64_t job_id) {
    auto played = service_->PlayJob(job_id);
    EXPECT_TRUE(played.ok()) << played.status().message();
    return Finished(job_id);
  }
  JobRecord RetryAndWait(int64_t job_id) {
    auto retried = service_->RetryJob(job_id);
    EXPECT_TRUE(retried.ok()) << retried.status().message();
    return retried.ok() ? Finished(retried->id) : JobRecord();
  }
};

TEST_P(ServiceOutdatedDeploymentTest, AnOlderPipelinesDeployJobFailsAfterANewerOneDeployed) {
  repo_.Write(".gitlab-ci.yml", kManualDeploy);
  repo_.Commit("first");
  int64_t project = AddProject();
  PipelineRecord old_one = RunPipeline(project);
  PipelineRecord old_two = RunPipeline(project);
  ASSERT_EQ(old_one.status, CiStatus::kSkipped);  // Only an optional manual job.
  repo_.Write("app.txt", "2\n");
  repo_.Commit("second");
  PipelineRecord newer = RunPipeline(project);
  EXPECT_EQ(Play(Jobs(newer.id).at("deploy").id).status, CiStatus::kSuccess);

  // The older pipeline's deploy job, played now, would deploy older code.
  JobRecord outdated = Play(Jobs(old_one.id).at("deploy").id);
  EXPECT_EQ(outdated.status, CiStatus::kFailed);
  EXPECT_EQ(outdated.failure_reason, kForwardDeploymentFailure);
  EXPECT_NE(Log(outdated.id).find(std::string("ERROR: Job failed: ") + kOutdatedDeploymentMessage),
            std::string::npos)
      << Log(outdated.id);
  EXPECT_EQ(Log(outdated.id).find("deploying"), std::string::npos);
  auto environment = store_->FindEnvironment(project, "production");
  ASSERT_TRUE(environment.ok() && *environment);
  auto last = store_->LastSuccessfulDeployment((*environment)->id);
  ASSERT_TRUE(last.ok() && *last);
  EXPECT_EQ((*last)->pipeline_id, newer.id);

  // A retry is a rollback, which GitLab allows by default...
  JobRecord rollback = RetryAndWait(outdated.id);
  EXPECT_EQ(rollback.status, CiStatus::kSuccess) << Log(rollback.id);
  // ... and refuses once the project says so.
  ASSERT_TRUE(store_->SetProjectDeploymentSafety(project, true, false).ok());
  repo_.Write("app.txt", "3\n");
  repo_.Commit("third");
  PipelineRecord newest = RunPipeline(project);
  EXPECT_EQ(Play(Jobs(newest.id).at("deploy").id).status, CiStatus::kSuccess);
  JobRecord refused = RetryAndWait(rollback.id);
  EXPECT_EQ(refused.status, CiStatus::kFailed);
  EXPECT_EQ(refused.failure_reason, kForwardDeploymentFailure);

  // With the check off, an outdated job deploys.
  ASSERT_TRUE(store_->SetProjectDeploymentSafety(project, false, false).ok());
  EXPECT_EQ(Play(Jobs(old_two.id).at("deploy").id).status, CiStatus::kSuccess);
}

SLIPWAY_STORE_TEST_SUITE(ServiceResourceGroupsTest);
SLIPWAY_STORE_TEST_SUITE(ServiceOutdatedDeploymentTest);

}  // namespace
}  // namespace slipway
