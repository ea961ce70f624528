// PipelineService's actions on running and finished pipelines, end to end:
// cancel, retry, play, and what a restart after a crash or a stop continues
// (pipeline_service_test_util.h).
#include <gtest/gtest.h>
#include <signal.h>

#include "server/gitlab_json.h"
#include "server/pipeline_service_test_util.h"
#include "store/pipeline_leases.h"

namespace slipway {
namespace {

class PipelineServiceActionsTest : public PipelineServiceTest {};

TEST_P(PipelineServiceActionsTest, CancelStopsALongJobAndLeavesNoProcess) {
  repo_.Write(".gitlab-ci.yml", R"(
long:
  script:
    - sleep 300 &
    - echo $! > "$PIDFILE"
    - wait
later:
  stage: deploy
  script: echo never
)");
  repo_.Commit("long");
  std::string pidfile = work_dir_ + "/pid";
  CreatePipelineRequest request;
  request.project_id = AddProject();
  request.variables = {{"PIDFILE", pidfile}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ASSERT_TRUE(WaitFor([&] { return !ReadAll(pidfile).empty(); }));
  pid_t pid = std::stoi(ReadAll(pidfile));
  EXPECT_TRUE(ProcessAlive(pid));
  ASSERT_TRUE(service_->CancelPipeline(created->id).ok());
  PipelineRecord done = WaitDone(created->id);
  EXPECT_EQ(done.status, CiStatus::kCanceled);
  auto jobs = Jobs(created->id);
  EXPECT_EQ(jobs.at("long").status, CiStatus::kCanceled);
  EXPECT_EQ(jobs.at("later").status, CiStatus::kCanceled);
  EXPECT_FALSE(ProcessAlive(pid));
}

TEST_P(PipelineServiceActionsTest, CancelOneRunningJob) {
  repo_.Write(".gitlab-ci.yml", R"(
long:
  script:
    - echo started > "$STARTED"
    - sleep 300
quick:
  script: echo ok
)");
  repo_.Commit("two");
  std::string started = work_dir_ + "/started";
  CreatePipelineRequest request;
  request.project_id = AddProject();
  request.variables = {{"STARTED", started}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(WaitFor([&] { return !ReadAll(started).empty(); }));
  auto canceled = service_->CancelJob(Jobs(created->id).at("long").id);
  ASSERT_TRUE(canceled.ok()) << canceled.status().message();
  PipelineRecord done = WaitDone(created->id);
  auto jobs = Jobs(created->id);
  EXPECT_EQ(jobs.at("long").status, CiStatus::kCanceled);
  EXPECT_EQ(jobs.at("quick").status, CiStatus::kSuccess);
  EXPECT_EQ(done.status, CiStatus::kCanceled);
}

TEST_P(PipelineServiceActionsTest, RetryAFailedJobAfterThePipelineFinished) {
  repo_.Write(".gitlab-ci.yml", R"(
flaky:
  script:
    - if [ -f "$MARK" ]; then echo second try; else touch "$MARK"; echo first try; exit 3; fi
deploy:
  stage: deploy
  script: echo deployed
)");
  repo_.Commit("flaky");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  request.variables = {{"MARK", work_dir_ + "/mark"}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kFailed);
  auto jobs = Jobs(created->id);
  EXPECT_EQ(jobs.at("flaky").status, CiStatus::kFailed);
  EXPECT_EQ(jobs.at("flaky").exit_code, 3);
  EXPECT_EQ(jobs.at("deploy").status, CiStatus::kSkipped);

  auto retried = service_->RetryJob(jobs.at("flaky").id);
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  EXPECT_NE(retried->id, jobs.at("flaky").id);
  EXPECT_EQ(retried->retry_count, 1);
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kSuccess);
  auto all = Jobs(created->id, /*include_retried=*/true);
  EXPECT_TRUE(all.at("flaky#0").retried);
  EXPECT_EQ(all.at("flaky#1").status, CiStatus::kSuccess);
  EXPECT_EQ(all.at("deploy#0").status, CiStatus::kSuccess);  // Skipped, then processed again.
  EXPECT_NE(Log(all.at("flaky#0").id).find("first try"), std::string::npos);
  EXPECT_NE(Log(all.at("flaky#1").id).find("second try"), std::string::npos);
  EXPECT_EQ(Log(all.at("flaky#1").id).find("\nfirst try"), std::string::npos)
      << Log(all.at("flaky#1").id);

  // A job that is not the latest attempt cannot be retried again.
  EXPECT_FALSE(service_->RetryJob(all.at("flaky#0").id).ok());
  // Retrying the pipeline with nothing failed is refused.
  EXPECT_FALSE(service_->RetryPipeline(created->id).ok());
}

TEST_P(PipelineServiceActionsTest, RetryPipelineReRunsFailedJobsOnly) {
  repo_.Write(".gitlab-ci.yml", R"(
good:
  script: echo good >> "$COUNT"
flaky:
  script:
    - if [ -f "$MARK" ]; then exit 0; else touch "$MARK"; exit 1; fi
)");
  repo_.Commit("two jobs");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  request.variables = {{"MARK", work_dir_ + "/mark"}, {"COUNT", work_dir_ + "/count"}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kFailed);
  auto retried = service_->RetryPipeline(created->id);
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kSuccess);
  EXPECT_EQ(ReadAll(work_dir_ + "/count"), "good\n");  // good ran once.
}

// GitLab's ResetSkippedJobsService resets a retried job's dependents
// through needs transitively, not only those that need it directly.
TEST_P(PipelineServiceActionsTest, RetryProcessesTheWholeSkippedNeedsChainAgain) {
  repo_.Write(".gitlab-ci.yml", R"(
a:
  script:
    - if [ -f "$MARK" ]; then echo second try; else touch "$MARK"; exit 1; fi
b:
  needs: [a]
  script: echo b
c:
  needs: [b]
  script: echo c
)");
  repo_.Commit("chain");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  request.variables = {{"MARK", work_dir_ + "/mark"}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kFailed);
  auto jobs = Jobs(created->id);
  EXPECT_EQ(jobs.at("b").status, CiStatus::kSkipped);
  EXPECT_EQ(jobs.at("c").status, CiStatus::kSkipped);

  auto retried = service_->RetryJob(jobs.at("a").id);
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kSuccess);
  jobs = Jobs(created->id);
  EXPECT_EQ(jobs.at("a").status, CiStatus::kSuccess);
  EXPECT_EQ(jobs.at("b").status, CiStatus::kSuccess);
  EXPECT_EQ(jobs.at("c").status, CiStatus::kSuccess);  // Needs b, which needs a.
}

// Playing a job resets what waits for it, as GitLab's EnqueueJobService does:
// the dependents of an optional manual job were skipped while it was unplayed.
TEST_P(PipelineServiceActionsTest, PlayProcessesTheSkippedDependentsOfAnOptionalManualJob) {
  repo_.Write(".gitlab-ci.yml", R"(
approve:
  when: manual
  allow_failure: true
  script: echo approved
ship:
  needs: [approve]
  script: echo shipped
verify:
  needs: [ship]
  script: echo verified
)");
  repo_.Commit("optional manual");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok());
  WaitDone(created->id);
  auto jobs = Jobs(created->id);
  EXPECT_EQ(jobs.at("approve").status, CiStatus::kManual);
  EXPECT_EQ(jobs.at("ship").status, CiStatus::kSkipped);
  EXPECT_EQ(jobs.at("verify").status, CiStatus::kSkipped);

