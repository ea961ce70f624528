// What jobs of the server's pipelines take from other pipelines, and what a
// trigger job takes from its downstream pipeline later, end to end on real
// git, bash and SQLite/PostgreSQL (docs/child-pipelines.md): needs:pipeline
// passes dotenv variables, needs:project reads the latest successful
// pipeline of another project's ref (or fails the job, saying why), and a
// strategy: depend trigger job follows its child pipeline when a job of it
// is retried.
#include <gtest/gtest.h>

#include "server/downstream_test_util.h"

namespace slipway {
namespace {

class DownstreamFollowTest : public DownstreamServiceTest {};

TEST_P(DownstreamFollowTest, NeedsPipelinePassesTheParentJobsDotenvVariables) {
  repo_.Write(".gitlab-ci.yml", R"(
build:
  stage: build
  script: echo "BUILD_VERSION=1.$CI_PIPELINE_ID" > build.env
  artifacts:
    reports:
      dotenv: build.env
child:
  stage: test
  variables:
    PARENT_PIPELINE_ID: $CI_PIPELINE_ID
  trigger:
    include: child.yml
    strategy: depend
)");
  repo_.Write("child.yml", R"(
test:
  needs:
    - pipeline: $PARENT_PIPELINE_ID
      job: build
  script: echo "version=$BUILD_VERSION"
)");
  repo_.Commit("dotenv to the child");
  PipelineRecord parent = Create(AddProject());
  EXPECT_EQ(WaitDone(parent.id).status, CiStatus::kSuccess);
  PipelineRecord child = Downstream(parent.id).at(0);
  std::string log = Log(Jobs(child.id).at("test").id);
  EXPECT_NE(log.find("version=1." + std::to_string(parent.id)), std::string::npos) << log;
}

// The library's pipeline: `build` leaves out.txt and a dotenv variable, both
// naming the pipeline; `check` fails when FAIL is set, so that a pipeline
// can fail after `build` succeeded.
void WriteLibrary(TestRepo* lib) {
  lib->Write(".gitlab-ci.yml", R"(
build:
  stage: build
  script:
    - echo "built by $CI_PIPELINE_ID" > out.txt
    - echo "LIB_VERSION=2.$CI_PIPELINE_ID" > lib.env
  artifacts:
    paths: [out.txt]
    reports:
      dotenv: lib.env
check:
  stage: test
  script: test -z "$FAIL"
)");
  lib->Commit("library");
}

TEST_P(DownstreamFollowTest, NeedsProjectTakesTheLatestSuccessfulPipelineOfTheRef) {
  TestRepo lib;
  WriteLibrary(&lib);
  int64_t lib_id = AddOtherProject("group/lib", lib);
  PipelineRecord good = Create(lib_id);
  ASSERT_EQ(WaitDone(good.id).status, CiStatus::kSuccess);
  // Newer, but failed: its `build` succeeded, yet GitLab reads the latest
  // successful pipeline.
  PipelineRecord bad = Create(lib_id, {{"FAIL", "1"}});
  ASSERT_EQ(WaitDone(bad.id).status, CiStatus::kFailed);
  ASSERT_EQ(Jobs(bad.id).at("build").status, CiStatus::kSuccess);

  repo_.Write(".gitlab-ci.yml", R"(
variables:
  LIB: group/lib
  BRANCH: main
use:
  needs:
    - project: $LIB
      job: build
      ref: $BRANCH
      artifacts: true
  script:
    - cat out.txt
    - echo "lib=$LIB_VERSION"
)");
  repo_.Commit("needs the library");
  PipelineRecord app = Create(AddProject());
  EXPECT_EQ(WaitDone(app.id).status, CiStatus::kSuccess) << Log(Jobs(app.id).at("use").id);
  std::string log = Log(Jobs(app.id).at("use").id);
  EXPECT_NE(log.find("built by " + std::to_string(good.id)), std::string::npos) << log;
  EXPECT_NE(log.find("lib=2." + std::to_string(good.id)), std::string::npos) << log;
  EXPECT_EQ(log.find("built by " + std::to_string(bad.id)), std::string::npos) << log;
}

TEST_P(DownstreamFollowTest, NeedsProjectWithoutItsArtifactsFailsTheJobUnrun) {
  TestRepo lib;
  WriteLibrary(&lib);
  AddOtherProject("group/lib", lib);         // No pipeline yet.
  AddOtherProject("elsewhere/secret", lib);  // Another top-level group.
  PipelineRecord other = Create(AddOtherProject("group/other", lib));
  ASSERT_EQ(WaitDone(other.id).status, CiStatus::kSuccess);
  repo_.Write(".gitlab-ci.yml", R"(
no-pipeline:
  needs: [{project: group/lib, job: build, ref: main, artifacts: true}]
  script: echo ran-the-script
other-group:
  needs: [{project: elsewhere/secret, job: build, ref: main, artifacts: true}]
  script: echo ran-the-script
no-such-job:
  needs: [{project: group/other, job: nope, ref: main, artifacts: true}]
  script: echo ran-the-script
unknown-project:
  needs: [{project: group/none, job: build, ref: main, artifacts: true}]
  script: echo ran-the-script
)");
  repo_.Commit("needs what is not there");
  PipelineRecord app = Create(AddProject());
  EXPECT_EQ(WaitDone(app.id).status, CiStatus::kFailed);
  auto jobs = Jobs(app.id);
  const std::map<std::string, std::string> why = {
      {"no-pipeline",
       ".gitlab-ci.yml:3:11: needs:project: job `build` of project `group/lib` at `main`: "
       "project `group/lib` has no successful pipeline for `main`"},
      {"other-group",
       ".gitlab-ci.yml:6:11: needs:project: job `build` of project `elsewhere/secret` at "
       "`main`: project `elsewhere/secret` not found or access denied (a pipeline may read the "
       "artifacts of the projects of its top-level group `group`)"},
      {"no-such-job",
       ".gitlab-ci.yml:9:11: needs:project: job `nope` of project `group/other` "
       "at `main`: the latest successful pipeline for `main` (" +
           std::to_string(other.id) + ") has no job `nope` with artifacts"},
      {"unknown-project",
       ".gitlab-ci.yml:12:11: needs:project: job `build` of project `group/none` at `main`: "
       "project `group/none` not found or access denied (a pipeline may read the artifacts of "
       "the projects of its top-level group `group`)"},
  };
  for (const auto& [name, message] : why) {
    SCOPED_TRACE(name);
    const JobRecord& job = jobs.at(name);
    EXPECT_EQ(job.status, CiStatus::kFailed);
    EXPECT_EQ(job.failure_reason, "missing_dependency_failure");
    std::string log = Log(job.id);
    EXPECT_NE(log.find("ERROR: Job failed: " + message + "\n"), std::string::npos) << log;
    EXPECT_EQ(log.find("ran-the-script"), std::string::npos) << log;
  }
}

// GitLab resets a dependent trigger job when a job of its downstream
// pipeline is retried, and the trigger job then takes the pipeline's new
// status (Pipeline#reset_source_bridge!, PipelineBridgeStatusService); a
// trigger job without strategy: depend keeps its own.
TEST_P(DownstreamFollowTest, DependTriggerJobFollowsItsRetriedChild) {
  WriteTwoTriggerJobs("GATE");
  repo_.Write("child.yml", R"(
flaky:
  script:
    - test -f "$GATE"
    - touch "$GATE-started"
    - while [ ! -f "$GATE-go" ]; do sleep 0.02; done
)");
  repo_.Commit("flaky child");
  std::string gate = work_dir_ + "/gate";
  PipelineRecord parent = Create(AddProject(), {{"GATE", gate}});
  ASSERT_EQ(WaitDone(parent.id).status, CiStatus::kFailed);
  std::vector<PipelineRecord> children = WaitDownstream(parent.id, 2);
  for (const PipelineRecord& c : children) ASSERT_EQ(WaitDone(c.id).status, CiStatus::kFailed);
  JobRecord waits = Jobs(parent.id).at("waits");
  ASSERT_EQ(waits.status, CiStatus::kFailed);
  EXPECT_EQ(Jobs(parent.id).at("detached").status, CiStatus::kSuccess);
  const PipelineRecord& child = children[0].upstream_job_id == waits.id ? children[0] : children[1];
  const PipelineRecord& other = children[0].upstream_job_id == waits.id ? children[1] : children[0];

  // The child of the trigger job without depend runs again, and fails
  // again: that trigger job is not its, and stays as it was.
  ASSERT_TRUE(service_->RetryJob(Jobs(other.id).at("flaky").id).ok());
  EXPECT_EQ(WaitDone(other.id).status, CiStatus::kFailed);
  EXPECT_EQ(Jobs(parent.id).at("detached").status, CiStatus::kSuccess);
  EXPECT_EQ(Jobs(parent.id).at("waits").status, CiStatus::kFailed);
  EXPECT_EQ(store_->GetPipeline(parent.id)->value().status, CiStatus::kFailed);

  std::ofstream(gate) << "open";
  auto retried = service_->RetryJob(Jobs(child.id).at("flaky").id);
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(gate + "-started"); }));
  // While the child runs again, so do its trigger job and the parent.
  EXPECT_EQ(Jobs(parent.id).at("waits").status, CiStatus::kRunning);
  EXPECT_EQ(store_->GetPipeline(parent.id)->value().status, CiStatus::kRunning);

  std::ofstream(gate + "-go") << "go";
  EXPECT_EQ(WaitDone(child.id).status, CiStatus::kSuccess);
  EXPECT_TRUE(WaitFor([&] { return Jobs(parent.id).at("waits").status == CiStatus::kSuccess; }))
      << Log(waits.id);
  EXPECT_EQ(WaitDone(parent.id).status, CiStatus::kSuccess);
  waits = Jobs(parent.id).at("waits");
  EXPECT_EQ(waits.failure_reason, "");
  EXPECT_NE(Log(waits.id).find("Downstream pipeline " + std::to_string(child.id) + " success"),
            std::string::npos)
      << Log(waits.id);
  EXPECT_EQ(Jobs(parent.id).at("detached").status, CiStatus::kSuccess);
}

SLIPWAY_STORE_TEST_SUITE(DownstreamFollowTest);

}  // namespace
}  // namespace slipway
