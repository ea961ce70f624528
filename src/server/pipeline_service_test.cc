// PipelineService end to end on real git repositories, real SQLite and real
// bash jobs. Tests wait for the service's worker threads by polling the
// store (the condition, not the time, decides; the bound only stops a hung
// test).
#include "server/pipeline_service.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "server/gitlab_json.h"
#include "store/store_test_backend.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs against SQLite and, when SLIPWAY_TEST_POSTGRES_URL is set, PostgreSQL
// (the store's clock is the fixture's fixed one; the service's is real).
class PipelineServiceTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string tmpl = (std::filesystem::temp_directory_path() / "slipway-service-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    work_dir_ = tmpl;
    data_dir_ = work_dir_ + "/data";
    OpenService();
  }
  void TearDown() override {
    service_.reset();
    std::error_code ec;
    if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_, ec);
    StoreTest::TearDown();
  }

  // A new service on a new connection to the same database (a restart).
  void OpenService(bool start = true) {
    service_.reset();
    Reopen();
    ServiceOptions options;
    options.data_dir = data_dir_;
    options.jobs_per_pipeline = 2;
    auto service = PipelineService::Create(store_.get(), &hub_, options);
    ASSERT_TRUE(service.ok()) << service.status().message();
    service_ = std::move(*service);
    if (start) {
      Status s = service_->Start();
      ASSERT_TRUE(s.ok()) << s.message();
    }
  }

  int64_t AddProject(const std::string& path = "group/app") {
    ProjectRecord p;
    p.name = "app";
    p.path_with_namespace = path;
    p.repo_url = repo_.dir();
    auto created = store_->CreateProject(p);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }

  PipelineRecord WaitDone(int64_t pipeline_id) {
    PipelineRecord last;
    bool done = WaitFor([&] {
      auto p = store_->GetPipeline(pipeline_id);
      if (!p.ok() || !*p) return false;
      last = **p;
      return !IsActive(last.status);
    });
    EXPECT_TRUE(done) << "pipeline " << pipeline_id << " still " << CiStatusName(last.status);
    // The worker may still be writing the last rows; wait until it let go.
    WaitFor([&] { return service_->Stats().running_pipelines == 0; });
    auto p = store_->GetPipeline(pipeline_id);
    return p.ok() && *p ? **p : last;
  }

  std::map<std::string, JobRecord> Jobs(int64_t pipeline_id, bool include_retried = false) {
    JobFilter filter;
    filter.pipeline_id = pipeline_id;
    filter.include_retried = include_retried;
    filter.per_page = 100;
    auto page = store_->ListJobs(filter);
    EXPECT_TRUE(page.ok());
    std::map<std::string, JobRecord> out;
    for (const JobRecord& j : page->items) {
      std::string key = j.name;
      if (include_retried) key += "#" + std::to_string(j.retry_count);
      out[key] = j;
    }
    return out;
  }

  std::string Log(int64_t job_id) {
    auto slice = store_->ReadLog(job_id, 0, 1 << 20);
    EXPECT_TRUE(slice.ok());
    return slice.ok() ? slice->bytes : "";
  }

  std::string work_dir_;  // Work directory: data dir, gates, marks.
  std::string data_dir_;
  TestRepo repo_;
  LogHub hub_;
  std::unique_ptr<PipelineService> service_;
};