  auto played = service_->PlayJob(jobs.at("approve").id);
  ASSERT_TRUE(played.ok()) << played.status().message();
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kSuccess);
  jobs = Jobs(created->id);
  EXPECT_EQ(jobs.at("approve").status, CiStatus::kSuccess);
  EXPECT_EQ(jobs.at("ship").status, CiStatus::kSuccess);
  EXPECT_EQ(jobs.at("verify").status, CiStatus::kSuccess);
}

TEST_P(PipelineServiceActionsTest, PlayABlockingManualJob) {
  repo_.Write(".gitlab-ci.yml", R"(
build:
  stage: build
  script: echo built > built.txt
  artifacts:
    paths: [built.txt]
    reports:
      dotenv: build.env
  after_script: []
  before_script: [echo "VERSION=1.2" > build.env]
deploy:
  stage: deploy
  when: manual
  allow_failure: false
  script:
    - cat built.txt
    - echo "version=$VERSION"
after:
  stage: .post
  script: echo after
)");
  repo_.Commit("manual");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kManual);
  auto jobs = Jobs(created->id);
  EXPECT_EQ(jobs.at("build").status, CiStatus::kSuccess);
  EXPECT_EQ(jobs.at("deploy").status, CiStatus::kManual);
  EXPECT_EQ(jobs.at("after").status, CiStatus::kCreated) << Log(jobs.at("after").id);
  EXPECT_FALSE(service_->PlayJob(jobs.at("build").id).ok());

  auto played = service_->PlayJob(jobs.at("deploy").id);
  ASSERT_TRUE(played.ok()) << played.status().message();
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kSuccess);
  jobs = Jobs(created->id);
  EXPECT_EQ(jobs.at("deploy").status, CiStatus::kSuccess) << Log(jobs.at("deploy").id);
  EXPECT_EQ(jobs.at("after").status, CiStatus::kSuccess);
  // build was not run again; deploy got its artifacts and dotenv.
  std::string log = Log(jobs.at("deploy").id);
  EXPECT_NE(log.find("built"), std::string::npos) << log;
  EXPECT_NE(log.find("version=1.2"), std::string::npos) << log;
  // Found by the build job's id, through the store's artifact records.
  EXPECT_NE(
      log.find("Downloading artifacts for build (" + std::to_string(jobs.at("build").id) + ")..."),
      std::string::npos)
      << log;
  EXPECT_FALSE(service_->ArtifactsDir(jobs.at("build").id).empty());
  EXPECT_TRUE(std::filesystem::exists(service_->ArtifactsDir(jobs.at("build").id) + "/built.txt"));
  EXPECT_TRUE(service_->ArtifactsDir(jobs.at("after").id).empty());
}

