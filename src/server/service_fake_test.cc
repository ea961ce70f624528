// PipelineService with a FakeExecutor and a FakeClock (ServiceOptions'
// executor_factory and clock): schedules, retries, cancels, delayed jobs and
// timeouts decided by time that moves only when the test moves it, so no
// test waits on the machine's clock. The repository, git and the store are
// real; the jobs' processes are not (pipeline_service_test.cc runs bash).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "exec/fake_executor.h"
#include "server/cron.h"
#include "server/pipeline_service.h"
#include "store/store_test_backend.h"
#include "util/clock.h"
#include "util/test_repo.h"
#include "util/test_wait.h"
#include "util/thread_annotations.h"

namespace slipway {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

// 2026-03-02T00:00:00Z: where the service's clock starts.
const Clock::WallTime kStart = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2};

int64_t UnixMs(Clock::WallTime t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// The service owns what the factory returns; the test keeps the fake.
class ForwardingExecutor : public Executor {
 public:
  explicit ForwardingExecutor(Executor* to) : to_(to) {}
  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel) override {
    return to_->Run(job, spec, host, log, cancel);
  }

 private:
  Executor* to_;
};

class FakeServiceTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string tmpl = (std::filesystem::temp_directory_path() / "slipway-fake-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    work_dir_ = tmpl;
    ServiceOptions options;
    options.data_dir = work_dir_ + "/data";
    options.jobs_per_pipeline = 2;
    options.clock = &service_clock_;
    options.executor_factory =
        [this](const ExecutorSetup& setup) -> StatusOr<std::unique_ptr<Executor>> {
      std::lock_guard<std::mutex> lock(setups_mu_);
      setups_.push_back(setup.project->path_with_namespace);
      return std::unique_ptr<Executor>(std::make_unique<ForwardingExecutor>(&executor_));
    };
    auto service = PipelineService::Create(store_.get(), &hub_, options);
    ASSERT_TRUE(service.ok()) << service.status().message();
    service_ = std::move(*service);
    Status started = service_->Start();
    ASSERT_TRUE(started.ok()) << started.message();
  }
  void TearDown() override {
    service_.reset();
    std::error_code ec;
    if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_, ec);
    StoreTest::TearDown();
  }

  int64_t AddProject(const std::string& ci_yaml, const std::string& executor = "shell") {
    repo_.Write(".gitlab-ci.yml", ci_yaml);
    repo_.Commit("ci");
    ProjectRecord p;
    p.name = "app";
    p.path_with_namespace = "group/app";
    p.repo_url = repo_.dir();
    p.executor = executor;
    auto created = store_->CreateProject(p);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }

  int64_t Create(int64_t project_id) {
    CreatePipelineRequest request;
    request.project_id = project_id;
    auto created = service_->CreatePipeline(request);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }

  PipelineRecord WaitDone(int64_t pipeline_id) {
    PipelineRecord last;
    EXPECT_TRUE(WaitFor([&] {
      auto p = store_->GetPipeline(pipeline_id);
      if (!p.ok() || !*p) return false;
      last = **p;
      return !IsActive(last.status) && service_->Stats().running_pipelines == 0;
    })) << "pipeline "
        << pipeline_id << " still " << CiStatusName(last.status);
    return last;
  }

  std::vector<JobRecord> Attempts(int64_t pipeline_id, const std::string& name) {
    JobFilter filter;
    filter.pipeline_id = pipeline_id;
    filter.include_retried = true;
    filter.per_page = 100;
    auto page = store_->ListJobs(filter);
    EXPECT_TRUE(page.ok());
    std::vector<JobRecord> out;
    if (!page.ok()) return out;
    for (const JobRecord& j : page->items) {
      if (j.name == name) out.push_back(j);
    }
    std::sort(out.begin(), out.end(),
              [](const JobRecord& a, const JobRecord& b) { return a.retry_count < b.retry_count; });
    return out;
  }

  std::string Log(int64_t job_id) {
    auto slice = store_->ReadLog(job_id, 0, 1 << 20);
    return slice.ok() ? slice->bytes : "";
  }

  std::string work_dir_;
  FakeClock service_clock_{kStart};
  FakeExecutor executor_;
  std::mutex setups_mu_;
  std::vector<std::string> setups_ GUARDED_BY(setups_mu_);
  TestRepo repo_;
  LogHub hub_;
  std::unique_ptr<PipelineService> service_;
};

