// End-to-end: trigger: jobs in `slipway run` — child pipelines from local
// files and from a generating job's artifact, strategy: depend, variables
// and forward:, needs:pipeline, the depth limit, trigger:project with and
// without a mapped repository, needs:project (which needs the server),
// cancel, and how children show in the live output, the summary and the
// report. Real binary, real git, real bash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_e2e_test_util.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Statuses of a downstream pipeline's jobs in the report.
Statuses ChildStatuses(const nlohmann::json& downstream) {
  Statuses out;
  for (const nlohmann::json& j : downstream["jobs"]) {
    out[j["name"].get<std::string>()] = j["status"].get<std::string>();
  }
  return out;
}

const nlohmann::json& ChildJob(const nlohmann::json& downstream, const std::string& name) {
  for (const nlohmann::json& j : downstream["jobs"]) {
    if (j["name"] == name) return j;
  }
  static const nlohmann::json kNone;
  ADD_FAILURE() << "no job '" << name << "' in " << downstream.dump();
  return kNone;
}

class RunChildE2eTest : public RunE2eTest {
 protected:
  std::string ChildLog(const nlohmann::json& downstream, const std::string& job) {
    return Slurp(fs::path(repo_.dir()) / ChildJob(downstream, job)["log"].get<std::string>());
  }
};

