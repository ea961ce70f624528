// End-to-end: the real `slipway run` binary on small git repositories, with
// real bash. Each case asserts job statuses from the JSON report, the exit
// code, and what the logs and the live output say.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "util/containment_test_util.h"
#include "exec/exec_test_util.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// A started `slipway` process whose output goes to a file.
class SlipwayProcess {
 public:
  // env: NAME=value set for it on top of this process's environment.
  SlipwayProcess(const std::string& dir, const std::vector<std::string>& args,
                 const std::vector<std::string>& env = {})
      : output_path_(dir + "/../" + fs::path(dir).filename().string() + ".out") {
    std::vector<std::string> argv_storage = {SLIPWAY_BINARY};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(output_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || ::chdir(dir.c_str()) != 0) ::_exit(127);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      // fd stays open too, without close-on-exec: a descriptor slipway
      // inherits and must not hand on to jobs.
      for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv;
      for (std::string& a : argv_storage) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~SlipwayProcess() { std::remove(output_path_.c_str()); }
  void Signal(int sig) { ::kill(pid_, sig); }
  // Waits for the process; returns its exit code (128 + signal if killed).
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string Output() const { return Slurp(output_path_); }

 private:
  std::string output_path_;
  pid_t pid_ = -1;
};

struct RunOutcome {
  int exit_code = -1;
  std::string output;
  nlohmann::json report;
  std::map<std::string, std::string> status;  // job name -> status
  const nlohmann::json& Job(const std::string& name) const {
    for (const nlohmann::json& j : report["jobs"]) {
      if (j["name"] == name) return j;
    }
    static const nlohmann::json kNone;
    ADD_FAILURE() << "no job '" << name << "' in the report";
    return kNone;
  }
};

class RunE2eTest : public ::testing::Test {
 protected:
  // Writes .gitlab-ci.yml and commits it with any other files.
  void Pipeline(const std::string& yaml) {
    repo_.Write(".gitlab-ci.yml", yaml);
    repo_.Git({"add", "-A"});
    repo_.Git({"commit", "-q", "-m", "pipeline"});
  }
  RunOutcome Run(std::vector<std::string> args = {}, const std::vector<std::string>& env = {}) {
    std::vector<std::string> full = {"run", "--report", "report.json", "--jobs", "2"};
    full.insert(full.end(), args.begin(), args.end());
    fs::remove(fs::path(repo_.dir()) / "report.json");
    SlipwayProcess process(repo_.dir(), full, env);
    RunOutcome out;
    out.exit_code = process.Wait();
    out.output = process.Output();
    fs::path report = fs::path(repo_.dir()) / "report.json";
    if (fs::exists(report)) {
      out.report = nlohmann::json::parse(Slurp(report), nullptr, false);
      for (const nlohmann::json& j : out.report["jobs"]) {
        out.status[j["name"].get<std::string>()] = j["status"].get<std::string>();
      }
    }
    return out;
  }
  std::string Log(const RunOutcome& out, const std::string& job) {
    const nlohmann::json& j = out.Job(job);
    if (!j.contains("log") || !j["log"].is_string()) return "";
    return Slurp(fs::path(repo_.dir()) / j["log"].get<std::string>());
  }
  // A path outside the repository for state that outlives a job workspace.
  std::string Scratch(const std::string& name) { return repo_.dir() + "-" + name; }

