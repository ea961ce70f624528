// End-to-end: the real `slipway run` binary on small git repositories, with
// real bash: what a pipeline does (stages, needs, when, retry, timeout,
// variables, artifacts, rules ...), asserted on job statuses from the JSON
// report, the exit code, and what the logs and the live output say.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_e2e_test_util.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(RunE2eTest, SingleJobSucceedsWithEchoedCommands) {
  Pipeline("hello:\n  script:\n    - echo hello world\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"hello", "success"}}));
  EXPECT_THAT(Log(out, "hello"), HasSubstr("$ echo hello world\nhello world\n"));
  EXPECT_THAT(out.output, HasSubstr("hello | hello world\n"));
  EXPECT_THAT(out.output, HasSubstr("pipeline success"));
  EXPECT_EQ(out.report["pipeline"]["id"], 1);
}

// Every run leaves its report and summary in its directory; `slipway runs`
// lists the runs and `slipway show` prints one again, or a job's log.
TEST_F(RunE2eTest, PastRunsAreListedAndShownAgain) {
  Pipeline("ok:\n  script: echo fine\nbad:\n  script:\n    - echo broken\n    - exit 4\n");
  ASSERT_EQ(Run().exit_code, 1);
  Pipeline("ok:\n  script: echo fine again\n");
  RunOutcome second = Run();
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_TRUE(fs::exists(repo_.dir() + "/.slipway/runs/2/report.json"));
  EXPECT_EQ(nlohmann::json::parse(Slurp(repo_.dir() + "/.slipway/runs/2/report.json")),
            second.report);

  auto slipway = [&](std::vector<std::string> args, int expected) {
    SlipwayProcess process(repo_.dir(), args);
    EXPECT_EQ(process.Wait(), expected) << process.Output();
    return process.Output();
  };
  std::string runs = slipway({"runs"}, 0);
  EXPECT_THAT(runs, testing::ContainsRegex("\n1 +20[0-9-]+T[0-9:.]+Z +failed +[0-9.]+ s +"
                                           "2 jobs: 1 success, 1 failed\n"));
  EXPECT_THAT(runs, testing::ContainsRegex("\n2 +20[^ ]+ +success +[0-9.]+ s +1 job: 1 success\n"));
  EXPECT_THAT(slipway({"show"}, 0), HasSubstr("run 2\n"));
  std::string first = slipway({"show", "1"}, 0);
  EXPECT_THAT(first, HasSubstr("pipeline failed"));
  EXPECT_THAT(first, HasSubstr("--- bad: last lines of .slipway/runs/1/jobs/bad/log ---"));
  EXPECT_THAT(slipway({"show", "1", "bad"}, 0), HasSubstr("$ exit 4\n"));
  EXPECT_THAT(slipway({"show", "3"}, 2), HasSubstr("error: no run '3'"));
  EXPECT_THAT(slipway({"show", "1", "nope"}, 2),
              HasSubstr("error: run 1 has no job 'nope'; its jobs:\n  ok\n  bad\n"));
  fs::remove(repo_.dir() + "/.slipway/runs/1/report.json");
  EXPECT_THAT(slipway({"runs"}, 0), HasSubstr("1     -                        unfinished"));
  EXPECT_THAT(slipway({"show", "1"}, 2), HasSubstr("error: run 1 has no report"));
}

