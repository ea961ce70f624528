#include "exec/job_lifecycle.h"

#include <gtest/gtest.h>

#include <mutex>

#include "exec/file_tree.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

// Another place to run scripts, as a sandbox executor gives one: each
// script runs through `env` with a marker in its environment, and the
// runner says when a session opens and closes.
class MarkingScriptRunner : public ScriptRunner {
 public:
  explicit MarkingScriptRunner(ProcessRunner* runner) : runner_(runner) {}

  StatusOr<std::unique_ptr<ScriptSession>> Open(const Job& job, const std::string& workspace,
                                                const std::function<void(const std::string&)>& log,
                                                const OpenLimits&) override {
    if (job.name == "refused") return Status::Error("no room for " + job.name);
    log("session opened in " + workspace.substr(workspace.find_last_of('/') + 1));
    return std::unique_ptr<ScriptSession>(std::make_unique<Session>(runner_, log));
  }

 private:
  class Session : public ScriptSession {
   public:
    Session(ProcessRunner* runner, std::function<void(const std::string&)> log)
        : runner_(runner), log_(std::move(log)) {}
    ~Session() override { log_("session closed"); }
    StatusOr<ProcessResult> Run(const ProcessSpec& spec, const OutputFn& output,
                                const CancelToken* cancel) override {
      ProcessSpec wrapped = spec;
      wrapped.argv.insert(wrapped.argv.begin(), {"env", "SANDBOX_MARK=inside"});
      return runner_->Run(wrapped, output, cancel);
    }

   private:
    ProcessRunner* runner_;
    std::function<void(const std::string&)> log_;
  };
  ProcessRunner* runner_;
};

class JobLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Sh(tmp_.path(),
                 "mkdir project && cd project && git init -q && echo hi > a.txt "
                 "&& git add -A && git commit -qm init"),
              0);
    spec_.repository = tmp_.Sub("project");
    spec_.variables.Set("CI_PROJECT_NAME", "project");
    host_.run_dir = tmp_.Sub("run");
    host_.job_dir = tmp_.Sub("run/jobs/job");
  }

  JobResult Run(const Job& job) {
    struct Sink : LogSink {
      void Write(std::string_view, std::string_view bytes) override {
        std::lock_guard<std::mutex> lock(mu);
        text.append(bytes);
      }
      std::mutex mu;
      std::string text;
    } sink;
    CancelToken cancel;
    JobResult r = lifecycle_.Run(job, spec_, host_, &sink, cancel);
    log_ = sink.text;
    return r;
  }

  TempDir tmp_;
  PosixProcessRunner processes_;
  WorkspaceFactory workspaces_{&processes_, "", {}, ""};
  MarkingScriptRunner scripts_{&processes_};
  JobLifecycle lifecycle_{JobLifecycle::Options(), &workspaces_, &scripts_};
  JobSpec spec_;
  JobHost host_;
  std::string log_;
};

// The whole lifecycle (workspace, script, after_script, artifacts) is the
// one an executor reuses; only the scripts go through its runner, whose
// session ends before the artifacts are collected.
TEST_F(JobLifecycleTest, ScriptsRunThroughTheExecutorsRunnerAndTheRestIsShared) {
  Job job;
  job.name = "job";
  job.script = {"echo \"mark=$SANDBOX_MARK\" > out.txt", "cat a.txt"};
  job.after_script = {"echo \"after mark=$SANDBOX_MARK\""};
  job.artifacts.present = true;
  job.artifacts.paths = {"out.txt"};
  JobResult r = Run(job);
  ASSERT_EQ(r.outcome, JobOutcome::kSuccess) << log_;
  EXPECT_EQ(*ReadFile(host_.job_dir + "/artifacts/out.txt"), "mark=inside\n");
  size_t opened = log_.find("session opened in project\n");
  size_t after = log_.find("\nafter mark=inside\n");
  size_t closed = log_.find("session closed\n");
  size_t upload = log_.find("Uploading artifacts for successful job\n");
  ASSERT_NE(opened, std::string::npos) << log_;
  EXPECT_LT(opened, log_.find("Executing \"step_script\" stage")) << log_;
  EXPECT_LT(after, closed) << log_;
  EXPECT_LT(closed, upload) << log_;
}

TEST_F(JobLifecycleTest, ARunnerThatCannotOpenFailsTheJobAsASystemFailure) {
  Job job;
  job.name = "refused";
  job.script = {"echo never"};
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.failure_reason, "runner_system_failure");
  EXPECT_NE(log_.find("ERROR: Preparing environment failed: no room for refused\n"),
            std::string::npos)
      << log_;
  EXPECT_EQ(log_.find("never"), std::string::npos);
}

// Deployment checks run after the script, in the job's session (a command
// check sees the sandbox's mark and the workspace), before after_script,
// which sees their outcome; a failed check fails the job.
TEST_F(JobLifecycleTest, DeploymentChecksRunAfterTheScriptAndDecideTheOutcome) {
  Job job;
  job.name = "deploy";
  job.script = {"echo deployed > state.txt"};
  job.after_script = {"echo \"after status=$CI_JOB_STATUS\""};
  CheckDefinition check;
  check.name = "state";
  check.kind = CheckKind::kCommand;
  check.command.script = {"test \"$SANDBOX_MARK\" = inside", "grep -q \"$WANT\" state.txt"};
  spec_.checks = {check};
  spec_.variables.Set("CI_ENVIRONMENT_NAME", "production");
  spec_.variables.Set("WANT", "deployed");
  JobResult ok = Run(job);
  EXPECT_EQ(ok.outcome, JobOutcome::kSuccess) << log_;
  ASSERT_EQ(ok.checks.size(), 1u);
  EXPECT_EQ(ok.checks[0].outcome, CheckOutcome::kPass);
  EXPECT_LT(log_.find("deployment_checks_production"), log_.find("after status=success")) << log_;

  spec_.variables.Set("WANT", "something else");
  JobResult failed = Run(job);
  EXPECT_EQ(failed.outcome, JobOutcome::kFailed);
  EXPECT_EQ(failed.failure_reason, "script_failure");
  EXPECT_EQ(failed.failure_message, "deployment check 'state' did not pass");
  EXPECT_EQ(failed.checks[0].message, "exit code 1");
  EXPECT_NE(log_.find("after status=failed"), std::string::npos) << log_;
  EXPECT_NE(log_.find("ERROR: Job failed: deployment check 'state' did not pass\n"),
            std::string::npos)
      << log_;

  job.script = {"exit 1"};  // A failed script: no checks run.
  JobResult script_failed = Run(job);
  EXPECT_TRUE(script_failed.checks.empty());
  EXPECT_EQ(log_.find("deployment_checks"), std::string::npos) << log_;
}

// The job's timeout bounds its checks as it bounds its script.
TEST_F(JobLifecycleTest, DeploymentChecksStopAtTheJobsTimeout) {
  Job job;
  job.name = "deploy";
  job.script = {"true"};
  CheckDefinition check;
  check.name = "never";
  check.kind = CheckKind::kCommand;
  check.command.script = {"false"};
  check.count = 100000;
  check.failure_limit = 100000;
  check.interval = std::chrono::milliseconds(50);
  spec_.checks = {check};
  spec_.timeout = std::chrono::milliseconds(500);
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.failure_reason, "job_execution_timeout");
  EXPECT_NE(log_.find("ERROR: Job failed: execution took longer than 500ms"), std::string::npos)
      << log_;
}

}  // namespace
}  // namespace slipway