TEST_P(FakeServiceTest, ScheduleFiresWhenTheClockReachesItsNextRun) {
  int64_t project = AddProject(R"(
nightly:
  script: make nightly
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
)");
  ScheduleRecord schedule;
  schedule.project_id = project;
  schedule.cron = "0 3 * * *";
  schedule.cron_timezone = "Europe/Berlin";  // UTC+1 in March.
  schedule.ref = "main";
  schedule.variables = {{"MODE", "full"}};
  StatusOr<int64_t> first = NextRun(schedule.cron, schedule.cron_timezone, UnixMs(kStart));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, UnixMs(kStart + std::chrono::hours(2)));
  schedule.next_run_at = *first;
  auto stored = store_->CreateSchedule(schedule);
  ASSERT_TRUE(stored.ok()) << stored.status().message();

  // Two hours pass at once; the timer sees them without a real second.
  service_clock_.Advance(std::chrono::hours(2));
  ScheduleRecord after;
  ASSERT_TRUE(WaitFor([&] {
    auto s = store_->GetSchedule(stored->id);
    if (!s.ok() || !*s) return false;
    after = **s;
    return after.last_pipeline_id.has_value();
  }));
  // The next run is counted from the service's clock, not the machine's.
  ASSERT_TRUE(after.next_run_at.has_value());
  EXPECT_EQ(*after.next_run_at, UnixMs(kStart + std::chrono::hours(26)));
  PipelineRecord pipeline = WaitDone(*after.last_pipeline_id);
  EXPECT_EQ(pipeline.source, "schedule");
  EXPECT_EQ(pipeline.status, CiStatus::kSuccess);
  std::vector<FakeExecutor::Call> calls = executor_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].job, "nightly");
  const VariableList& variables = calls[0].spec.variables;
  ASSERT_NE(variables.Get("CI_PIPELINE_SOURCE"), nullptr);
  EXPECT_EQ(*variables.Get("CI_PIPELINE_SOURCE"), "schedule");
  ASSERT_NE(variables.Get("MODE"), nullptr);
  EXPECT_EQ(*variables.Get("MODE"), "full");
}

TEST_P(FakeServiceTest, FailedAttemptIsRetriedAsRetryAllows) {
  int64_t project = AddProject(R"(
flaky:
  script: make test
  retry: 1
)");
  JobResult failed;
  failed.outcome = JobOutcome::kFailed;
  failed.exit_code = 1;
  failed.failure_reason = "script_failure";
  JobResult passed;
  passed.outcome = JobOutcome::kSuccess;
  executor_.Script("flaky", {failed, passed});
  PipelineRecord pipeline = WaitDone(Create(project));
  EXPECT_EQ(pipeline.status, CiStatus::kSuccess);
  std::vector<JobRecord> attempts = Attempts(pipeline.id, "flaky");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].status, CiStatus::kFailed);
  EXPECT_TRUE(attempts[0].retried);
  EXPECT_EQ(attempts[1].status, CiStatus::kSuccess);
  std::lock_guard<std::mutex> lock(setups_mu_);
  EXPECT_EQ(setups_, std::vector<std::string>{"group/app"});
}

TEST_P(FakeServiceTest, CancelReachesTheRunningJob) {
  int64_t project = AddProject(R"(
long:
  script: make forever
)");
  std::atomic<bool> running{false};
  executor_.SetHook([&](const Job&, const JobSpec&, const JobHost&,
                        const CancelToken& cancel) -> std::optional<JobResult> {
    running = true;
    // The fake job runs until it is canceled, as a real one would.
    EXPECT_TRUE(WaitFor([&] { return cancel.canceled(); }));
    JobResult r;
    r.outcome = JobOutcome::kCanceled;
    return r;
  });
  int64_t pipeline_id = Create(project);
  ASSERT_TRUE(WaitFor([&] { return running.load(); }));
  Status canceled = service_->CancelPipeline(pipeline_id);
  ASSERT_TRUE(canceled.ok()) << canceled.message();
  PipelineRecord pipeline = WaitDone(pipeline_id);
  EXPECT_EQ(pipeline.status, CiStatus::kCanceled);
  EXPECT_EQ(Attempts(pipeline_id, "long").at(0).status, CiStatus::kCanceled);
}