  TestRepo repo_;
};

using Statuses = std::map<std::string, std::string>;

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
      "build:\n  stage: build\n  script:\n    - echo built > out.txt\n    - echo VERSION=1.2 > build.env\n"
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
  EXPECT_THAT(Log(out, "c"), HasSubstr("Downloading artifacts from"));
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

// A trigger: job cannot start its downstream pipeline yet: the run must not
// report a success that did not happen (it used to: "success in 0.00 s").
TEST_F(RunE2eTest, TriggerJobFailsAndSaysWhy) {
  Pipeline(
      "build:\n  script: echo built\n"
      "child:\n  stage: deploy\n  trigger:\n    include: child.yml\n");
  RunOutcome out = Run();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"build", "success"}, {"child", "failed"}}));
  const nlohmann::json& child = out.Job("child");
  EXPECT_EQ(child["failure_reason"], "downstream_pipeline_creation_failed");
  EXPECT_EQ(child["failure_message"],
            "trigger: jobs (child and multi-project pipelines) are not supported yet");
  EXPECT_TRUE(child["exit_code"].is_null());
  EXPECT_EQ(Log(out, "child"),
            "ERROR: Job failed: trigger: jobs (child and multi-project pipelines) are not "
            "supported yet\n");
  // The summary shows the log's last lines, so the reason is on screen too.
  EXPECT_THAT(out.output, HasSubstr("--- child: last lines of .slipway/runs/1/jobs/child/log ---\n"
                                    "ERROR: Job failed: trigger: jobs (child and multi-project "
                                    "pipelines) are not supported yet\n"));
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

bool ProcessAlive(pid_t pid) {
  std::string stat = Slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Waits (bounded) for a process that is not our child to exit.
bool WaitGone(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return !ProcessAlive(pid);
  pollfd p{fd, POLLIN, 0};
  ::poll(&p, 1, 10000);
  ::close(fd);
  return !ProcessAlive(pid);
}

TEST_F(RunE2eTest, InterruptCancelsAndLeavesNoProcessBehind) {
  std::string fifo = Scratch("cancel-fifo");
  std::string pid_file = Scratch("pid");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Pipeline(
      "long:\n  stage: build\n  script:\n    - sleep 1000 &\n    - echo $! > $PIDFILE\n"
      "    - echo started > $FIFO\n    - wait\n"
      "after:\n  stage: test\n  script: echo never\n");
  fs::remove(fs::path(repo_.dir()) / "report.json");
  SlipwayProcess process(repo_.dir(), {"run", "--report", "report.json", "--variable",
                                       "FIFO=" + fifo, "--variable", "PIDFILE=" + pid_file});
  {
    std::ifstream sync(fifo);  // Blocks until the job has written its pid.
    std::string line;
    std::getline(sync, line);
    EXPECT_EQ(line, "started");
  }
  process.Signal(SIGINT);
  EXPECT_EQ(process.Wait(), 130) << process.Output();
  nlohmann::json report = nlohmann::json::parse(Slurp(fs::path(repo_.dir()) / "report.json"));
  EXPECT_EQ(report["status"], "canceled");
  EXPECT_EQ(report["jobs"][0]["status"], "canceled");
  EXPECT_EQ(report["jobs"][1]["status"], "canceled");
  pid_t sleeper = std::stoi(Slurp(pid_file));
  EXPECT_TRUE(WaitGone(sleeper)) << "pid " << sleeper << " survived";
  fs::remove(fifo);
  fs::remove(pid_file);
}

// A job sees 0, 1 and 2 only: not the descriptor slipway inherited from
// this test without close-on-exec (SlipwayProcess), nor any of its own.
TEST_F(RunE2eTest, JobSeesOnlyTheStandardDescriptors) {
  Pipeline("fds:\n  script: ls -l /proc/self/fd\n");
  RunOutcome out = Run();
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(UnexpectedDescriptors(Log(out, "fds")), ::testing::IsEmpty()) << Log(out, "fds");
}

// Runs a job's commands as one block scalar.
std::string ScriptBlock(const std::string& commands) {
  std::string block = "    - |\n";
  size_t start = 0;
  while (start < commands.size()) {
    size_t end = commands.find('\n', start);
    if (end == std::string::npos) end = commands.size();
    block += "      " + commands.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return block;
}

// Nothing a job starts outlives it, however the job ends, whether its
// processes are contained by a cgroup or (SLIPWAY_NO_CGROUP=1) by a reaper.
class RunContainmentTest : public RunE2eTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    if (!reaper() && DefaultContainment().kind != ContainmentKind::kCgroup) {
      GTEST_SKIP() << "no cgroup v2 here: " << DefaultContainment().Describe();
    }
    pids_ = Scratch("pids");
    fs::create_directories(pids_);
  }
  void TearDown() override { fs::remove_all(pids_); }
  bool reaper() const { return GetParam(); }
  std::vector<std::string> Env() const {
    return {reaper() ? "SLIPWAY_NO_CGROUP=1" : "SLIPWAY_NO_CGROUP=0"};
  }
  // A job that starts three escaping processes (pids in pids_/name), then
  // runs then.
  std::string EscapingJob(const std::string& name, const std::string& then,
                          const std::string& extra = "") {
    fs::create_directories(pids_ + "/" + name);
    return name + ":\n" + extra + "  script:\n" +
           ScriptBlock(EscapingCommands(pids_ + "/" + name)) + "    - " + then + "\n";
  }
  void ExpectAllGone(const std::string& name) {
    for (pid_t pid : EscapedPids(pids_ + "/" + name)) {
      EXPECT_FALSE(ProcessAlive(pid)) << name << ": pid " << pid << " outlived the job";
      if (ProcessAlive(pid)) kill(pid, SIGKILL);
    }
  }
  std::string pids_;
};

