// End-to-end cases for `slipway run`, one small repository each: the real
// binary, real git and bash. Each case states the pipeline, the command line,
// the expected exit code, every job's status in the JSON report and text the
// job logs must contain. The expectations are GitLab's documented behaviour.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "util/test_dir.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

struct RunCase {
  const char* name;
  std::map<std::string, std::string> files;  // Path -> content; .gitlab-ci.yml included.
  std::vector<std::string> args;             // After `slipway run`.
  int exit_code;
  std::map<std::string, std::string> statuses;  // Every job in the report.
  // Job -> text its log contains.
  std::vector<std::pair<std::string, std::string>> logs = {};
  // Extra report checks: job -> (field, JSON value).
  std::vector<std::pair<std::string, std::pair<std::string, nlohmann::json>>> fields = {};
};

// Test names instead of byte dumps in failure messages.
void PrintTo(const RunCase& c, std::ostream* os) { *os << c.name; }

// Runs the binary in dir; returns exit code and combined output.
std::pair<int, std::string> RunSlipway(const std::string& dir, std::vector<std::string> args) {
  std::string output_path = dir + ".out";
  args.insert(args.begin(), SLIPWAY_BINARY);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ::chdir(dir.c_str()) != 0) ::_exit(127);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string output = Slurp(output_path);
  fs::remove(output_path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

class RunCaseTest : public ::testing::TestWithParam<RunCase> {};

TEST_P(RunCaseTest, MatchesGitLab) {
  const RunCase& c = GetParam();
  TestRepo repo;
  for (const auto& [path, content] : c.files) repo.Write(path, content);
  repo.Git({"add", "-A"});
  repo.Git({"commit", "-q", "-m", "case"});
  // A host variable that must not leak into jobs.
  setenv("SLIPWAY_HOST_SECRET", "leaked", 1);
  std::vector<std::string> args = {"run", "--report", "report.json"};
  if (std::find(c.args.begin(), c.args.end(), "--jobs") == c.args.end()) {
    args.insert(args.end(), {"--jobs", "2"});
  }
  args.insert(args.end(), c.args.begin(), c.args.end());
  auto [exit_code, output] = RunSlipway(repo.dir(), args);
  unsetenv("SLIPWAY_HOST_SECRET");
  EXPECT_EQ(exit_code, c.exit_code) << output;
  fs::path report_path = fs::path(repo.dir()) / "report.json";
  if (c.statuses.empty()) {
    EXPECT_FALSE(fs::exists(report_path)) << output;
    return;
  }
  nlohmann::json report = nlohmann::json::parse(Slurp(report_path), nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << output;
  std::map<std::string, std::string> statuses;
  std::map<std::string, nlohmann::json> jobs;
  for (const nlohmann::json& j : report["jobs"]) {
    statuses[j["name"].get<std::string>()] = j["status"].get<std::string>();
    jobs[j["name"].get<std::string>()] = j;
  }
  EXPECT_EQ(statuses, c.statuses) << output;
  for (const auto& [job, text] : c.logs) {
    ASSERT_TRUE(jobs.count(job)) << job;
    ASSERT_TRUE(jobs[job]["log"].is_string()) << job << " has no log";
    std::string log = Slurp(fs::path(repo.dir()) / jobs[job]["log"].get<std::string>());
    EXPECT_NE(log.find(text), std::string::npos) << job << "'s log lacks '" << text << "':\n"
                                                 << log;
  }
  for (const auto& [job, field] : c.fields) {
    ASSERT_TRUE(jobs.count(job)) << job;
    EXPECT_EQ(jobs[job][field.first], field.second) << job << " " << field.first;
  }
}

const char* kCi = ".gitlab-ci.yml";

const RunCase kCases[] = {
    {"EmptyNeedsRunsDespiteEarlierFailure",
     {{kCi,
       "stages: [build, test, deploy]\n"
       "build: {stage: build, script: [exit 1]}\n"
       "test: {stage: test, script: [echo t]}\n"
       "early: {stage: deploy, needs: [], script: [echo early]}\n"}},
     {},
     1,
     {{"build", "failed"}, {"test", "skipped"}, {"early", "success"}}},
    {"FailedNeedSkipsOnlyItsDependents",
     {{kCi,
       "a: {stage: build, script: [exit 1]}\n"
       "b: {stage: build, script: [echo b]}\n"
       "after_a: {stage: test, needs: [a], script: [echo x]}\n"
       "after_b: {stage: test, needs: [b], script: [echo y]}\n"
       "rescue_a: {stage: test, needs: [a], when: on_failure, script: [echo rescue]}\n"}},
     {},
     1,
     {{"a", "failed"},
      {"b", "success"},
      {"after_a", "skipped"},
      {"after_b", "success"},
      {"rescue_a", "success"}},
     {{"rescue_a", "rescue"}}},
    {"AlwaysRunsAfterSuccessToo",
     {{kCi,
       "build: {stage: build, script: [echo b]}\n"
       "cleanup: {stage: deploy, when: always, script: [echo clean]}\n"
       "notify: {stage: deploy, when: on_failure, script: [echo n]}\n"}},
     {},
     0,
     {{"build", "success"}, {"cleanup", "success"}, {"notify", "skipped"}}},
    {"PreAndPostStages",
     {{kCi,
       "stages: [build]\n"
       "post: {stage: .post, script: [echo post]}\n"
       "build: {stage: build, script: [echo build]}\n"
       "pre: {stage: .pre, script: [echo pre]}\n"}},
     {"--jobs", "1"},
     0,
     {{"pre", "success"}, {"build", "success"}, {"post", "success"}}},
    {"FailureInPreSkipsEverythingButAlways",
     {{kCi,
       "pre: {stage: .pre, script: [exit 2]}\n"
       "build: {stage: build, script: [echo build]}\n"
       "post: {stage: .post, when: always, script: [echo post]}\n"}},
     {},
     1,
     {{"pre", "failed"}, {"build", "skipped"}, {"post", "success"}},
     {},
     {{"pre", {"exit_code", 2}}}},
    {"StageOfSkippedJobsLetsNextStageRun",
     {{kCi,
       "rescue: {stage: build, when: on_failure, script: [echo r]}\n"
       "test: {stage: test, script: [echo t]}\n"}},
     {},
     0,
     {{"rescue", "skipped"}, {"test", "success"}}},
    {"OptionalManualJobDoesNotBlock",
     {{kCi,
       "approve: {stage: build, when: manual, script: [echo a]}\n"
       "deploy: {stage: deploy, script: [echo d]}\n"}},
     {},
     0,
     {{"approve", "manual"}, {"deploy", "success"}},
     {},
     {{"approve", {"allow_failure", true}}}},
    {"BlockingManualFromRulesHoldsLaterStages",
     {{kCi,
       "approve:\n  stage: build\n  rules:\n    - when: manual\n  script: [echo a]\n"
       "deploy: {stage: deploy, script: [echo d]}\n"}},
     {},
     0,
     {{"approve", "manual"}, {"deploy", "created"}}},
    {"NeedsOnOptionalManualJobIsSkipped",
     {{kCi,
       "approve: {stage: build, when: manual, script: [echo a]}\n"
       "deploy: {stage: deploy, needs: [approve], script: [echo d]}\n"}},
     {},
     0,
     {{"approve", "manual"}, {"deploy", "skipped"}}},
    {"NamedManualJobRunsWithItsNeeds",
     {{kCi,
       "build: {stage: build, script: [echo b]}\n"
       "other: {stage: build, script: [echo o]}\n"
       "deploy: {stage: deploy, needs: [build], when: manual, script: [echo deploying]}\n"}},
     {"deploy"},
     0,
     {{"build", "success"}, {"deploy", "success"}},
     {{"deploy", "deploying"}}},
    {"NamedStageJobRunsEarlierStagesOnly",
     {{kCi,
       "build: {stage: build, script: [echo b]}\n"
       "test: {stage: test, script: [echo t]}\n"
       "lint: {stage: test, script: [echo l]}\n"
       "deploy: {stage: deploy, script: [echo d]}\n"}},
     {"test"},
     0,
     {{"build", "success"}, {"test", "success"}}},
    {"RetryGivesUpAfterMax",
     {{kCi, "flaky: {retry: 2, script: [exit 1]}\n"}},
     {},
     1,
     {{"flaky", "failed"}},
     {},
     {{"flaky", {"retries", 2}}}},
    {"RetryWhenOtherReasonDoesNotRetry",
     {{kCi, "job:\n  retry:\n    max: 2\n    when: [runner_system_failure]\n  script: [exit 1]\n"}},
     {},
     1,
     {{"job", "failed"}},
     {},
     {{"job", {"retries", 0}}}},
    {"RetryExitCodesMatch",
     {{kCi, "job:\n  retry:\n    max: 1\n    exit_codes: [137]\n  script: [exit 137]\n"}},
     {},
     1,
     {{"job", "failed"}},
     {},
     {{"job", {"retries", 1}}, {"job", {"exit_code", 137}}}},
    {"AllowFailureExitCodesNotMatchingFails",
     {{kCi,
       "job:\n  allow_failure:\n    exit_codes: [3]\n  script: [exit 4]\n"
       "next: {stage: deploy, script: [echo n]}\n"}},
     {},
     1,
     {{"job", "failed"}, {"next", "skipped"}},
     {},
     {{"job", {"allow_failure", false}}}},
    {"AllowedFailureLetsLaterStagesRun",
     {{kCi,
       "lint: {stage: build, allow_failure: true, script: [exit 1]}\n"
       "test: {stage: test, script: [echo t]}\n"
       "rescue: {stage: test, when: on_failure, script: [echo r]}\n"}},
     {},
     0,
     {{"lint", "failed"}, {"test", "success"}, {"rescue", "skipped"}}},
    {"BeforeAndAfterScriptWithJobStatus",
     {{kCi,
       "default:\n  before_script: [echo setup]\n"
       "  after_script: [echo \"status=$CI_JOB_STATUS\"]\n"
       "ok: {script: [echo main]}\n"
       "bad: {script: [exit 1]}\n"}},
     {},
     1,
     {{"ok", "success"}, {"bad", "failed"}},
     {{"ok", "setup"}, {"ok", "status=success"}, {"bad", "status=failed"}}},
    {"FailingAfterScriptKeepsSuccess",
     {{kCi, "job: {script: [echo main], after_script: [exit 5]}\n"}},
     {},
     0,
     {{"job", "success"}}},
    {"VariablesReferenceEachOther",
     {{kCi,
       "variables:\n  BASE: base\n"
       "job:\n  variables:\n    DERIVED: \"$BASE-derived\"\n"
       "  script: [echo \"value=$DERIVED\"]\n"}},
     {},
     0,
     {{"job", "success"}},
     {{"job", "value=base-derived"}}},
    {"CommandLineVariableBeatsRulesVariables",
     {{kCi,
       "job:\n  rules:\n    - variables: {LEVEL: rules}\n"
       "  script: [echo \"level=$LEVEL\"]\n"}},
     {"--variable", "LEVEL=cli"},
     0,
     {{"job", "success"}},
     {{"job", "level=cli"}}},
    {"HostEnvironmentDoesNotLeak",
     {{kCi, "job:\n  script:\n    - echo \"secret=${SLIPWAY_HOST_SECRET:-unset}\"\n"}},
     {},
     0,
     {{"job", "success"}},
     {{"job", "secret=unset"}}},
    {"PredefinedVariables",
     {{kCi, "job: {stage: test, script: [echo \"$CI_JOB_NAME/$CI_JOB_STAGE/$CI_PIPELINE_ID\"]}\n"}},
     {},
     0,
     {{"job", "success"}},
     {{"job", "job/test/1"}}},
    {"ParallelJobsGetNodeIndex",
     {{kCi, "test: {parallel: 3, script: [echo \"node=$CI_NODE_INDEX/$CI_NODE_TOTAL\"]}\n"}},
     {},
     0,
     {{"test 1/3", "success"}, {"test 2/3", "success"}, {"test 3/3", "success"}},
     {{"test 2/3", "node=2/3"}}},
    {"ParallelMatrixNames",
     {{kCi,
       "build:\n  parallel:\n    matrix:\n      - OS: [linux, mac]\n"
       "  script: [echo \"os=$OS\"]\n"}},
     {},
     0,
     {{"build: [linux]", "success"}, {"build: [mac]", "success"}},
     {{"build: [mac]", "os=mac"}}},
    {"DefaultTimeout",
     {{kCi, "default:\n  timeout: 1s\njob: {script: [sleep 30]}\n"}},
     {},
     1,
     {{"job", "failed"}},
     {},
     {{"job", {"failure_reason", "job_execution_timeout"}}}},
    {"DelayedJobAfterFailureIsSkipped",
     {{kCi,
       "build: {stage: build, script: [exit 1]}\n"
       "later: {stage: deploy, when: delayed, start_in: 1 minute, script: [echo l]}\n"}},
     {},
     1,
     {{"build", "failed"}, {"later", "skipped"}}},
    {"MultiLineScript",
     {{kCi,
       "job:\n  script:\n    - |\n      for i in 1 2 3; do\n        echo \"i=$i\"\n      done\n"}},
     {},
     0,
     {{"job", "success"}},
     {{"job", "i=3"}}},
    {"ExtendsHiddenJob",
     {{kCi,
       ".base: {stage: test, variables: {FROM: base}, script: [echo \"from=$FROM\"]}\n"
       "job: {extends: .base}\n"}},
     {},
     0,
     {{"job", "success"}},
     {{"job", "from=base"}}},
    {"IncludeLocal",
     {{kCi, "include: ci/jobs.yml\n"}, {"ci/jobs.yml", "included: {script: [echo inc]}\n"}},
     {},
     0,
     {{"included", "success"}},
     {{"included", "inc"}}},
    {"WorkflowRulesCreateNoPipeline",
     {{kCi, "workflow:\n  rules:\n    - when: never\njob: {script: [echo j]}\n"}},
     {},
     0,
     {}},
    {"YamlSyntaxErrorIsInvalid", {{kCi, "job: {script: [echo\n"}}, {}, 2, {}},
    {"ProjectFilesAreInTheWorkspace",
     {{kCi, "job: {script: [cat data/input.txt]}\n"}, {"data/input.txt", "payload-42\n"}},
     {},
     0,
     {{"job", "success"}},
     {{"job", "payload-42"}}},
    {"JobNameWithSpecialCharacters",
     {{kCi, "\"deploy: [eu/west]\": {script: [echo ok]}\n"}},
     {},
     0,
     {{"deploy: [eu/west]", "success"}},
     {{"deploy: [eu/west]", "ok"}},
     {{"deploy: [eu/west]", {"log", ".slipway/runs/1/jobs/deploy___eu_west_/log"}}}},
    {"ExitCodeOfLastCommandIsReported",
     {{kCi, "job: {script: [\"true\", \"sh -c 'exit 9'\"]}\n"}},
     {},
     1,
     {{"job", "failed"}},
     {},
     {{"job", {"exit_code", 9}}}},
    {"NeedsWithoutArtifactsRestoresNothing",
     {{kCi,
       "build: {stage: build, script: [echo built > out.txt], artifacts: {paths: [out.txt]}}\n"
       "test: {stage: test, needs: [{job: build, artifacts: false}], script: [test ! -e out.txt]}\n"
       "use: {stage: test, needs: [build], script: [cat out.txt]}\n"}},
     {},
     0,
     {{"build", "success"}, {"test", "success"}, {"use", "success"}},
     {{"use", "built"}}},
    {"EmptyDependenciesRestoreNothing",
     {{kCi,
       "build: {stage: build, script: [echo built > out.txt], artifacts: {paths: [out.txt]}}\n"
       "test: {stage: test, dependencies: [], script: [test ! -e out.txt]}\n"}},
     {},
     0,
     {{"build", "success"}, {"test", "success"}}},
    {"ArtifactsExcludeKeepsTheRest",
     {{kCi,
       "build: {stage: build, script: [mkdir -p dist, echo a > dist/a.txt, echo b > dist/b.log],"
       " artifacts: {paths: [dist/], exclude: [dist/*.log]}}\n"
       "test: {stage: test, script: [cat dist/a.txt, test ! -e dist/b.log]}\n"}},
     {},
     0,
     {{"build", "success"}, {"test", "success"}}},
    {"UntrackedArtifactsReachLaterStages",
     {{kCi,
       "build: {stage: build, script: [echo gen > generated.bin], artifacts: {untracked: true}}\n"
       "test: {stage: test, script: [cat generated.bin]}\n"}},
     {},
     0,
     {{"build", "success"}, {"test", "success"}},
     {{"test", "gen"}}},
    {"ArtifactsOnFailureReachTheRescueJob",
     {{kCi,
       "build: {stage: build, script: [echo why > report.txt, exit 3],"
       " artifacts: {when: on_failure, paths: [report.txt]}}\n"
       "rescue: {stage: test, when: on_failure, script: [cat report.txt]}\n"}},
     {},
     1,
     {{"build", "failed"}, {"rescue", "success"}},
     {{"rescue", "why"}}},
    {"FilesLeftByAJobDoNotLeakIntoTheNext",
     {{kCi,
       "a: {stage: build, script: [echo x > leftover.txt]}\n"
       "b: {stage: test, script: [test ! -e leftover.txt]}\n"}},
     {},
     0,
     {{"a", "success"}, {"b", "success"}}},
    {"CachePushedByOneJobIsPulledByTheNext",
     {{kCi,
       "fill: {stage: build, script: [mkdir -p .deps, echo cached > .deps/x],"
       " cache: {key: deps-$CI_COMMIT_REF_SLUG, paths: [.deps/], policy: push}}\n"
       "use: {stage: test, script: [cat .deps/x],"
       " cache: {key: deps-$CI_COMMIT_REF_SLUG, paths: [.deps/], policy: pull}}\n"}},
     {},
     0,
     {{"fill", "success"}, {"use", "success"}},
     {{"use", "cached"}}},
    {"RulesVariablesReachTheScript",
     {{kCi,
       "variables: {MODE: slow}\n"
       "job:\n"
       "  script: [echo mode=$MODE]\n"
       "  rules:\n"
       "    - if: $CI_COMMIT_BRANCH\n"
       "      variables: {MODE: fast}\n"}},
     {},
     0,
     {{"job", "success"}},
     {{"job", "mode=fast"}}},
    {"JobBeforeScriptReplacesTheDefault",
     {{kCi,
       "default: {before_script: [echo from-default]}\n"
       "a: {script: [echo a]}\n"
       "b: {before_script: [echo own-before], script: [echo b]}\n"}},
     {},
     0,
     {{"a", "success"}, {"b", "success"}},
     {{"a", "from-default"}, {"b", "own-before"}}},
};

INSTANTIATE_TEST_SUITE_P(Cases, RunCaseTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<RunCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace slipway
