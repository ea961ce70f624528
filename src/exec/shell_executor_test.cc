#include "exec/shell_executor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "exec/artifacts.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

class RecordingSink : public LogSink {
 public:
  void Write(std::string_view job_name, std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    text_[std::string(job_name)].append(bytes);
    if (on_write_) on_write_(text_[std::string(job_name)]);
  }
  std::string Text(const std::string& job) {
    std::lock_guard<std::mutex> lock(mu_);
    return text_[job];
  }
  std::function<void(const std::string&)> on_write_;

 private:
  std::mutex mu_;
  std::map<std::string, std::string> text_;
};

class ShellExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Sh(tmp_.path(), R"(
      mkdir project && cd project && git init -q
      echo hello > greeting.txt && mkdir sub && touch sub/.keep && git add -A && git commit -qm init
    )"),
              0);
    ShellExecutor::Options options;
    options.kill_grace = std::chrono::milliseconds(500);
    executor_ = std::make_unique<ShellExecutor>(options);
  }

  Job MakeJob(std::vector<std::string> script) {
    Job job;
    job.name = "job";
    job.script = std::move(script);
    return job;
  }

  struct Attempt {
    JobSpec spec;
    JobHost host;
  };
  Attempt Context(const std::string& job_dir_name = "job") {
    Attempt context;
    context.spec.repository = tmp_.Sub("project");
    context.host.run_dir = tmp_.Sub("run");
    context.host.job_dir = tmp_.Sub("run/jobs/" + job_dir_name);
    context.host.cache_dir = tmp_.Sub("cache");
    context.host.artifacts = &artifacts_;
    return context;
  }

  JobResult Run(const Job& job, const Attempt& context) {
    return executor_->Run(job, context.spec, context.host, &sink_, cancel_);
  }
  JobResult Run(const Job& job) { return Run(job, Context()); }

  // The job's log without slipway's own header and footer lines.
  std::string Output() {
    std::string text = sink_.Text("job");
    std::string start = "Executing \"step_script\" stage of the job script\n";
    size_t at = text.find(start);
    return at == std::string::npos ? text : text.substr(at + start.size());
  }

  TempDir tmp_;
  JobDirArtifacts artifacts_;
  RecordingSink sink_;
  CancelToken cancel_;
  std::unique_ptr<ShellExecutor> executor_;
};

TEST_F(ShellExecutorTest, EchoesCommandsAndSucceeds) {
  JobResult r = Run(MakeJob({"echo one", "echo two"}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.failure_reason, "");
  EXPECT_EQ(Output(), "$ echo one\none\n$ echo two\ntwo\nJob succeeded\n");
}

TEST_F(ShellExecutorTest, StopsAtFirstFailingCommandWithItsExitCode) {
  JobResult r = Run(MakeJob({"echo a", "(exit 3)", "echo b"}));
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.failure_reason, "script_failure");
  EXPECT_EQ(Output(), "$ echo a\na\n$ (exit 3)\nERROR: Job failed: exit code 3\n");
}

TEST_F(ShellExecutorTest, PipefailAndErrexitAsGitLabRunner) {
  EXPECT_EQ(Run(MakeJob({"false | true"})).outcome, JobOutcome::kFailed);
  EXPECT_EQ(Run(MakeJob({"false && true", "echo after"})).outcome, JobOutcome::kSuccess);
  EXPECT_NE(sink_.Text("job").find("$ echo after\nafter\n"), std::string::npos);
}

TEST_F(ShellExecutorTest, BeforeScriptAndScriptShareOneShell) {
  Job job = MakeJob({"echo \"$X\"", "basename \"$PWD\""});
  job.before_script = {"export X=exported", "cd sub"};
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess);
  EXPECT_EQ(Output(),
            "$ export X=exported\n$ cd sub\n$ echo \"$X\"\nexported\n$ basename \"$PWD\"\nsub\n"
            "Job succeeded\n");
}

TEST_F(ShellExecutorTest, MultiLineCommandIsCollapsedInTheEcho) {
  JobResult r = Run(MakeJob({"echo first\necho second\n"}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess);
  EXPECT_EQ(Output(),
            "$ echo first # collapsed multi-line command\nfirst\nsecond\nJob succeeded\n");
}

TEST_F(ShellExecutorTest, AfterScriptSeesStatusAndNeverChangesIt) {
  Job job = MakeJob({"test \"$CI_JOB_STATUS\" = running", "export IN_SCRIPT=yes", "exit 1"});
  job.after_script = {"echo \"status=$CI_JOB_STATUS in_script=${IN_SCRIPT-no}\"", "exit 7"};
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Output(),
            "$ test \"$CI_JOB_STATUS\" = running\n$ export IN_SCRIPT=yes\n$ exit 1\n"
            "Running after_script\n"
            "$ echo \"status=$CI_JOB_STATUS in_script=${IN_SCRIPT-no}\"\n"
            "status=failed in_script=no\n$ exit 7\n"
            "WARNING: after_script failed, but job will continue unaffected: exit code 7\n"
            "ERROR: Job failed: exit code 1\n");

  Job ok = MakeJob({"true"});
  ok.after_script = {"echo $CI_JOB_STATUS", "false"};
  EXPECT_EQ(Run(ok).outcome, JobOutcome::kSuccess);
  EXPECT_NE(sink_.Text("job").find("\nsuccess\n"), std::string::npos);
}