TEST_P(PipelineServiceTest, PushPipelineRunsWithServerVariablesAndLiveLogs) {
  repo_.Write(".gitlab-ci.yml", R"(
build:
  script:
    - while [ ! -f "$GATE" ]; do sleep 0.02; done
    - echo "branch=$CI_COMMIT_BRANCH ref=$CI_COMMIT_REF_NAME source=$CI_PIPELINE_SOURCE"
    - echo "sha=$CI_COMMIT_SHA before=$CI_COMMIT_BEFORE_SHA"
    - echo "pipeline=$CI_PIPELINE_ID iid=$CI_PIPELINE_IID job=$CI_JOB_ID"
    - echo "project=$CI_PROJECT_ID path=$CI_PROJECT_PATH name=$CI_PROJECT_NAME default=$CI_DEFAULT_BRANCH"
    - echo "var=$FROM_REQUEST"
    - cat file.txt
  rules:
    - if: $CI_PIPELINE_SOURCE == "push"
api_only:
  script: exit 1
  rules:
    - if: $CI_PIPELINE_SOURCE == "api"
)");
  std::string first = repo_.Commit("first");
  repo_.Git({"checkout", "-q", "-b", "feature"});
  std::string second = repo_.Commit("second commit");
  repo_.Git({"checkout", "-q", "main"});
  repo_.Commit("moved on");  // main moves: the pipeline must run `second`.
  int64_t project = AddProject();

  std::string gate = work_dir_ + "/gate";
  CreatePipelineRequest request;
  request.project_id = project;
  request.ref = "feature";
  request.sha = second;
  request.before_sha = first;
  request.source = "push";
  request.variables = {{"FROM_REQUEST", "hello"}, {"GATE", gate}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->sha, second);
  EXPECT_EQ(created->source, "push");
  auto jobs = Jobs(created->id);
  ASSERT_EQ(jobs.size(), 1u);  // api_only is excluded by its rules.
  int64_t job_id = jobs.at("build").id;

  std::mutex mu;
  std::string live;
  int64_t first_offset = -1;
  bool finished = false;
  uint64_t handle = hub_.Subscribe(job_id, [&](int64_t offset, std::string_view bytes, bool done) {
    std::lock_guard<std::mutex> lock(mu);
    if (done) {
      finished = true;
      return;
    }
    if (first_offset < 0) first_offset = offset;
    EXPECT_EQ(offset, first_offset + static_cast<int64_t>(live.size()));
    live += bytes;
  });
  std::ofstream(gate) << "go";
  PipelineRecord done = WaitDone(created->id);
  hub_.Unsubscribe(handle);
  EXPECT_EQ(done.status, CiStatus::kSuccess);
  JobRecord job = Jobs(created->id).at("build");
  EXPECT_EQ(job.status, CiStatus::kSuccess);
  std::string log = Log(job_id);
  EXPECT_NE(log.find("branch=feature ref=feature source=push"), std::string::npos) << log;
  EXPECT_NE(log.find("sha=" + second + " before=" + first), std::string::npos) << log;
  EXPECT_NE(log.find("pipeline=" + std::to_string(created->id) + " iid=" +
                     std::to_string(created->iid) + " job=" + std::to_string(job_id)),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("project=" + std::to_string(project) + " path=group/app name=app default=main"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("var=hello"), std::string::npos) << log;
  EXPECT_NE(log.find("second commit"), std::string::npos) << log;
  // Live chunks join the stored log without gaps: what the hub delivered is
  // the stored log from the first chunk's offset on.
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(finished);
  ASSERT_GE(first_offset, 0);
  EXPECT_EQ(live, log.substr(first_offset));
}

TEST_P(PipelineServiceTest, ApiPipelineOnTheDefaultBranchAndTags) {
  repo_.Write(".gitlab-ci.yml", R"(
job:
  script: echo "tag=[$CI_COMMIT_TAG] branch=[$CI_COMMIT_BRANCH] source=$CI_PIPELINE_SOURCE"
)");
  std::string sha = repo_.Commit("one");
  repo_.Git({"tag", "v1.0"});
  int64_t project = AddProject();
  CreatePipelineRequest request;
  request.project_id = project;
  auto on_main = service_->CreatePipeline(request);
  ASSERT_TRUE(on_main.ok()) << on_main.status().message();
  EXPECT_EQ(on_main->ref, "main");
  EXPECT_EQ(on_main->sha, sha);
  request.ref = "v1.0";
  request.tag = true;
  auto on_tag = service_->CreatePipeline(request);
  ASSERT_TRUE(on_tag.ok()) << on_tag.status().message();
  EXPECT_TRUE(on_tag->tag);
  EXPECT_EQ(WaitDone(on_main->id).status, CiStatus::kSuccess);
  EXPECT_EQ(WaitDone(on_tag->id).status, CiStatus::kSuccess);
  EXPECT_NE(Log(Jobs(on_main->id).at("job").id).find("tag=[] branch=[main] source=api"),
            std::string::npos);
  EXPECT_NE(Log(Jobs(on_tag->id).at("job").id).find("tag=[v1.0] branch=[] source=api"),
            std::string::npos);

  request.ref = "nope";
  request.tag = false;
  auto unknown = service_->CreatePipeline(request);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown branch 'nope'");
  request.ref = "--upload-pack=touch /tmp/x";
  EXPECT_FALSE(service_->CreatePipeline(request).ok());
  // A push names its commit: the ref is still checked before anything runs
  // (it used to reach the pipeline and its jobs' variables unchecked).
  request.sha = sha;
  for (const char* bad : {"../../../x", "--upload-pack=touch /tmp/x", "a..b", "x.lock"}) {
    request.ref = bad;
    auto refused = service_->CreatePipeline(request);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().message().rfind("invalid branch name '", 0), 0u)
        << refused.status().message();
  }
  request.sha.clear();
  request.ref = "main";
  request.sha = "0123456789012345678901234567890123456789";
  auto missing = service_->CreatePipeline(request);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("is not in"), std::string::npos);
}