TEST_P(RunContainmentTest, NothingOutlivesSuccessFailureOrTimeout) {
  Pipeline(EscapingJob("succeeds", "echo done") + EscapingJob("fails", "exit 1") +
           EscapingJob("times_out", "sleep 1000", "  timeout: 3s\n"));
  RunOutcome out = Run({}, Env());
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"succeeds", "success"}, {"fails", "failed"},
                                  {"times_out", "failed"}}));
  EXPECT_EQ(out.Job("times_out")["failure_reason"], "job_execution_timeout");
  for (const char* name : {"succeeds", "fails", "times_out"}) ExpectAllGone(name);
}

TEST_P(RunContainmentTest, NothingOutlivesACancel) {
  std::string fifo = Scratch("containment-fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Pipeline(EscapingJob("canceled", "echo started > " + fifo + "; sleep 1000"));
  SlipwayProcess process(repo_.dir(), {"run", "--report", "report.json"}, Env());
  {
    std::ifstream sync(fifo);  // Blocks until the job's processes run.
    std::string line;
    std::getline(sync, line);
    EXPECT_EQ(line, "started");
  }
  process.Signal(SIGINT);
  EXPECT_EQ(process.Wait(), 130) << process.Output();
  ExpectAllGone("canceled");
  fs::remove(fifo);
}

INSTANTIATE_TEST_SUITE_P(Paths, RunContainmentTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Reaper" : "Cgroup"; });

// With a reaper, a job can kill it (it runs as the job's user); what the job
// started then comes to slipway, which kills it.
TEST_F(RunE2eTest, ProcessesOfAKilledReaperAreKilledBySlipway) {
  std::string pids = Scratch("reaper-pids");
  fs::create_directories(pids);
  Pipeline("kills_its_reaper:\n  script:\n"
           "    - setsid sleep 1000 & echo $! > " + pids + "/setsid.pid\n"
           "    - echo $$ > " + pids + "/shell.pid\n"
           "    - kill -9 $PPID\n"
           "    - sleep 1000\n");
  RunOutcome out = Run({}, {"SLIPWAY_NO_CGROUP=1"});
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"kills_its_reaper", "failed"}}));
  for (const char* kind : {"setsid", "shell"}) {
    pid_t pid = std::atoi(Slurp(pids + "/" + kind + ".pid").c_str());
    ASSERT_GT(pid, 1) << kind;
    EXPECT_FALSE(ProcessAlive(pid)) << kind << " pid " << pid << " survived";
    if (ProcessAlive(pid)) kill(pid, SIGKILL);
  }
  fs::remove_all(pids);
}