TEST_P(FakeServiceTest, DelayedJobStartsWhenTheClockSaysItsDelayIsOver) {
  int64_t project = AddProject(R"(
build:
  script: make
later:
  stage: deploy
  script: make deploy
  when: delayed
  start_in: 30 minutes
)");
  std::map<std::string, milliseconds> started_at;
  std::mutex mu;
  executor_.SetHook([&](const Job& job, const JobSpec&, const JobHost&,
                        const CancelToken&) -> std::optional<JobResult> {
    std::lock_guard<std::mutex> lock(mu);
    started_at[job.name] = service_clock_.Elapsed();
    return std::nullopt;
  });
  PipelineRecord pipeline = WaitDone(Create(project));
  EXPECT_EQ(pipeline.status, CiStatus::kSuccess);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(started_at.size(), 2u);
  EXPECT_EQ(started_at.at("build"), milliseconds(0));
  EXPECT_EQ(started_at.at("later") - started_at.at("build"), minutes(30));
}

TEST_P(FakeServiceTest, JobTimeoutFailsTheJobWithGitLabsReason) {
  int64_t project = AddProject(R"(
slow:
  script: make slow
  timeout: 10 minutes
)");
  executor_.SetHook([&](const Job&, const JobSpec& spec, const JobHost& host,
                        const CancelToken&) -> std::optional<JobResult> {
    // What a real executor does at the deadline it was given.
    EXPECT_EQ(spec.timeout, std::optional<milliseconds>(minutes(10)));
    service_clock_.Advance(spec.timeout.value_or(milliseconds(0)));
    JobResult r;
    r.outcome = JobOutcome::kFailed;
    r.exit_code = 143;
    r.failure_reason = "job_execution_timeout";
    return r;
  });
  PipelineRecord pipeline = WaitDone(Create(project));
  EXPECT_EQ(pipeline.status, CiStatus::kFailed);
  JobRecord slow = Attempts(pipeline.id, "slow").at(0);
  EXPECT_EQ(slow.status, CiStatus::kFailed);
  EXPECT_EQ(slow.failure_reason, "job_execution_timeout");
}

// With the server's default factory (ShellExecutorFactory), a project whose
// stored executor slipway lacks fails its pipeline with a clear message, and
// nothing runs.
TEST_P(FakeServiceTest, ProjectWithAnUnknownExecutorFailsItsJobsSaying) {
  service_.reset();
  ServiceOptions options;
  options.data_dir = work_dir_ + "/data";
  options.clock = &service_clock_;  // executor_factory empty: the shell one.
  auto service = PipelineService::Create(store_.get(), &hub_, options);
  ASSERT_TRUE(service.ok()) << service.status().message();
  service_ = std::move(*service);
  ASSERT_TRUE(service_->Start().ok());
  int64_t project = AddProject(R"(
build:
  script: touch ran
)",
                               "docker");
  PipelineRecord pipeline = WaitDone(Create(project));
  EXPECT_EQ(pipeline.status, CiStatus::kFailed);
  JobRecord build = Attempts(pipeline.id, "build").at(0);
  EXPECT_EQ(build.failure_reason, "runner_system_failure");
  EXPECT_NE(Log(build.id).find("project 'group/app': executor 'docker' is not supported: the "
                               "executors are 'shell', 'sandbox', 'slurm' and 'remote'"),
            std::string::npos)
      << Log(build.id);
}