TEST_F(RunE2eTest, FailingScriptFailsPipelineAndSkipsLaterStages) {
  Pipeline(
      "build:\n  stage: build\n  script:\n    - echo before\n    - exit 3\n    - echo never\n"
      "test:\n  stage: test\n  script: echo test\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"build", "failed"}, {"test", "skipped"}}));
  EXPECT_EQ(out.Job("build")["exit_code"], 3);
  EXPECT_EQ(out.Job("build")["failure_reason"], "script_failure");
  EXPECT_THAT(Log(out, "build"), Not(HasSubstr("never")));
  EXPECT_THAT(out.output, HasSubstr("--- build: last lines of .slipway/runs/1/jobs/build/log ---"));
}

TEST_F(RunE2eTest, PipefailAndErrexitAsGitLabRunner) {
  Pipeline(
      "pipe:\n  script:\n    - false | true\n"
      "andand:\n  script:\n    - false && true\n    - echo still here\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.status, (Statuses{{"pipe", "failed"}, {"andand", "success"}}));
  EXPECT_THAT(Log(out, "andand"), HasSubstr("still here"));
}

TEST_F(RunE2eTest, StagesRunInOrder) {
  Pipeline(
      "stages: [one, two, three]\n"
      "c:\n  stage: three\n  script: echo c\n"
      "a:\n  stage: one\n  script: echo a\n"
      "b:\n  stage: two\n  script: echo b\n");
  RunOutcome out = Run();
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_LE(out.Job("a")["finished_at"].get<std::string>(),
            out.Job("b")["started_at"].get<std::string>());
  EXPECT_LE(out.Job("b")["finished_at"].get<std::string>(),
            out.Job("c")["started_at"].get<std::string>());
  EXPECT_EQ(out.report["jobs"][0]["name"], "a");
}

TEST_F(RunE2eTest, NeedsStartsAcrossStagesBeforeTheSlowJobEnds) {
  std::string fifo = Scratch("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // `slow` blocks until `fast_test` (which only needs `fast`) writes to the FIFO.
  Pipeline(
      "stages: [build, test]\n"
      "fast:\n  stage: build\n  script: echo fast\n"
      "slow:\n  stage: build\n  script: read line < $FIFO && echo got $line\n"
      "fast_test:\n  stage: test\n  needs: [fast]\n  script: echo go > $FIFO\n");
  RunOutcome out = Run({"--variable", "FIFO=" + fifo});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "slow"), HasSubstr("got go"));
  fs::remove(fifo);
}

TEST_F(RunE2eTest, OnFailureAndAlwaysJobsRunAfterAFailure) {
  Pipeline(
      "build:\n  stage: build\n  script: exit 1\n"
      "test:\n  stage: test\n  script: echo test\n"
      "notify:\n  stage: test\n  when: on_failure\n  script: echo failed\n"
      "cleanup:\n  stage: deploy\n  when: always\n  script: echo cleanup\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.status, (Statuses{{"build", "failed"},
                                  {"test", "skipped"},
                                  {"notify", "success"},
                                  {"cleanup", "success"}}));
}

TEST_F(RunE2eTest, AllowFailureIsAWarning) {
  Pipeline(
      "lint:\n  stage: build\n  allow_failure: true\n  script: exit 1\n"
      "coded:\n  stage: build\n  allow_failure:\n    exit_codes: [42]\n  script: exit 42\n"
      "test:\n  stage: test\n  script: echo ok\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.report["status"], "success");
  EXPECT_EQ(out.status, (Statuses{{"lint", "failed"}, {"coded", "failed"}, {"test", "success"}}));
  EXPECT_EQ(out.Job("coded")["allow_failure"], true);
}

TEST_F(RunE2eTest, ManualJobsRunOnlyWhenNamed) {
  Pipeline(
      "build:\n  stage: build\n  script: echo build\n"
      "deploy:\n  stage: deploy\n  when: manual\n  script: echo deploying\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"build", "success"}, {"deploy", "manual"}}));
  out = Run({"deploy"});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"build", "success"}, {"deploy", "success"}}));
  EXPECT_EQ(out.report["pipeline"]["id"], 2);
}

TEST_F(RunE2eTest, NamedJobRunsWithWhatItNeedsOnly) {
  Pipeline(
      "a:\n  stage: build\n  script: echo a\n"
      "b:\n  stage: build\n  script: echo b\n"
      "c:\n  stage: test\n  needs: [a]\n  script: echo c\n");
  RunOutcome out = Run({"c"});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"a", "success"}, {"c", "success"}}));
}

TEST_F(RunE2eTest, UnknownJobIsAnError) {
  Pipeline("a:\n  script: echo a\n");
  RunOutcome out = Run({"nope"});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.output, HasSubstr("error: job 'nope' is not in the pipeline"));
}

TEST_F(RunE2eTest, InvalidPipelineExitsTwoWithLintErrors) {
  Pipeline("job:\n  script: echo\n  when: sometimes\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.output, HasSubstr(".gitlab-ci.yml:3:"));
  EXPECT_FALSE(fs::exists(fs::path(repo_.dir()) / "report.json"));
}

TEST_F(RunE2eTest, RetryRunsAgainUntilSuccess) {
  std::string marker = Scratch("marker");
  Pipeline(
      "flaky:\n  retry: 2\n  script:\n"
      "    - if [ ! -e $MARKER ]; then touch $MARKER; exit 1; fi\n"
      "    - echo second time lucky\n");
  RunOutcome out = Run({"--variable", "MARKER=" + marker});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"flaky", "success"}}));
  EXPECT_EQ(out.Job("flaky")["retries"], 1);
  EXPECT_THAT(Log(out, "flaky"), HasSubstr("second time lucky"));
  fs::remove(marker);
}

