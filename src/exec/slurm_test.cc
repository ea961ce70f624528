// The Slurm executor against a real single-node Slurm (scripts/slurm.sh;
// SLIPWAY_TEST_SLURM names its slurm.conf). Without one, the tests that need
// it skip, saying so; the parsers' tests always run.
#include "exec/slurm.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>

#include "exec/slurm_executor.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

TEST(ParseScontrolJobTest, StateReasonAndExitCode) {
  StatusOr<SlurmJobStatus> s = ParseScontrolJob(
      "JobId=7 JobName=build UserId=root(0) JobState=FAILED Reason=NonZeroExitCode "
      "Dependency=(null) ExitCode=3:0 RunTime=00:00:01 Comment=two words\n");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->state, "FAILED");
  EXPECT_EQ(s->reason, "NonZeroExitCode");
  EXPECT_EQ(s->ShellExitCode(), 3);
  EXPECT_TRUE(s->Finished());
}

TEST(ParseScontrolJobTest, SignalIsAsBashReportsIt) {
  StatusOr<SlurmJobStatus> s = ParseScontrolJob("JobState=CANCELLED ExitCode=0:15");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ShellExitCode(), 143);
}

TEST(ParseScontrolJobTest, RunningAndCompletingAreNotFinished) {
  for (const char* state : {"PENDING", "RUNNING", "COMPLETING", "CONFIGURING"}) {
    StatusOr<SlurmJobStatus> s =
        ParseScontrolJob(std::string("JobState=") + state + " ExitCode=0:0");
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(s->Finished()) << state;
  }
}

TEST(ParseScontrolJobTest, ErrorsOnWhatIsNotAJob) {
  EXPECT_EQ(ParseScontrolJob("slurm_load_jobs error: Invalid job id specified").status().message(),
            "'scontrol show job' printed no JobState and ExitCode: 'slurm_load_jobs error: "
            "Invalid job id specified'");
  EXPECT_FALSE(ParseScontrolJob("JobState=RUNNING ExitCode=x:0").ok());
}

class RecordingSink : public LogSink {
 public:
  void Write(std::string_view, std::string_view bytes) override {
    std::string copy;
    {
      std::lock_guard<std::mutex> lock(mu_);
      text_.append(bytes);
      copy = text_;
    }
    if (on_write) on_write(copy);
  }
  std::string Text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }
  std::function<void(const std::string&)> on_write;

 private:
  std::mutex mu_;
  std::string text_;
};

// stdout of a shell command line run with the test cluster's SLURM_CONF.
std::string Capture(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

// The pids of processes whose command line is exactly argv.
std::vector<int> ProcessesRunning(const std::vector<std::string>& argv) {
  std::string wanted;
  for (const std::string& a : argv) wanted += a + '\0';
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* entry = readdir(proc)) {
    int pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream in(std::string("/proc/") + entry->d_name + "/cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline == wanted) pids.push_back(pid);
  }
  closedir(proc);
  return pids;
}

class SlurmExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* conf = std::getenv("SLIPWAY_TEST_SLURM");
    if (conf == nullptr || *conf == '\0') {
      GTEST_SKIP() << "SLIPWAY_TEST_SLURM is not set: start a Slurm with "
                      "`export SLIPWAY_TEST_SLURM=$(bash scripts/slurm.sh start)` to run these";
    }
    setenv("SLURM_CONF", conf, 1);
    ASSERT_EQ(Sh(tmp_.path(), R"(
      mkdir project && cd project && git init -q
      echo hello > greeting.txt && git add -A && git commit -qm init
    )"),
              0);
    PosixProcessRunner runner;
    Status usable = SlurmScriptRunner::Check(SlurmScriptRunner::Options(), &runner);
    ASSERT_TRUE(usable.ok()) << usable.message();
    ShellExecutor::Options options;
    options.kill_grace = std::chrono::milliseconds(500);
    executor_ = std::make_unique<SlurmExecutor>(options);
    spec_.repository = tmp_.Sub("project");
    spec_.variables.Set("CI_PROJECT_NAME", "project");
    host_.run_dir = tmp_.Sub("run");
    host_.job_dir = tmp_.Sub("run/jobs/job");
  }

  JobResult Run(std::vector<std::string> script) {
    Job job;
    job.name = "slurm-job";
    job.script = std::move(script);
    return executor_->Run(job, spec_, host_, &sink_, cancel_);
  }

  // The Slurm job id the log names.
  std::string SlurmJobId() {
    std::smatch m;
    std::string text = sink_.Text();
    return std::regex_search(text, m, std::regex("Submitted Slurm job ([0-9]+)\n")) ? m[1].str()
                                                                                    : "";
  }
  std::string ScontrolShow(const std::string& id) { return Capture("scontrol show job -o " + id); }

  TempDir tmp_;
  std::unique_ptr<SlurmExecutor> executor_;
  JobSpec spec_;
  JobHost host_;
  RecordingSink sink_;
  CancelToken cancel_;
};