TEST_F(ShellExecutorTest, TimeoutFailsTheJobAndAfterScriptStillRuns) {
  Job job = MakeJob({"echo started", "sleep 100"});
  job.after_script = {"echo cleanup $CI_JOB_STATUS"};
  Attempt context = Context();
  context.spec.timeout = std::chrono::milliseconds(300);
  JobResult r = Run(job, context);
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.failure_reason, "job_execution_timeout");
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(Output(),
            "$ echo started\nstarted\n$ sleep 100\nRunning after_script\n"
            "$ echo cleanup $CI_JOB_STATUS\ncleanup failed\n"
            "ERROR: Job failed: execution took longer than 300ms seconds\n");
}

TEST_F(ShellExecutorTest, CancelEndsTheJobCanceled) {
  sink_.on_write_ = [this](const std::string& text) {
    if (text.find("$ sleep 100\n") != std::string::npos) cancel_.Cancel();
  };
  Job job = MakeJob({"echo ready", "sleep 100", "echo never"});
  job.after_script = {"echo after $CI_JOB_STATUS"};
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kCanceled);
  EXPECT_EQ(r.failure_reason, "");
  EXPECT_EQ(Output(),
            "$ echo ready\nready\n$ sleep 100\nRunning after_script\n"
            "$ echo after $CI_JOB_STATUS\nafter canceled\nERROR: Job failed: canceled\n");
}

TEST_F(ShellExecutorTest, EnvironmentIsTheJobsVariablesOnly) {
  setenv("SLIPWAY_HOST_SECRET", "leaked", 1);
  Attempt context = Context();
  context.spec.variables.Set("A", "x");
  context.spec.variables.Set("B", "$A-y");
  Variable raw;
  raw.name = "RAW";
  raw.value = "$A";
  raw.expand = false;
  context.spec.variables.Set(raw);
  JobResult r = Run(MakeJob({"echo \"${SLIPWAY_HOST_SECRET-unset} $A $B $RAW\"",
                             "test -n \"$PATH\" && test -n \"$HOME\""}),
                    context);
  unsetenv("SLIPWAY_HOST_SECRET");
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess);
  EXPECT_NE(Output().find("\nunset x x-y $A\n"), std::string::npos) << Output();
}

TEST_F(ShellExecutorTest, IdentityGivesHomeUserAndLognameUnlessTheJobSetsThem) {
  JobIdentity identity{geteuid(), getegid(), "slipway-job", 022};
  VariableList variables;
  variables.Set("A", "x");
  std::vector<std::string> env =
      JobLifecycle::JobEnvironment(variables, &identity, "/builds/7/home");
  auto has = [&env](const std::string& entry) {
    return std::find(env.begin(), env.end(), entry) != env.end();
  };
  EXPECT_TRUE(has("HOME=/builds/7/home"));
  EXPECT_TRUE(has("USER=slipway-job"));
  EXPECT_TRUE(has("LOGNAME=slipway-job"));
  EXPECT_TRUE(has("A=x"));
  variables.Set("HOME", "/mine");  // A job's own value wins, as for the host's.
  env = JobLifecycle::JobEnvironment(variables, &identity, "/builds/7/home");
  EXPECT_TRUE(has("HOME=/mine"));
  EXPECT_FALSE(has("HOME=/builds/7/home"));
}

TEST_F(ShellExecutorTest, RunsInAFreshWorkspaceThatIsTheProjectDir) {
  Job job = MakeJob({"cat greeting.txt", "test \"$PWD\" = \"$CI_PROJECT_DIR\"",
                     "echo modified > greeting.txt", "touch new.txt"});
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Output();
  EXPECT_EQ(Slurp(tmp_.Sub("project/greeting.txt")), "hello\n");
  EXPECT_FALSE(PathExists(tmp_.Sub("project/new.txt")));
  // The next job sees the project, not the previous job's changes.
  sink_.on_write_ = nullptr;
  JobResult again = Run(MakeJob({"cat greeting.txt", "test ! -e new.txt"}));
  EXPECT_EQ(again.outcome, JobOutcome::kSuccess);
  EXPECT_NE(sink_.Text("job").rfind("hello\n"), std::string::npos);
}