TEST_F(RunE2eTest, TimeoutFailsTheJob) {
  Pipeline("slow:\n  timeout: 1s\n  script: sleep 30\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.Job("slow")["failure_reason"], "job_execution_timeout");
  EXPECT_LT(out.Job("slow")["duration_s"].get<double>(), 20);
}

TEST_F(RunE2eTest, VariablePrecedenceUpToTheCommandLine) {
  Pipeline(
      "variables:\n  A: global\n  B: global\n  C: global\n"
      "job:\n  variables:\n    B: job\n    C: job\n"
      "  script: echo \"A=$A B=$B C=$C name=$CI_JOB_NAME\"\n");
  RunOutcome out = Run({"--variable", "C=cli"});
  EXPECT_THAT(Log(out, "job"), HasSubstr("A=global B=job C=cli name=job"));
}

TEST_F(RunE2eTest, ArtifactsAndDotenvReachLaterJobs) {
  Pipeline(
      "build:\n  stage: build\n  script:\n    - echo built > out.txt\n    - echo VERSION=1.2 > "
      "build.env\n"
      "  artifacts:\n    paths: [out.txt]\n    reports:\n      dotenv: build.env\n"
      "test:\n  stage: test\n  script:\n    - cat out.txt\n    - echo version $VERSION\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "test"), HasSubstr("built\n"));
  EXPECT_THAT(Log(out, "test"), HasSubstr("version 1.2\n"));
}

// Job a's artifacts (and cache) hold `d -> <victim>`, job b's `d/pwned.txt`.
// Restoring both into one workspace must replace the link by a directory,
// never create <victim>/pwned.txt (docs/artifacts.md, docs/cache-key.md).
TEST_F(RunE2eTest, RestoresNeverWriteThroughALinkAnEarlierJobLeft) {
  std::string victim = Scratch("victim");
  ASSERT_TRUE(fs::create_directory(victim));
  Pipeline(
      "stages: [build, test]\n"
      "a:\n  stage: build\n  script: ln -s $VICTIM d\n  artifacts:\n    paths: [d]\n"
      "  cache:\n    key: one\n    paths: [d]\n"
      "b:\n  stage: build\n  script: mkdir d && echo pwned > d/pwned.txt\n"
      "  artifacts:\n    paths: [d]\n  cache:\n    key: two\n    paths: [d]\n"
      "c:\n  stage: test\n  needs: [a, b]\n  script: ls\n"
      "caches:\n  stage: test\n  dependencies: []\n  script: ls\n  cache:\n"
      "    - {key: one, paths: [d], policy: pull}\n    - {key: two, paths: [d], policy: pull}\n");
  RunOutcome out = Run({"--variable", "VICTIM=" + victim});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "c"), HasSubstr("Downloading artifacts for b (2)..."));
  EXPECT_THAT(Log(out, "caches"),
              HasSubstr("Checking cache for two...\nSuccessfully extracted cache"));
  EXPECT_TRUE(fs::is_empty(victim));
  fs::remove_all(victim);
}

// A job that swaps its workspace for a link to other files (the server's
// data) gets none of them collected as artifacts.
TEST_F(RunE2eTest, AWorkspaceSwappedForALinkIsNotCollected) {
  std::string secret = Scratch("secret");
  ASSERT_TRUE(fs::create_directory(secret));
  std::ofstream(secret + "/db") << "s3cret\n";
  Pipeline(
      "swap:\n  script:\n    - cd / && mv \"$CI_PROJECT_DIR\" \"$CI_PROJECT_DIR.moved\"\n"
      "    - ln -s $SECRET \"$CI_PROJECT_DIR\"\n"
      "  artifacts:\n    untracked: true\n");
  RunOutcome out = Run({"--variable", "SECRET=" + secret});
  EXPECT_EQ(out.status, (Statuses{{"swap", "failed"}}));
  EXPECT_THAT(Log(out, "swap"),
              HasSubstr("is a symbolic link, not a directory: it is not followed"));
  EXPECT_FALSE(fs::exists(repo_.dir() + "/.slipway/runs/1/jobs/swap/artifacts/db"));
  fs::remove_all(secret);
}

TEST_F(RunE2eTest, ResourceGroupSerializesJobs) {
  std::string trace = Scratch("trace");
  Pipeline(
      "one:\n  resource_group: prod\n  script:\n    - echo start >> $TRACE\n    - sleep 0.3\n"
      "    - echo end >> $TRACE\n"
      "two:\n  resource_group: prod\n  script:\n    - echo start >> $TRACE\n    - sleep 0.3\n"
      "    - echo end >> $TRACE\n");
  RunOutcome out = Run({"--variable", "TRACE=" + trace});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(Slurp(trace), "start\nend\nstart\nend\n");
  fs::remove(trace);
}