// A slipway killed with SIGKILL cannot end its jobs; their cgroups name it,
// and the next slipway kills what is in them.
TEST_F(RunE2eTest, JobsOfAKilledSlipwayAreKilledByTheNextOne) {
  if (DefaultContainment().kind != ContainmentKind::kCgroup) {
    GTEST_SKIP() << "no cgroup v2 here: " << DefaultContainment().Describe();
  }
  std::string fifo = Scratch("left-fifo");
  std::string pid_file = Scratch("left.pid");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Pipeline("long:\n  script:\n    - setsid sleep 1000 & echo $! > " + pid_file +
           "\n    - echo started > " + fifo + "\n    - sleep 1000\n"
           "quick:\n  script: echo quick\n");
  SlipwayProcess first(repo_.dir(), {"run", "long"}, {"SLIPWAY_NO_CGROUP=0"});
  {
    std::ifstream sync(fifo);
    std::string line;
    std::getline(sync, line);
  }
  first.Signal(SIGKILL);
  EXPECT_EQ(first.Wait(), 128 + SIGKILL);
  pid_t left = std::atoi(Slurp(pid_file).c_str());
  ASSERT_GT(left, 1);
  EXPECT_TRUE(ProcessAlive(left));
  RunOutcome second = Run({"quick"}, {"SLIPWAY_NO_CGROUP=0"});
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_THAT(second.output, HasSubstr("job processes left by a slipway that was killed"));
  EXPECT_FALSE(ProcessAlive(left));
  if (ProcessAlive(left)) kill(left, SIGKILL);
  fs::remove(fifo);
  fs::remove(pid_file);
}

// `--ref REV` runs REV as committed: its pipeline file and local includes,
// rules:exists and include:rules:exists over its files, its workspace, and
// CI_COMMIT_* describing it. The working tree's edits are ignored: here its
// pipeline file does not even parse.
class RunRefTest : public RunE2eTest {
 protected:
  void SetUp() override {
    const char* show =
        "show:\n  script:\n"
        "    - echo \"sha=$CI_COMMIT_SHA branch=$CI_COMMIT_BRANCH tag=$CI_COMMIT_TAG"
        " msg=$CI_COMMIT_MESSAGE\"\n"
        "    - cat version.txt\n";
    repo_.Write("ci/jobs.yml", show);
    repo_.Write("ci/extra.yml", "extra:\n  script: echo extra\n");
    repo_.Write("old.txt", "only in the first commit\n");
    repo_.Write(".gitlab-ci.yml",
                "include:\n  - local: ci/jobs.yml\n"
                "  - local: ci/extra.yml\n    rules:\n      - exists: [old.txt]\n"
                "old_only:\n  rules:\n    - exists: [old.txt]\n  script: echo old\n");
    first_ = repo_.Commit("first commit\n\nwith a body", "version.txt");
    repo_.Git({"tag", "-a", "-m", "release one", "v1.0"});
    fs::remove(fs::path(repo_.dir()) / "old.txt");
    repo_.Write(".gitlab-ci.yml",
                "include: ci/*.yml\n"
                "new_only:\n  rules:\n    - exists: [old.txt]\n      when: never\n    - when: "
                "on_success\n  script: echo new\n");
    second_ = repo_.Commit("second commit", "version.txt");
    repo_.Write(".gitlab-ci.yml", "uncommitted: [\n");
    repo_.Write("version.txt", "uncommitted");
  }
  std::string first_;
  std::string second_;
};

TEST_F(RunRefTest, TagRunsTheTaggedCommitAsATagPipeline) {
  RunOutcome out = Run({"--ref", "v1.0"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"show", "success"}, {"extra", "success"}, {"old_only", "success"}}));
  EXPECT_THAT(Log(out, "show"),
              HasSubstr("sha=" + first_ + " branch= tag=v1.0 msg=first commit\n\nwith a body\n"
                        "$ cat version.txt\nfirst commit\n\nwith a body\n"));
}