TEST_F(SlurmExecutorTest, RunsTheScriptAsASlurmJobAndNamesItInTheLog) {
  JobResult r = Run({"echo \"on $SLURMD_NODENAME as Slurm job $SLURM_JOB_ID in $PWD\""});
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << sink_.Text();
  std::string id = SlurmJobId();
  ASSERT_FALSE(id.empty()) << sink_.Text();
  EXPECT_NE(sink_.Text().find("$ echo"), std::string::npos);
  EXPECT_NE(sink_.Text().find("on slipway as Slurm job " + id + " in " + tmp_.path()),
            std::string::npos)
      << sink_.Text();
  EXPECT_NE(ScontrolShow(id).find("JobState=COMPLETED"), std::string::npos) << ScontrolShow(id);
}

TEST_F(SlurmExecutorTest, OutputStreamsWhileTheJobRuns) {
  // The job waits for a file the test makes only once the job's first line
  // reached the log: without streaming it would wait until its timeout.
  std::string go = tmp_.Sub("go");
  spec_.variables.Set("GO", go);
  spec_.timeout = std::chrono::minutes(2);
  sink_.on_write = [&](const std::string& text) {
    if (text.find("\nfirst\n") != std::string::npos) std::ofstream(go) << "go";
  };
  JobResult r = Run({"echo first", "while [ ! -e \"$GO\" ]; do sleep 0.05; done", "echo second"});
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << sink_.Text();
  EXPECT_NE(sink_.Text().find("\nsecond\n"), std::string::npos);
}

TEST_F(SlurmExecutorTest, ExitCodeFailsTheJob) {
  JobResult r = Run({"echo before", "exit 3", "echo never"});
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.failure_reason, "script_failure");
  EXPECT_EQ(sink_.Text().find("never\n"), std::string::npos);
  EXPECT_NE(sink_.Text().find("ERROR: Job failed: exit code 3\n"), std::string::npos);
}

TEST_F(SlurmExecutorTest, VariablesArriveAsTheEnvironment) {
  spec_.variables.Set("GREETING", "hello 'quoted' \"world\"  ; `x`");
  Variable raw;
  raw.name = "RAW";
  raw.value = "$GREETING";
  raw.expand = false;
  spec_.variables.Set(raw);
  JobResult r = Run({"printf '<%s|%s>\\n' \"$GREETING\" \"$RAW\""});
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << sink_.Text();
  EXPECT_NE(sink_.Text().find("<hello 'quoted' \"world\"  ; `x`|$GREETING>\n"), std::string::npos)
      << sink_.Text();
}

TEST_F(SlurmExecutorTest, TimeoutScancelsTheJob) {
  spec_.timeout = std::chrono::seconds(2);
  JobResult r = Run({"exec sleep 6541"});
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.failure_reason, "job_execution_timeout");
  std::string id = SlurmJobId();
  ASSERT_FALSE(id.empty());
  EXPECT_NE(ScontrolShow(id).find("JobState=CANCELLED"), std::string::npos) << ScontrolShow(id);
  // Slurm's own limit, the backstop: the timeout in whole minutes.
  EXPECT_NE(ScontrolShow(id).find(" TimeLimit=00:01:00 "), std::string::npos) << ScontrolShow(id);
  EXPECT_EQ(ProcessesRunning({"sleep", "6541"}).size(), 0u);
}

TEST_F(SlurmExecutorTest, CancelScancelsTheJobAndLeavesNoProcess) {
  sink_.on_write = [&](const std::string& text) {
    if (text.find("\nstarted\n") != std::string::npos) cancel_.Cancel();
  };
  // A child in the background too: Slurm ends the job's every process.
  JobResult r = Run({"sleep 6542 &", "echo started", "exec sleep 6543"});
  EXPECT_EQ(r.outcome, JobOutcome::kCanceled) << sink_.Text();
  std::string id = SlurmJobId();
  ASSERT_FALSE(id.empty());
  EXPECT_NE(ScontrolShow(id).find("JobState=CANCELLED"), std::string::npos) << ScontrolShow(id);
  EXPECT_EQ(ProcessesRunning({"sleep", "6542"}).size(), 0u);
  EXPECT_EQ(ProcessesRunning({"sleep", "6543"}).size(), 0u);
}