// environment:auto_stop_in on the service's clock: nothing happens before
// the time, then the timer plays the on_stop job, the environment is
// stopping while it runs and stopped once it succeeds.
TEST_P(FakeServiceTest, AnEnvironmentStopsByItselfWhenItsAutoStopInPasses) {
  // The store stamps times with its own clock: the same time as the service's.
  clock_.Advance(std::chrono::duration_cast<milliseconds>(kStart - clock_.WallNow()));
  int64_t project = AddProject(R"(
deploy:
  script: deploy
  environment:
    name: review/app
    on_stop: stop
    auto_stop_in: 2 days
stop:
  script: teardown
  when: manual
  environment:
    name: review/app
    action: stop
)");
  PipelineRecord pipeline = WaitDone(Create(project));
  EXPECT_EQ(pipeline.status, CiStatus::kSuccess);
  auto environments = store_->ListEnvironments(project);
  ASSERT_TRUE(environments.ok() && environments->size() == 1u);
  EnvironmentRecord environment = environments->at(0);
  ASSERT_TRUE(environment.auto_stop_at.has_value());
  EXPECT_EQ(*environment.auto_stop_at, UnixMs(kStart + std::chrono::hours(48)));
  EXPECT_EQ(Attempts(pipeline.id, "stop").at(0).status, CiStatus::kManual);

  auto advance = [&](std::chrono::milliseconds by) {
    clock_.Advance(by);
    service_clock_.Advance(by);
  };
  advance(std::chrono::hours(47));
  // A schedule-free timer tick: nothing is due yet.
  EXPECT_EQ((*store_->GetEnvironment(environment.id))->state, "available");
  advance(std::chrono::hours(1) + milliseconds(1));
  ASSERT_TRUE(WaitFor([&] {
    auto e = store_->GetEnvironment(environment.id);
    return e.ok() && *e && (*e)->state == "stopped";
  })) << "still "
      << (*store_->GetEnvironment(environment.id))->state;
  EXPECT_EQ(Attempts(pipeline.id, "stop").back().status, CiStatus::kSuccess);
  EXPECT_FALSE((*store_->GetEnvironment(environment.id))->auto_stop_at.has_value());
  std::vector<std::string> ran;
  for (const FakeExecutor::Call& call : executor_.calls()) ran.push_back(call.job);
  EXPECT_EQ(ran, (std::vector<std::string>{"deploy", "stop"}));
}

// artifacts:expire_in on the service's clock: artifacts_expire_at is the
// job's end plus expire_in; once it has passed the cleaner removes the
// files and records of every pipeline but those GitLab keeps (the ref's
// latest and latest successful, stored_artifacts_test.cc), and keeps
// those. A job whose expiry was cleared by `keep` stays too.
TEST_P(FakeServiceTest, ExpiredArtifactsAreRemovedButTheRefsLatestAreKept) {
  clock_.Advance(std::chrono::duration_cast<milliseconds>(kStart - clock_.WallNow()));
  int64_t project = AddProject(R"(
build:
  script: make
  artifacts:
    paths: [out.txt]
    expire_in: 1 hour
kept:
  script: make
  artifacts:
    paths: [out.txt]
    expire_in: 1 hour
)");
  executor_.SetHook([&](const Job&, const JobSpec&, const JobHost& host,
                        const CancelToken&) -> std::optional<JobResult> {
    std::filesystem::create_directories(host.job_dir + "/artifacts");
    std::ofstream(host.job_dir + "/artifacts/out.txt") << "built";
    return std::nullopt;
  });
  auto advance = [&](milliseconds by) {
    clock_.Advance(by);
    service_clock_.Advance(by);
  };
  PipelineRecord first = WaitDone(Create(project));
  ASSERT_EQ(first.status, CiStatus::kSuccess);
  JobRecord old_build = Attempts(first.id, "build").at(0);
  JobRecord old_kept = Attempts(first.id, "kept").at(0);
  std::string old_dir = service_->ArtifactsDir(old_build.id);
  ASSERT_FALSE(old_dir.empty());
  auto artifacts = store_->ListArtifacts(old_build.id);
  ASSERT_TRUE(artifacts.ok() && artifacts->size() == 1u);
  EXPECT_EQ(artifacts->at(0).expire_at, UnixMs(kStart + std::chrono::hours(1)));
  ASSERT_TRUE(store_->SetArtifactsExpireAt(old_kept.id, std::nullopt).ok());

  advance(minutes(30));
  PipelineRecord second = WaitDone(Create(project));
  ASSERT_EQ(second.status, CiStatus::kSuccess);
  JobRecord new_build = Attempts(second.id, "build").at(0);
  std::string new_dir = service_->ArtifactsDir(new_build.id);
  ASSERT_FALSE(new_dir.empty());
  EXPECT_TRUE(std::filesystem::exists(old_dir + "/out.txt")) << "not expired yet";

  // Both pipelines' artifacts have expired; the cleaner looks at the newest
  // first, so by the time the first pipeline's are gone it has decided
  // about the second's.
  advance(std::chrono::hours(2));
  ASSERT_TRUE(WaitFor([&] { return store_->ListArtifacts(old_build.id)->empty(); }));
  EXPECT_FALSE(std::filesystem::exists(old_dir));
  EXPECT_EQ(service_->ArtifactsDir(old_build.id), "");
  EXPECT_TRUE(std::filesystem::exists(new_dir + "/out.txt")) << "the ref's latest are kept";
  EXPECT_EQ(store_->ListArtifacts(new_build.id)->size(), 1u);
  EXPECT_FALSE(service_->ArtifactsDir(old_kept.id).empty()) << "kept by request";
}