// Each job has a HOME of its own, empty, 0700, beside its workspace; what a
// job leaves there (a planted ~/.bashrc, credentials) is gone before the
// next job of the same pool slot starts, and slipway's own HOME is not it.
TEST_F(ShellExecutorTest, EachJobHasAnEmptyHomeOfItsOwn) {
  Job first = MakeJob({"echo \"home=$HOME\"", "test \"$HOME\" = \"$CI_PROJECT_DIR.home\"",
                       "stat -c 'mode=%a' \"$HOME\"", "test -z \"$(ls -A \"$HOME\")\"",
                       "echo secret > ~/x", "mkdir -m 0500 ~/locked"});
  first.after_script = {"cat ~/x"};  // after_script shares the job's HOME.
  JobResult r = Run(first);
  ASSERT_EQ(r.outcome, JobOutcome::kSuccess) << sink_.Text("job");
  std::string log = sink_.Text("job");
  size_t at = log.find("\nhome=");  // The output's line, not the command's.
  ASSERT_NE(at, std::string::npos) << log;
  std::string home = log.substr(at + 6, log.find('\n', at + 1) - at - 6);
  EXPECT_EQ(home.rfind(tmp_.Sub("run/builds/"), 0), 0u) << home;
  EXPECT_NE(log.find("\nmode=700\n"), std::string::npos) << log;
  EXPECT_NE(log.find("\nsecret\n"), std::string::npos) << log;
  EXPECT_FALSE(PathExists(home)) << "the job's HOME outlived it";
  const char* own = std::getenv("HOME");
  EXPECT_TRUE(own == nullptr || home != own);

  JobResult second = Run(MakeJob({"echo \"home=$HOME\"", "test ! -e ~/x", "test ! -e ~/locked"}));
  EXPECT_EQ(second.outcome, JobOutcome::kSuccess) << sink_.Text("job");
}

TEST_F(ShellExecutorTest, ImageIsIgnoredWithAWarning) {
  Job job = MakeJob({"true"});
  job.image = Node();
  Run(job);
  EXPECT_TRUE(sink_.Text("job").starts_with(
      "WARNING: image: and services: are ignored; the shell executor runs the job on this "
      "machine\nExecuting"));
}

TEST_F(ShellExecutorTest, MissingProjectIsASystemFailure) {
  Attempt context = Context();
  context.spec.repository = tmp_.Sub("nope");
  context.spec.commit = "main";
  JobResult r = Run(MakeJob({"true"}), context);
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.failure_reason, "runner_system_failure");
}

TEST_F(ShellExecutorTest, ArtifactsFollowWhenAndAreRestoredIntoLaterJobs) {
  Job build = MakeJob({"mkdir -p out && echo built > out/app && echo x > scratch.tmp"});
  build.artifacts.present = true;
  build.artifacts.paths = {"out/", "missing/"};
  build.artifacts.untracked = true;
  build.artifacts.exclude = {"*.tmp"};
  Attempt build_context = Context("build");
  JobResult r = Run(build, build_context);
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess);
  EXPECT_NE(Output().find("Uploading artifacts for successful job\nUploading artifacts...\n"
                          "out: found 2 matching artifact files and directories\n"
                          "WARNING: missing: no matching files."),
            std::string::npos)
      << Output();
  EXPECT_EQ(Slurp(build_context.host.job_dir + "/artifacts/out/app"), "built\n");
  EXPECT_FALSE(PathExists(build_context.host.job_dir + "/artifacts/scratch.tmp"));
  EXPECT_FALSE(PathExists(build_context.host.job_dir + "/artifacts/greeting.txt"));

  Attempt test_context = Context("test");
  artifacts_.Add(7, build_context.host.job_dir);
  test_context.spec.artifacts_from = {{7, "build"}};
  JobResult t = Run(MakeJob({"cat out/app"}), test_context);
  EXPECT_EQ(t.outcome, JobOutcome::kSuccess);
  EXPECT_NE(sink_.Text("job").find("$ cat out/app\nbuilt\n"), std::string::npos);

  // on_success artifacts of a failed job are not kept; on_failure ones are.
  Job failing = MakeJob({"echo f > f.txt", "false"});
  failing.artifacts.present = true;
  failing.artifacts.paths = {"f.txt"};
  Attempt failing_context = Context("failing");
  Run(failing, failing_context);
  EXPECT_FALSE(PathExists(failing_context.host.job_dir + "/artifacts/f.txt"));
  failing.artifacts.when = "on_failure";
  Run(failing, failing_context);
  EXPECT_EQ(Slurp(failing_context.host.job_dir + "/artifacts/f.txt"), "f\n");
}