TEST_F(SlurmExecutorTest, SchedulerParametersReachSbatch) {
  spec_.variables.Set("SCHEDULER_PARAMETERS",
                      "--job-name=slipway-params --comment 'two words' --ntasks=1");
  JobResult r = Run({"echo \"name=$SLURM_JOB_NAME\""});
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << sink_.Text();
  EXPECT_NE(sink_.Text().find("name=slipway-params\n"), std::string::npos) << sink_.Text();
  std::string shown = ScontrolShow(SlurmJobId());
  EXPECT_NE(shown.find("Comment=two words "), std::string::npos) << shown;
}

TEST_F(SlurmExecutorTest, RefusedSchedulerParameterFailsTheJobSayingWhy) {
  spec_.variables.Set("SCHEDULER_PARAMETERS", "-N 1 --output=/tmp/elsewhere");
  JobResult r = Run({"echo never"});
  EXPECT_EQ(r.outcome, JobOutcome::kFailed);
  EXPECT_EQ(r.failure_reason, "runner_system_failure");
  EXPECT_NE(sink_.Text().find("ERROR: Starting the job script failed: SCHEDULER_PARAMETERS: "
                              "column 6: '--output=/tmp/elsewhere' is not allowed: the executor "
                              "collects the job's output\n"),
            std::string::npos)
      << sink_.Text();
  EXPECT_TRUE(SlurmJobId().empty());
}

TEST_F(SlurmExecutorTest, SecretVariableIsNotVisibleToOtherUsersViews) {
  // sbatch's command line (which ps shows anyone while it runs: recorded by
  // a wrapper that then runs the real sbatch) and, while the job runs, what
  // Slurm shows about it (squeue, scontrol, the batch script it stores) and
  // every command line on the machine must not hold the secret, which the
  // job itself does get.
  std::string argv_file = tmp_.Sub("sbatch-argv");
  std::string wrapper = tmp_.Sub("sbatch-wrapper");
  std::ofstream(wrapper) << "#!/bin/bash\nprintf '%s\\n' \"$@\" >> '" << argv_file
                         << "'\nexec sbatch \"$@\"\n";
  ASSERT_EQ(chmod(wrapper.c_str(), 0755), 0);
  SlurmScriptRunner::Options slurm;
  slurm.sbatch = wrapper;
  ShellExecutor::Options options;
  executor_ = std::make_unique<SlurmExecutor>(options, slurm);
  std::string secret = "s3cr3t-" + std::to_string(getpid()) + "-value";
  Variable token;
  token.name = "DEPLOY_TOKEN";
  token.value = secret;
  spec_.variables.Set(token);
  std::string go = tmp_.Sub("go");
  spec_.variables.Set("GO", go);
  spec_.timeout = std::chrono::minutes(2);
  std::map<std::string, std::string> views;
  sink_.on_write = [&](const std::string& text) {
    if (views.empty() && text.find("\nwaiting\n") != std::string::npos) {
      std::string id = SlurmJobId();
      views["squeue -o %all"] = Capture("squeue -o %all");
      views["scontrol show job"] = Capture("scontrol show job -dd " + id);
      views["scontrol write batch_script"] = Capture("scontrol write batch_script " + id + " -");
      views["ps"] = Capture("ps -eo args");
      std::ofstream(go) << "go";
    }
  };
  JobResult r = Run({"echo waiting", "while [ ! -e \"$GO\" ]; do sleep 0.05; done",
                     "[ \"$DEPLOY_TOKEN\" = " + secret + " ] && echo token-arrived"});
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << sink_.Text();
  EXPECT_NE(sink_.Text().find("\ntoken-arrived\n"), std::string::npos);
  ASSERT_EQ(views.size(), 4u);
  views["sbatch's command line"] = Slurp(argv_file);
  EXPECT_NE(views["sbatch's command line"].find("--wrap=exec "), std::string::npos)
      << views["sbatch's command line"];
  EXPECT_NE(views["scontrol write batch_script"].find("exec "), std::string::npos)
      << views["scontrol write batch_script"];
  for (const auto& [view, text] : views) {
    EXPECT_EQ(text.find(secret), std::string::npos) << view << " shows the secret:\n" << text;
  }
}

}  // namespace
}  // namespace slipway