// A job that fails with one of its allow_failure:exit_codes is a warning, in
// the first run and in a run resumed from stored outcomes (the play below).
TEST_P(PipelineServiceActionsTest, AllowFailureExitCodesMakeAWarningAlsoAfterAResume) {
  repo_.Write(".gitlab-ci.yml", R"(
check:
  script: exit $CODE
  allow_failure:
    exit_codes: [3]
deploy:
  stage: deploy
  when: manual
  allow_failure: false
  script: echo deployed
)");
  repo_.Commit("exit codes");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  request.variables = {{"CODE", "3"}};
  auto allowed = service_->CreatePipeline(request);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(WaitDone(allowed->id).status, CiStatus::kManual);
  auto jobs = Jobs(allowed->id);
  EXPECT_EQ(jobs.at("check").status, CiStatus::kFailed);
  EXPECT_EQ(jobs.at("check").exit_code, 3);
  EXPECT_TRUE(jobs.at("check").allow_failure);
  EXPECT_FALSE(jobs.at("deploy").allow_failure);
  ASSERT_TRUE(service_->PlayJob(jobs.at("deploy").id).ok());
  PipelineRecord done = WaitDone(allowed->id);
  EXPECT_EQ(done.status, CiStatus::kSuccess);
  jobs = Jobs(allowed->id);
  EXPECT_EQ(jobs.at("check").status, CiStatus::kFailed);
  EXPECT_EQ(jobs.at("deploy").status, CiStatus::kSuccess);
  auto project = store_->GetProject(request.project_id);
  ASSERT_TRUE(project.ok() && project->has_value());
  nlohmann::json json = JobJson(jobs.at("check"), done, **project, {}, "http://localhost");
  EXPECT_EQ(json["status"], "failed");
  EXPECT_EQ(json["allow_failure"], true);

  request.variables = {{"CODE", "4"}};
  auto refused = service_->CreatePipeline(request);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(WaitDone(refused->id).status, CiStatus::kFailed);
  jobs = Jobs(refused->id);
  EXPECT_EQ(jobs.at("check").exit_code, 4);
  EXPECT_FALSE(jobs.at("check").allow_failure);
  EXPECT_EQ(jobs.at("deploy").status, CiStatus::kSkipped);
}

TEST_P(PipelineServiceActionsTest, PlayAnOptionalManualJobWhileThePipelineRuns) {
  repo_.Write(".gitlab-ci.yml", R"(
wait:
  script:
    - while [ ! -f "$GATE" ]; do sleep 0.02; done
optional:
  when: manual
  script: echo played > "$GATE"
)");
  repo_.Commit("optional manual");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  request.variables = {{"GATE", work_dir_ + "/gate"}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok());
  int64_t optional_id = Jobs(created->id).at("optional").id;
  ASSERT_TRUE(WaitFor([&] {
    auto j = store_->GetJob(optional_id);
    return j.ok() && *j && (*j)->status == CiStatus::kManual;
  }));
  // `wait` runs until the manual job, played now, opens its gate.
  auto played = service_->PlayJob(optional_id);
  ASSERT_TRUE(played.ok()) << played.status().message();
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kSuccess);
  EXPECT_EQ(Jobs(created->id).at("optional").status, CiStatus::kSuccess);
}