TEST_F(RunE2eTest, DelayedJobWaitsForStartIn) {
  Pipeline(
      "build:\n  stage: build\n  script: echo build\n"
      "later:\n  stage: deploy\n  when: delayed\n  start_in: 1 second\n  script: echo later\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status["later"], "success");
  EXPECT_THAT(out.output, HasSubstr("later > delayed: starts in 1 second"));
  EXPECT_GE(out.report["pipeline"]["duration_s"].get<double>(), 1.0);
}

TEST_F(RunE2eTest, JobsExcludedByRulesAreAbsent) {
  Pipeline(
      "kept:\n  script: echo kept\n"
      "dropped:\n  rules:\n    - if: $NOPE == \"yes\"\n  script: echo dropped\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.status, (Statuses{{"kept", "success"}}));
}

TEST_F(RunE2eTest, WorkspaceIsCleanAndHasNoRunDirectory) {
  repo_.Write("tracked.txt", "tracked\n");
  Pipeline(
      "first:\n  stage: build\n  script:\n    - cat tracked.txt\n    - touch leftover\n"
      "second:\n  stage: test\n  script:\n    - test ! -e leftover\n    - test ! -e .slipway\n");
  repo_.Write("untracked.txt", "untracked\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"first", "success"}, {"second", "success"}}));
  EXPECT_EQ(Slurp(fs::path(repo_.dir()) / ".slipway/.gitignore").back(), '\n');
  EXPECT_EQ(repo_.Git({"status", "--porcelain", "--", ".slipway"}), "");
}

// The working tree's snapshot is made while the pipeline loads, so .slipway/
// exists before the pipeline is found invalid: it must be ignored by git then
// too.
TEST_F(RunE2eTest, InvalidPipelineLeavesNothingForGitToShow) {
  Pipeline(
      "build:\n  rules:\n    - if: $NOPE\n  script: echo build\n"
      "test:\n  needs: [build]\n  script: echo test\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_THAT(out.output, HasSubstr("'test' job needs 'build' job"));
  EXPECT_TRUE(fs::exists(fs::path(repo_.dir()) / ".slipway")) << "no snapshot was prefetched";
  EXPECT_EQ(repo_.Git({"status", "--porcelain"}), "");
}

// A trigger: job whose child pipeline cannot be created fails and says why:
// the run must not report a success that did not happen.
TEST_F(RunE2eTest, TriggerJobFailsAndSaysWhy) {
  Pipeline(
      "build:\n  script: echo built\n"
      "child:\n  stage: deploy\n  trigger:\n    include: child.yml\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"build", "success"}, {"child", "failed"}}));
  const nlohmann::json& child = out.Job("child");
  const std::string why =
      "the child pipeline cannot be created: .gitlab-ci.yml:6:14: error: Local file "
      "`child.yml` does not exist!";
  EXPECT_EQ(child["failure_reason"], "downstream_pipeline_creation_failed");
  EXPECT_EQ(child["failure_message"], why);
  EXPECT_TRUE(child["exit_code"].is_null());
  EXPECT_TRUE(child["downstream_pipeline"].is_null());
  EXPECT_THAT(Log(out, "child"), HasSubstr("ERROR: Job failed: " + why + "\n"));
  // The summary shows the log's last lines, so the reason is on screen too.
  EXPECT_THAT(out.output,
              HasSubstr("--- child: last lines of .slipway/runs/1/jobs/child/log ---\n"));
  EXPECT_THAT(out.output, HasSubstr("pipeline failed"));
}

// workflow:name, with a name that workflow:rules:variables fill in (the
// example of GitLab's docs), reaches the jobs, the report and the summary.
TEST_F(RunE2eTest, PipelineNameReachesJobsReportAndSummary) {
  Pipeline(
      "variables:\n  PROJECT1_PIPELINE_NAME: 'Default pipeline name'\n"
      "workflow:\n  name: '$PROJECT1_PIPELINE_NAME'\n  rules:\n"
      "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n"
      "      variables:\n        PROJECT1_PIPELINE_NAME: 'Main pipeline for $CI_COMMIT_BRANCH'\n"
      "    - when: always\n"
      "job:\n  script: echo \"name=[$CI_PIPELINE_NAME]\"\n");
  repo_.Git({"config", "init.defaultBranch", "main"});
  RunOutcome out = Run({"--variable", "CI_DEFAULT_BRANCH=main"});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "job"), HasSubstr("name=[Main pipeline for main]\n"));
  EXPECT_EQ(out.report["pipeline"]["name"], "Main pipeline for main");
  EXPECT_THAT(out.output, HasSubstr("\npipeline 'Main pipeline for main' success in "));

  Pipeline("job:\n  script: echo \"name=[$CI_PIPELINE_NAME]\"\n");
  out = Run();
  EXPECT_THAT(Log(out, "job"), HasSubstr("name=[]\n"));
  EXPECT_TRUE(out.report["pipeline"]["name"].is_null());
  EXPECT_THAT(out.output, HasSubstr("\npipeline success in "));
}

}  // namespace
}  // namespace slipway
