#include "exec/shell_executor.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>

#include "exec/exec_test_util.h"

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

  JobContext Context(const std::string& job_dir_name = "job") {
    JobContext context;
    context.project_dir = tmp_.Sub("project");
    context.run_dir = tmp_.Sub("run");
    context.job_dir = tmp_.Sub("run/jobs/" + job_dir_name);
    context.cache_dir = tmp_.Sub("cache");
    return context;
  }

  JobResult Run(const Job& job, const JobContext& context) {
    return executor_->Run(job, context, &sink_, cancel_);
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
  EXPECT_EQ(Slurp(r.log_path), sink_.Text("job"));
  EXPECT_EQ(r.log_path, tmp_.Sub("run/jobs/job/attempt-1.log"));
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
  Job job = MakeJob({"export IN_SCRIPT=yes", "exit 1"});
  job.after_script = {"echo \"status=$CI_JOB_STATUS in_script=${IN_SCRIPT-no}\"", "exit 7"};
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Output(),
            "$ export IN_SCRIPT=yes\n$ exit 1\nRunning after_script\n"
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
  JobContext context = Context();
  context.timeout = std::chrono::milliseconds(300);
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
  JobContext context = Context();
  context.variables.Set("A", "x");
  context.variables.Set("B", "$A-y");
  Variable raw;
  raw.name = "RAW";
  raw.value = "$A";
  raw.expand = false;
  context.variables.Set(raw);
  JobResult r = Run(MakeJob({"echo \"${SLIPWAY_HOST_SECRET-unset} $A $B $RAW\"",
                             "test -n \"$PATH\" && test -n \"$HOME\""}),
                    context);
  unsetenv("SLIPWAY_HOST_SECRET");
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess);
  EXPECT_NE(Output().find("\nunset x x-y $A\n"), std::string::npos) << Output();
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

TEST_F(ShellExecutorTest, ImageIsIgnoredWithAWarning) {
  Job job = MakeJob({"true"});
  job.image = Node();
  Run(job);
  EXPECT_TRUE(sink_.Text("job").starts_with(
      "WARNING: image: and services: are ignored; the shell executor runs the job on this "
      "machine\nExecuting"));
}

TEST_F(ShellExecutorTest, MissingProjectIsASystemFailure) {
  JobContext context = Context();
  context.project_dir = tmp_.Sub("nope");
  context.ref = "main";
  JobResult r = Run(MakeJob({"true"}), context);
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.failure_reason, "runner_system_failure");
}

}  // namespace
}  // namespace slipway