TEST_F(RunRefTest, BranchRunsItsTipAsABranchPipeline) {
  repo_.Git({"branch", "stable", first_});
  RunOutcome out = Run({"--ref", "main"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.status, (Statuses{{"extra", "success"}, {"show", "success"}, {"new_only", "success"}}));
  EXPECT_THAT(Log(out, "show"), HasSubstr("sha=" + second_ + " branch=main tag= msg=second commit\n"
                                          "$ cat version.txt\nsecond commit\n"));
  // A branch at the tagged commit: the branch wins over the tag at its tip.
  out = Run({"--ref", "stable"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "show"), HasSubstr("sha=" + first_ + " branch=stable tag= msg=first"));
}

TEST_F(RunRefTest, ShaWithoutRefUsesTheShortShaAsBranch) {
  repo_.Git({"checkout", "--", ".gitlab-ci.yml"});
  std::string third = repo_.Commit("third commit", "version.txt");
  repo_.Git({"reset", "-q", "--hard", second_});
  repo_.Write(".gitlab-ci.yml", "uncommitted: [\n");
  RunOutcome out = Run({"--ref", third});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "show"), HasSubstr("sha=" + third + " branch=" + third.substr(0, 8) +
                                          " tag= msg=third commit\n$ cat version.txt\nthird commit\n"));
}

TEST_F(RunRefTest, ErrorsNameTheRevisionAndPath) {
  repo_.Write(".gitlab-ci.yml", "include: ci/later.yml\n");  // Replaces the broken one.
  repo_.Write("ci/later.yml", "later:\n  script: echo later\n");
  repo_.Commit("include a file that is not committed", "version.txt");
  repo_.Git({"rm", "-q", "--cached", "ci/later.yml"});
  repo_.Git({"commit", "-q", "-m", "drop it"});
  RunOutcome out = Run({"--ref", "HEAD"});
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_THAT(out.output, HasSubstr("HEAD:.gitlab-ci.yml:1:10: error: Local file `HEAD:ci/later.yml` "
                                    "does not exist!"));
  out = Run({"--ref", "nope"});
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_THAT(out.output, HasSubstr("--ref nope: not a commit in ."));
}

TEST_F(RunRefTest, ListLintAndConfigReadTheRevisionToo) {
  {
    SlipwayProcess list(repo_.dir(), {"list", "--ref", "v1.0"});
    EXPECT_EQ(list.Wait(), 0) << list.Output();
    EXPECT_THAT(list.Output(), HasSubstr("\nold_only "));
    EXPECT_THAT(list.Output(), Not(HasSubstr("new_only")));
  }
  {
    SlipwayProcess lint(repo_.dir(), {"lint", "--ref", "main"});
    EXPECT_EQ(lint.Wait(), 0) << lint.Output();
    EXPECT_THAT(lint.Output(), HasSubstr("main:.gitlab-ci.yml:6:7: warning: job 'new_only'"));
    EXPECT_THAT(lint.Output(), HasSubstr("\nmain:.gitlab-ci.yml: valid: 3 jobs in 1 stages, "
                                         "1 warning (simulated for branch main)\n"));
  }
  {
    // The pipeline is simulated for what the revision is: here a tag.
    SlipwayProcess lint(repo_.dir(), {"lint", "--ref", "v1.0"});
    EXPECT_EQ(lint.Wait(), 0) << lint.Output();
    EXPECT_THAT(lint.Output(), HasSubstr("(simulated for tag v1.0)\n"));
  }
  {
    SlipwayProcess config(repo_.dir(), {"config", "--ref", "v1.0"});
    EXPECT_EQ(config.Wait(), 0) << config.Output();
    EXPECT_THAT(config.Output(), HasSubstr("old_only:\n"));
  }
}

}  // namespace
}  // namespace slipway