TEST_F(ShellExecutorTest, DotenvAndJunitReportsReachTheResult) {
  Job job = MakeJob({"echo VERSION=$CI_JOB_NAME-1 > build.env",
                     "echo '<testcase name=\"a\"><failure/></testcase>' > junit.xml"});
  job.artifacts.present = true;
  job.artifacts.reports["dotenv"] = {"build.env"};
  job.artifacts.reports["junit"] = {"junit.xml"};
  Attempt context = Context();
  context.spec.variables.Set("CI_JOB_NAME", "job");
  JobResult r = Run(job, context);
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess);
  ASSERT_NE(r.dotenv.Get("VERSION"), nullptr);
  EXPECT_EQ(*r.dotenv.Get("VERSION"), "job-1");
  EXPECT_EQ(r.summary, "junit: 1 total, 0 success, 1 failed, 0 skipped, 0 error");

  // A dotenv file GitLab would reject fails the job.
  Job bad = MakeJob({"echo '# not a variable' > build.env"});
  bad.artifacts.present = true;
  bad.artifacts.reports["dotenv"] = {"build.env"};
  JobResult b = Run(bad);
  EXPECT_EQ(b.outcome, JobOutcome::kFailed);
  EXPECT_EQ(b.failure_reason, "unknown_failure");
  EXPECT_NE(sink_.Text("job").find(
                "ERROR: Uploading artifacts failed: dotenv report build.env: Invalid Format\n"
                "ERROR: Job failed: artifacts could not be uploaded\n"),
            std::string::npos);
}

TEST_F(ShellExecutorTest, CachesArePulledAndPushedPerPolicyAndWhen) {
  Cache cache;
  cache.key = "deps-$BRANCH";
  cache.paths = {"vendor/"};
  Attempt context = Context();
  context.spec.variables.Set("BRANCH", "main");

  Job first = MakeJob({"test ! -e vendor/lib", "mkdir vendor && echo v1 > vendor/lib"});
  first.caches = {cache};
  EXPECT_EQ(Run(first, context).outcome, JobOutcome::kSuccess);
  EXPECT_NE(Output().find("Creating cache deps-main...\n"
                          "vendor: found 2 matching artifact files and directories\n"
                          "Created cache\n"),
            std::string::npos)
      << Output();

  // pull: restored, not saved.
  Job reader = MakeJob({"cat vendor/lib", "echo v2 > vendor/lib"});
  reader.caches = {cache};
  reader.caches[0].policy = "pull";
  EXPECT_EQ(Run(reader, context).outcome, JobOutcome::kSuccess);
  EXPECT_NE(sink_.Text("job").find("Checking cache for deps-main...\n"
                                   "Successfully extracted cache\n"),
            std::string::npos);
  Job check = MakeJob({"grep -q v1 vendor/lib"});
  check.caches = {cache};
  check.caches[0].policy = "pull";
  EXPECT_EQ(Run(check, context).outcome, JobOutcome::kSuccess);

  // A failed job saves only a when: on_failure / always cache.
  Job failing = MakeJob({"echo v3 > vendor/lib", "false"});
  failing.caches = {cache};
  Run(failing, context);
  EXPECT_EQ(Run(check, context).outcome, JobOutcome::kSuccess);
  failing.caches[0].when = "always";
  Run(failing, context);
  check.script = {"grep -q v3 vendor/lib"};
  EXPECT_EQ(Run(check, context).outcome, JobOutcome::kSuccess);

  // A missing key falls back to fallback_keys.
  Job fallback = MakeJob({"grep -q v3 vendor/lib"});
  fallback.caches = {cache};
  fallback.caches[0].key = "other";
  fallback.caches[0].fallback_keys = {"deps-$BRANCH"};
  fallback.caches[0].policy = "pull";
  EXPECT_EQ(Run(fallback, context).outcome, JobOutcome::kSuccess);
  EXPECT_NE(sink_.Text("job").find("Checking cache for other...\nWARNING: file does not exist\n"
                                   "Checking cache for deps-main...\n"
                                   "Successfully extracted cache\n"),
            std::string::npos);
}

// The script files are written beside the workspace, where the job itself
// can leave a symlink by their name before after_script is written.
TEST_F(ShellExecutorTest, ScriptFilesAreNotWrittenThroughALinkTheJobLeft) {
  ASSERT_EQ(Sh(tmp_.path(), "echo keep > victim"), 0);
  Job job = MakeJob(
      {"ln -sf " + tmp_.Sub("victim") + " \"$(dirname \"$CI_PROJECT_DIR\")/after_script.sh\""});
  job.after_script = {"echo after ran"};
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess);
  EXPECT_EQ(Slurp(tmp_.Sub("victim")), "keep\n");
  EXPECT_NE(Output().find("after ran\n"), std::string::npos) << Output();
}

}  // namespace
}  // namespace slipway