TEST_P(PipelineServiceTest, InvalidFileGivesAFailedPipelineWithTheLintErrors) {
  repo_.Write(".gitlab-ci.yml", "job:\n  script: [echo\n");
  repo_.Commit("broken");
  int64_t project = AddProject();
  CreatePipelineRequest request;
  request.project_id = project;
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->status, CiStatus::kFailed);
  EXPECT_TRUE(created->finished_at.has_value()) << created->started_at.has_value();
  EXPECT_NE(created->yaml_errors.find(".gitlab-ci.yml:"), std::string::npos) << created->yaml_errors;
  EXPECT_NE(created->yaml_errors.find("error"), std::string::npos) << created->yaml_errors;
  EXPECT_TRUE(Jobs(created->id).empty());
}

// The URL may carry credentials (https://user:token@host/…): the error a
// failed fetch gives (the API's 400, a job's log) shows them masked.
TEST_P(PipelineServiceTest, FetchErrorsShowNoCredentials) {
  ProjectRecord p;
  p.name = "app";
  p.path_with_namespace = "group/app";
  p.repo_url = "http://ci-bot:s3cret-token@127.0.0.1:1/app.git";  // Nothing listens there.
  auto project = store_->CreateProject(p);
  ASSERT_TRUE(project.ok()) << project.status().message();
  CreatePipelineRequest request;
  request.project_id = project->id;
  auto created = service_->CreatePipeline(request);
  ASSERT_FALSE(created.ok());
  std::string message = created.status().message();
  EXPECT_EQ(message.rfind("cannot fetch http://*****:*****@127.0.0.1:1/app.git: ", 0), 0u)
      << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
  request.sha = std::string(40, 'a');
  created = service_->CreatePipeline(request);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().message().find("s3cret"), std::string::npos)
      << created.status().message();
}

TEST_P(PipelineServiceTest, WorkflowRulesThatCreateNothingAreAnError) {
  repo_.Write(".gitlab-ci.yml", R"(
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
job:
  script: echo hi
)");
  repo_.Commit("only scheduled");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  auto created = service_->CreatePipeline(request);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("no pipeline"), std::string::npos);
}

TEST_P(PipelineServiceTest, CancelStopsALongJobAndLeavesNoProcess) {
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

TEST_P(PipelineServiceTest, CancelOneRunningJob) {
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

TEST_P(PipelineServiceTest, RetryAFailedJobAfterThePipelineFinished) {
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

TEST_P(PipelineServiceTest, RetryPipelineReRunsFailedJobsOnly) {
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
TEST_P(PipelineServiceTest, RetryProcessesTheWholeSkippedNeedsChainAgain) {
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
TEST_P(PipelineServiceTest, PlayProcessesTheSkippedDependentsOfAnOptionalManualJob) {
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

TEST_P(PipelineServiceTest, PlayABlockingManualJob) {
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
  EXPECT_FALSE(service_->ArtifactsDir(jobs.at("build").id).empty());
  EXPECT_TRUE(std::filesystem::exists(service_->ArtifactsDir(jobs.at("build").id) + "/built.txt"));
  EXPECT_TRUE(service_->ArtifactsDir(jobs.at("after").id).empty());
}

// A job that fails with one of its allow_failure:exit_codes is a warning, in
// the first run and in a run resumed from stored outcomes (the play below).
TEST_P(PipelineServiceTest, AllowFailureExitCodesMakeAWarningAlsoAfterAResume) {
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

TEST_P(PipelineServiceTest, PlayAnOptionalManualJobWhileThePipelineRuns) {
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

TEST_P(PipelineServiceTest, CrashRecoveryContinuesPipelinesAndRetriesWhatRetryAllows) {
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

TEST_P(PipelineServiceTest, StopLeavesRunningJobsToTheNextStartLikeACrash) {
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

SLIPWAY_STORE_TEST_SUITE(PipelineServiceTest);

}  // namespace
}  // namespace slipway