TEST_P(PipelineServiceActionsTest, CrashRecoveryContinuesPipelinesAndRetriesWhatRetryAllows) {
  repo_.Write(".gitlab-ci.yml", R"(
a:
  script: echo a again
  retry:
    max: 1
    when: runner_system_failure
b:
  script: echo b again
c:
  stage: deploy
  script: echo c
  when: always
)");
  repo_.Commit("crash");
  int64_t project = AddProject();
  // A service that never starts its workers: pipelines stay queued, as in a
  // process killed before it ran them.
  OpenService(/*start=*/false);
  CreatePipelineRequest request;
  request.project_id = project;
  auto interrupted = service_->CreatePipeline(request);
  auto queued = service_->CreatePipeline(request);
  ASSERT_TRUE(interrupted.ok() && queued.ok());
  // A single server (SQLite) writes no owner per pipeline; servers sharing
  // PostgreSQL do, and another cannot take it (docs/replicas.md). The probe's
  // claim on SQLite is cleared by the recovery below.
  PipelineLeases* leases = LeasesOf(store_.get());
  StatusOr<bool> probed = leases->ClaimPipeline(queued->id, "probe", NowMs() + 60000);
  ASSERT_TRUE(probed.ok()) << probed.status().message();
  EXPECT_EQ(*probed, !leases->SharedByServers());
  // What a crash mid-job leaves: a and b running with part of their logs.
  for (const char* name : {"a", "b"}) {
    int64_t id = Jobs(interrupted->id).at(name).id;
    JobUpdate update;
    update.status = CiStatus::kPending;
    ASSERT_TRUE(store_->UpdateJob(id, update).ok());
    update.status = CiStatus::kRunning;
    ASSERT_TRUE(store_->UpdateJob(id, update).ok());
    ASSERT_TRUE(store_->AppendLog(id, std::string("before the crash ") + name + "\n").ok());
  }
  ASSERT_TRUE(store_->UpdatePipelineStatus(interrupted->id, CiStatus::kRunning).ok());

  OpenService(/*start=*/true);
  EXPECT_EQ(WaitDone(interrupted->id).status, CiStatus::kFailed);
  EXPECT_EQ(WaitDone(queued->id).status, CiStatus::kSuccess);
  auto all = Jobs(interrupted->id, /*include_retried=*/true);
  const JobRecord& a0 = all.at("a#0");
  EXPECT_EQ(a0.status, CiStatus::kFailed);
  EXPECT_EQ(a0.failure_reason, "runner_system_failure");
  EXPECT_TRUE(a0.retried);
  EXPECT_EQ(Log(a0.id).rfind("before the crash a\n", 0), 0u) << Log(a0.id);
  EXPECT_EQ(all.at("a#1").status, CiStatus::kSuccess);
  EXPECT_NE(Log(all.at("a#1").id).find("a again"), std::string::npos);
  const JobRecord& b0 = all.at("b#0");
  EXPECT_EQ(b0.status, CiStatus::kFailed);
  EXPECT_EQ(b0.failure_reason, "runner_system_failure");
  EXPECT_FALSE(b0.retried);
  EXPECT_EQ(all.count("b#1"), 0u);
  EXPECT_EQ(Log(b0.id).rfind("before the crash b\n", 0), 0u);
  EXPECT_EQ(all.at("c#0").status, CiStatus::kSuccess);
}

TEST_P(PipelineServiceActionsTest, StopLeavesRunningJobsToTheNextStartLikeACrash) {
  repo_.Write(".gitlab-ci.yml", R"(
long:
  script:
    - if [ -e "$MARK" ]; then echo resumed; else touch "$MARK"; sleep 300; fi
  retry:
    max: 1
    when: runner_system_failure
)");
  repo_.Commit("stop");
  std::string mark = work_dir_ + "/mark";
  CreatePipelineRequest request;
  request.project_id = AddProject();
  request.variables = {{"MARK", mark}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(mark); }));
  service_->Stop();
  auto stopped = Jobs(created->id);
  EXPECT_EQ(stopped.at("long").status, CiStatus::kRunning);  // Left as a crash leaves it.
  OpenService(/*start=*/true);
  EXPECT_EQ(WaitDone(created->id).status, CiStatus::kSuccess);
  auto all = Jobs(created->id, /*include_retried=*/true);
  EXPECT_EQ(all.at("long#0").status, CiStatus::kFailed);
  EXPECT_EQ(all.at("long#0").failure_reason, "runner_system_failure");
  EXPECT_EQ(all.at("long#1").status, CiStatus::kSuccess);
  EXPECT_NE(Log(all.at("long#1").id).find("\nresumed\n"), std::string::npos);
}

// Schedules: service_fake_test.cc, on a fake clock.

}  // namespace

SLIPWAY_STORE_TEST_SUITE(PipelineServiceActionsTest);

}  // namespace slipway