// POST /environments/:id/stop: with its stop job the environment is
// stopping until that job ends (a failed one leaves it available, as
// GitLab does); with force, or without a stop job, it is stopped at once.
TEST_P(FakeServiceTest, StoppingRunsTheStopJobUnlessForced) {
  int64_t project = AddProject(R"(
deploy:
  script: deploy
  environment:
    name: staging
    on_stop: stop
stop:
  script: teardown
  when: manual
  environment:
    name: staging
    action: stop
plain:
  script: deploy
  environment: qa
)");
  JobResult failed{JobOutcome::kFailed, 1, "script_failure"};
  executor_.Script("stop", {failed, JobResult{JobOutcome::kSuccess, 0, ""}});
  PipelineRecord pipeline = WaitDone(Create(project));
  auto staging = store_->FindEnvironment(project, "staging");
  auto qa = store_->FindEnvironment(project, "qa");
  ASSERT_TRUE(staging.ok() && *staging && qa.ok() && *qa);

  StatusOr<EnvironmentRecord> stopping = service_->StopEnvironment((*staging)->id, false);
  ASSERT_TRUE(stopping.ok()) << stopping.status().message();
  ASSERT_TRUE(
      WaitFor([&] { return Attempts(pipeline.id, "stop").at(0).status == CiStatus::kFailed; }));
  WaitDone(pipeline.id);
  EXPECT_EQ((*store_->GetEnvironment((*staging)->id))->state, "available")
      << "a failed stop job leaves the environment available";

  // Again: the finished stop job gets a new attempt, which succeeds.
  ASSERT_TRUE(service_->StopEnvironment((*staging)->id, false).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto e = store_->GetEnvironment((*staging)->id);
    return e.ok() && *e && (*e)->state == "stopped";
  }));
  EXPECT_EQ(Attempts(pipeline.id, "stop").size(), 2u);

  StatusOr<EnvironmentRecord> plain = service_->StopEnvironment((*qa)->id, false);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->state, "stopped") << "no stop job: stopped at once";

  // Deployed again, then forced: stopped without running the stop job.
  PipelineRecord again = WaitDone(Create(project));
  ASSERT_EQ((*store_->GetEnvironment((*staging)->id))->state, "available");
  StatusOr<EnvironmentRecord> forced = service_->StopEnvironment((*staging)->id, true);
  ASSERT_TRUE(forced.ok()) << forced.status().message();
  EXPECT_EQ(forced->state, "stopped");
  EXPECT_EQ(Attempts(again.id, "stop").at(0).status, CiStatus::kManual);
  EXPECT_FALSE(service_->StopEnvironment(424242, false).ok());
}

SLIPWAY_STORE_TEST_SUITE(FakeServiceTest);

}  // namespace
}  // namespace slipway