TEST_F(RunChildE2eTest, LocalChildRunsNestedUnderItsTriggerJob) {
  repo_.Write("ci/child.yml",
              "stages: [one, two]\n"
              "first:\n  stage: one\n  script:\n"
              "    - echo \"source=$CI_PIPELINE_SOURCE id=$CI_PIPELINE_ID passed=$PASSED "
              "global=$GLOBAL\"\n"
              "second:\n  stage: two\n  script: echo second\n");
  Pipeline(
      "variables:\n  GLOBAL: from-parent\n"
      "build:\n  stage: build\n  script: echo built\n"
      "child:\n  stage: test\n  variables:\n    PASSED: $CI_PIPELINE_ID-x\n"
      "  trigger:\n    include: ci/child.yml\n    strategy: depend\n"
      "after:\n  stage: deploy\n  script: echo after\n");
  RunOutcome out = Run({"--color", "never"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status,
            (Statuses{{"build", "success"}, {"child", "success"}, {"after", "success"}}));
  const nlohmann::json& downstream = out.Job("child")["downstream_pipeline"];
  EXPECT_EQ(downstream["id"], 1001);
  EXPECT_EQ(downstream["kind"], "child");
  EXPECT_TRUE(downstream["project"].is_null());
  EXPECT_EQ(downstream["status"], "success");
  EXPECT_EQ(downstream["dir"], ".slipway/runs/1/jobs/child/child");
  EXPECT_EQ(ChildStatuses(downstream), (Statuses{{"first", "success"}, {"second", "success"}}));
  EXPECT_EQ(ChildJob(downstream, "first")["log"],
            ".slipway/runs/1/jobs/child/child/jobs/first/log");
  EXPECT_THAT(ChildLog(downstream, "first"),
              HasSubstr("source=parent_pipeline id=1001 passed=1-x global=from-parent\n"));
  // Jobs that are not trigger jobs have no downstream_pipeline key.
  EXPECT_FALSE(out.Job("build").contains("downstream_pipeline"));
  // Live output and summary show the child's jobs under the trigger job.
  EXPECT_THAT(out.output, HasSubstr("child > first | source=parent_pipeline"));
  EXPECT_THAT(out.output, HasSubstr("child > second > success in "));
  EXPECT_THAT(out.output, testing::ContainsRegex("\nchild > first +one +success +[0-9.]+ s\n"));
  EXPECT_THAT(Log(out, "child"), HasSubstr("Created child pipeline 1001 with 2 jobs"));
  EXPECT_THAT(Log(out, "child"), HasSubstr("Child pipeline 1001 success\n"));
  EXPECT_THAT(out.output, HasSubstr("pipeline success in "));
}

TEST_F(RunChildE2eTest, DependMirrorsAFailedChild) {
  repo_.Write("child.yml", "broken:\n  script: exit 7\n");
  Pipeline(
      "child:\n  trigger:\n    include: child.yml\n    strategy: depend\n"
      "later:\n  stage: deploy\n  script: echo never\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"child", "failed"}, {"later", "skipped"}}));
  const nlohmann::json& child = out.Job("child");
  EXPECT_EQ(child["failure_message"], "the downstream pipeline failed (strategy: depend)");
  EXPECT_EQ(child["downstream_pipeline"]["status"], "failed");
  EXPECT_EQ(ChildJob(child["downstream_pipeline"], "broken")["exit_code"], 7);
  // The failed child job's log tail is in the summary, named under its trigger.
  EXPECT_THAT(out.output, HasSubstr("--- child > broken: last lines of "
                                    ".slipway/runs/1/jobs/child/child/jobs/broken/log ---\n"));
}

// Without strategy: depend GitLab's trigger job succeeds once the child is
// created; the child's failure does not fail the parent.
TEST_F(RunChildE2eTest, WithoutDependTheTriggerSucceedsWhileTheChildFails) {
  repo_.Write("child.yml", "broken:\n  script: exit 7\n");
  Pipeline(
      "child:\n  trigger:\n    include:\n      - local: child.yml\n"
      "later:\n  stage: deploy\n  script: echo later\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"child", "success"}, {"later", "success"}}));
  // The run waited for the child before reporting it.
  EXPECT_EQ(out.Job("child")["downstream_pipeline"]["status"], "failed");
  EXPECT_EQ(ChildStatuses(out.Job("child")["downstream_pipeline"]),
            (Statuses{{"broken", "failed"}}));
}

// The dynamic child pipeline: a job writes the child's YAML and keeps it as
// an artifact; the trigger job's child is read from it.
TEST_F(RunChildE2eTest, DynamicChildFromAGeneratingJobsArtifact) {
  repo_.Write("common.yml", ".common:\n  variables:\n    FROM_COMMON: yes-common\n");
  Pipeline(
      "generate:\n  stage: build\n  script:\n"
      "    - |\n"
      "      for n in 1 2; do printf 'gen-%s:\\n  extends: .common\\n  script: echo "
      "generated-%s $FROM_COMMON\\n' $n $n; done > generated.yml\n"
      "      echo 'include: common.yml' >> generated.yml\n"
      "  artifacts:\n    paths: [generated.yml]\n"
      "run-generated:\n  stage: test\n  needs: [generate]\n"
      "  trigger:\n    include:\n      - artifact: generated.yml\n        job: generate\n"
      "    strategy: depend\n");
  RunOutcome out = Run();
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const nlohmann::json& downstream = out.Job("run-generated")["downstream_pipeline"];
  EXPECT_EQ(ChildStatuses(downstream), (Statuses{{"gen-1", "success"}, {"gen-2", "success"}}));
  EXPECT_THAT(ChildLog(downstream, "gen-2"), HasSubstr("generated-2 yes-common\n"));
}

// The artifact must come from a job whose artifacts the trigger job takes;
// an error in the generated YAML names the artifact's file:line:col.
TEST_F(RunChildE2eTest, DynamicChildErrorsNameTheirSource) {
  Pipeline(
      "generate:\n  stage: build\n  script:\n    - |\n      printf 'bad:\\n  script: [\\n' > "
      "gen.yml\n"
      "  artifacts:\n    paths: [gen.yml]\n"
      "from-bad-yaml:\n  stage: test\n"
      "  trigger:\n    include:\n      - artifact: gen.yml\n        job: generate\n"
      "from-no-job:\n  stage: test\n"
      "  trigger:\n    include:\n      - artifact: gen.yml\n        job: nobody\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  const nlohmann::json& bad = out.Job("from-bad-yaml");
  EXPECT_EQ(bad["status"], "failed");
  EXPECT_EQ(bad["failure_reason"], "downstream_pipeline_creation_failed");
  EXPECT_THAT(bad["failure_message"].get<std::string>(),
              HasSubstr("the child pipeline cannot be created: "
                        ".slipway/runs/1/jobs/generate/artifacts/gen.yml:3:1: error: "));
  EXPECT_EQ(out.Job("from-no-job")["failure_message"],
            "the child pipeline cannot be created: .gitlab-ci.yml:18:9: error: Job `nobody` not "
            "found in parent pipeline or does not "
            "have artifacts!");
}

// A generating job is untrusted: a link among its artifacts is not
// followed to read a child pipeline from outside them.
TEST_F(RunChildE2eTest, DynamicChildIsNotReadThroughALink) {
  std::string outside = Scratch("outside.yml");
  { std::ofstream(outside) << "leak:\n  script: echo leaked\n"; }
  Pipeline("generate:\n  stage: build\n  script:\n    - ln -s " + outside +
           " gen.yml\n"
           "  artifacts:\n    paths: [gen.yml]\n"
           "child:\n  stage: test\n  trigger:\n    include:\n"
           "      - artifact: gen.yml\n        job: generate\n    strategy: depend\n"
           "child-up:\n  stage: test\n  trigger:\n    include:\n"
           "      - artifact: ../../../../../../../../.." +
           outside + "\n        job: generate\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.status["child"], "failed");
  EXPECT_EQ(out.status["child-up"], "failed");
  EXPECT_THAT(out.output, Not(HasSubstr("leaked")));
  EXPECT_THAT(out.Job("child")["failure_message"].get<std::string>(),
              HasSubstr("Artifact `gen.yml` of job `generate` cannot be read"));
  EXPECT_THAT(out.Job("child-up")["failure_message"].get<std::string>(),
              HasSubstr("is not a path inside the artifacts"));
  fs::remove(outside);
}

// forward:yaml_variables (default true) and forward:pipeline_variables
// (default false): which variables reach the child.
TEST_F(RunChildE2eTest, ForwardDecidesWhichVariablesReachTheChild) {
  repo_.Write("child.yml",
              "show:\n  script: echo \"yaml=[$YAML_VAR] cli=[$CLI_VAR] global=[$GLOBAL]\"\n");
  Pipeline(
      "variables:\n  GLOBAL: g\n"
      "default-forward:\n  variables:\n    YAML_VAR: y\n"
      "  trigger:\n    include: child.yml\n    strategy: depend\n"
      "all-forward:\n  variables:\n    YAML_VAR: y\n"
      "  trigger:\n    include: child.yml\n    strategy: depend\n"
      "    forward:\n      pipeline_variables: true\n"
      "none-forward:\n  variables:\n    YAML_VAR: y\n"
      "  trigger:\n    include: child.yml\n    strategy: depend\n"
      "    forward:\n      yaml_variables: false\n");
  RunOutcome out = Run({"--variable", "CLI_VAR=c"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto shown = [&](const std::string& trigger) {
    return ChildLog(out.Job(trigger)["downstream_pipeline"], "show");
  };
  EXPECT_THAT(shown("default-forward"), HasSubstr("yaml=[y] cli=[] global=[g]\n"));
  EXPECT_THAT(shown("all-forward"), HasSubstr("yaml=[y] cli=[c] global=[g]\n"));
  EXPECT_THAT(shown("none-forward"), HasSubstr("yaml=[] cli=[] global=[]\n"));
}

// needs:pipeline: $PARENT_PIPELINE_ID with job: fetches a parent job's
// artifacts and dotenv variables (GitLab's documented pattern).
TEST_F(RunChildE2eTest, NeedsPipelineFetchesTheParentsArtifacts) {
  repo_.Write("child.yml",
              "use:\n  script:\n    - cat artifact.txt\n    - echo \"dotenv=[$BUILT]\"\n"
              "  needs:\n    - pipeline: $PARENT_PIPELINE_ID\n      job: build_artifacts\n");
  Pipeline(
      "build_artifacts:\n  stage: build\n  script:\n"
      "    - echo 'This is a test artifact!' > artifact.txt\n    - echo BUILT=v1 > build.env\n"
      "  artifacts:\n    paths: [artifact.txt]\n    reports:\n      dotenv: build.env\n"
      "deploy:\n  stage: deploy\n  trigger:\n    include:\n      - local: child.yml\n"
      "    strategy: depend\n  variables:\n    PARENT_PIPELINE_ID: $CI_PIPELINE_ID\n"
      "wrong-id:\n  stage: deploy\n  trigger:\n    include: child.yml\n"
      "  variables:\n    PARENT_PIPELINE_ID: '999'\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.status["deploy"], "success") << out.output;
  std::string log = ChildLog(out.Job("deploy")["downstream_pipeline"], "use");
  EXPECT_THAT(log, HasSubstr("This is a test artifact!\n"));
  EXPECT_THAT(log, HasSubstr("dotenv=[v1]\n"));
  EXPECT_EQ(out.status["wrong-id"], "failed");
  EXPECT_EQ(out.Job("wrong-id")["failure_message"],
            "the child pipeline cannot be created: job 'use' needs job 'build_artifacts' of "
            "pipeline '999', which is not a finished job the trigger job takes artifacts from "
            "in an upstream pipeline of this run");
}

// GitLab: two levels of child pipelines below the parent, no third.
TEST_F(RunChildE2eTest, ChildPipelinesNestTwoLevelsDeep) {
  repo_.Write("level1.yml",
              "one:\n  script: echo one\n"
              "to-two:\n  trigger:\n    include: level2.yml\n    strategy: depend\n");
  repo_.Write("level2.yml",
              "two:\n  script: echo two\n"
              "to-three:\n  trigger:\n    include: level3.yml\n    strategy: depend\n");
  repo_.Write("level3.yml", "three:\n  script: echo three\n");
  Pipeline("to-one:\n  trigger:\n    include: level1.yml\n    strategy: depend\n");
  RunOutcome out = Run({"--color", "never"});
  EXPECT_EQ(out.exit_code, 1) << out.output;
  const nlohmann::json& one = out.Job("to-one")["downstream_pipeline"];
  EXPECT_EQ(ChildStatuses(one), (Statuses{{"one", "success"}, {"to-two", "failed"}}));
  const nlohmann::json& two = ChildJob(one, "to-two")["downstream_pipeline"];
  EXPECT_EQ(ChildStatuses(two), (Statuses{{"two", "success"}, {"to-three", "failed"}}));
  const nlohmann::json& three = ChildJob(two, "to-three");
  EXPECT_EQ(three["failure_reason"], "reached_max_descendant_pipelines_depth");
  EXPECT_EQ(three["failure_message"],
            "You reached the maximum depth of child pipelines (2 levels of child pipelines "
            "below the pipeline started)");
  EXPECT_TRUE(three["downstream_pipeline"].is_null());
  EXPECT_EQ(two["dir"], ".slipway/runs/1/jobs/to-one/child/jobs/to-two/child");
  EXPECT_THAT(out.output, HasSubstr("to-one > to-two > two | two\n"));
}

// trigger:project runs the other project's pipeline only where its
// repository is mapped; otherwise the job fails and says how to map it.
TEST_F(RunChildE2eTest, TriggerProjectRunsAMappedRepository) {
  TestRepo other;
  other.Write(".gitlab-ci.yml",
              "downstream:\n  script: echo \"in other source=$CI_PIPELINE_SOURCE up=$UP\"\n");
  other.Git({"add", "-A"});
  other.Git({"commit", "-q", "-m", "other"});
  Pipeline(
      "deploy:\n  variables:\n    UP: from-upstream\n"
      "  trigger:\n    project: group/other\n    strategy: depend\n");
  RunOutcome unmapped = Run();
  EXPECT_EQ(unmapped.exit_code, 1) << unmapped.output;
  EXPECT_EQ(unmapped.status["deploy"], "failed");
  EXPECT_EQ(unmapped.Job("deploy")["failure_reason"], "downstream_pipeline_creation_failed");
  EXPECT_EQ(unmapped.Job("deploy")["failure_message"],
            "the downstream pipeline cannot be created: .gitlab-ci.yml:5:5: error: cannot run "
            "the pipeline of project `group/other`: its repository is not mapped (--project-dir "
            "group/other=PATH) and cannot be fetched: Project `group/other` not found or access "
            "denied! Make sure any includes in the pipeline configuration are correctly defined. "
            "(the project has no `origin` remote to find other projects by; give "
            "--include-server)");

  RunOutcome mapped = Run({"--project-dir", "group/other=" + other.dir()});
  ASSERT_EQ(mapped.exit_code, 0) << mapped.output;
  const nlohmann::json& downstream = mapped.Job("deploy")["downstream_pipeline"];
  EXPECT_EQ(downstream["kind"], "multi_project");
  EXPECT_EQ(downstream["project"], "group/other");
  EXPECT_THAT(ChildLog(downstream, "downstream"),
              HasSubstr("in other source=pipeline up=from-upstream\n"));

  // Not mapped, but where include:project finds projects: fetched with git.
  std::string server = Scratch("server");
  fs::create_directories(server + "/group");
  other.Git({"clone", "-q", "--bare", other.dir(), server + "/group/other.git"});
  std::string cache = Scratch("cache");
  RunOutcome fetched = Run({"--include-server", server}, {"XDG_CACHE_HOME=" + cache});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
  EXPECT_THAT(ChildLog(fetched.Job("deploy")["downstream_pipeline"], "downstream"),
              HasSubstr("in other source=pipeline up=from-upstream\n"));
  fs::remove_all(server);
  fs::remove_all(cache);
}

// trigger:include:project: the child's file comes from another project,
// fetched as include:project fetches; its local includes are that project's.
TEST_F(RunChildE2eTest, ChildFromAnotherProjectsFile) {
  TestRepo library;
  library.Write("ci/child.yml", "include: ci/common.yml\nlib-job:\n  extends: .common\n");
  library.Write("ci/common.yml", ".common:\n  script: echo from-library $CI_PIPELINE_SOURCE\n");
  library.Git({"add", "-A"});
  library.Git({"commit", "-q", "-m", "library"});
  std::string server = Scratch("server");
  fs::create_directories(server + "/group");
  library.Git({"clone", "-q", "--bare", library.dir(), server + "/group/library.git"});
  Pipeline(
      "child:\n  trigger:\n    include:\n      - project: group/library\n"
      "        ref: main\n        file: ci/child.yml\n    strategy: depend\n");
  std::string cache = Scratch("cache");
  RunOutcome out = Run({"--include-server", server}, {"XDG_CACHE_HOME=" + cache});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(ChildLog(out.Job("child")["downstream_pipeline"], "lib-job"),
              HasSubstr("from-library parent_pipeline\n"));
  fs::remove_all(server);
  fs::remove_all(cache);
}

// Ctrl-C while a child's job runs cancels the child and the parent.
TEST_F(RunChildE2eTest, InterruptCancelsTheChildPipeline) {
  // A FIFO per child: two writers of one FIFO may both write while the test
  // has it open once, and the second open would then wait for nothing.
  std::string fifo = Scratch("child-fifo");
  std::string pid_file = Scratch("child-pid");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((fifo + "-free").c_str(), 0600), 0);
  repo_.Write("child.yml",
              "long:\n  script:\n    - sleep 1000 &\n    - echo $! > $PIDFILE\n"
              "    - echo started > $FIFO\n    - wait\n");
  Pipeline(
      "child:\n  trigger:\n    include: child.yml\n    strategy: depend\n"
      "  variables:\n    FIFO: " +
      fifo + "\n    PIDFILE: " + pid_file +
      "\n"
      "free:\n  trigger:\n    include: child.yml\n"
      "  variables:\n    FIFO: " +
      fifo + "-free\n    PIDFILE: " + pid_file + "-free\n");
  SlipwayProcess process(repo_.dir(), {"run", "--report", "report.json"});
  for (const std::string& each : {fifo, fifo + "-free"}) {
    std::ifstream sync(each);  // Blocks until the child's job has written its pid.
    std::string line;
    std::getline(sync, line);
    EXPECT_EQ(line, "started");
  }
  process.Signal(SIGINT);
  EXPECT_EQ(process.Wait(), 130) << process.Output();
  nlohmann::json report = nlohmann::json::parse(Slurp(fs::path(repo_.dir()) / "report.json"));
  EXPECT_EQ(report["status"], "canceled");
  for (const nlohmann::json& job : report["jobs"]) {
    EXPECT_EQ(job["downstream_pipeline"]["status"], "canceled") << job.dump();
    EXPECT_EQ(ChildStatuses(job["downstream_pipeline"]), (Statuses{{"long", "canceled"}}));
  }
  for (const std::string& file : {pid_file, pid_file + "-free"}) {
    pid_t sleeper = std::stoi(Slurp(file));
    EXPECT_TRUE(WaitGone(sleeper)) << "pid " << sleeper << " survived";
    fs::remove(file);
  }
  fs::remove(fifo);
}

// needs:project reads other projects' pipelines, which only the server
// keeps: the job fails unrun and says so, rather than run without them.
TEST_F(RunChildE2eTest, NeedsProjectFailsTheJobSayingItNeedsTheServer) {
  Pipeline(
      "use:\n  needs:\n    - project: group/lib\n      job: build\n      ref: main\n"
      "      artifacts: true\n  script: echo ran-the-script\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"use", "failed"}}));
  const std::string why =
      ".gitlab-ci.yml:3:7: needs:project (job `build` of project `group/lib` at `main`) needs "
      "`slipway serve`: only the server keeps other projects' pipelines and their artifacts, so "
      "this job does not run without them";
  EXPECT_EQ(out.Job("use")["failure_reason"], "missing_dependency_failure");
  EXPECT_EQ(out.Job("use")["failure_message"], why);
  EXPECT_THAT(Log(out, "use"), HasSubstr("ERROR: Job failed: " + why + "\n"));
  EXPECT_THAT(Log(out, "use"), Not(HasSubstr("ran-the-script")));
}

}  // namespace
}  // namespace slipway
