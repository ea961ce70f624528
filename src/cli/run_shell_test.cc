// RunPipelineLocally with the real ShellExecutor and real bash on a temporary git
// repository: the scheduler, the executor and the front together, for
// pipelines built by hand (the YAML path is covered by run_e2e_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run.h"
#include "exec/shell_executor.h"
#include "util/test_dir.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class RunShellTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("README", "hello\n");
    repo_.Git({"add", "-A"});
    repo_.Git({"commit", "-q", "-m", "init"});
    context_.project_dir = repo_.dir();
    pipeline_.stages = {".pre", "build", "test", ".post"};
    out_ = std::tmpfile();
    options_.out = out_;
    options_.err = out_;
    options_.handle_signals = false;
    options_.jobs = 2;
    options_.report = repo_.dir() + "/report.json";
    ShellExecutor::Options shell;
    shell.kill_grace = std::chrono::milliseconds(500);
    executor_ = std::make_unique<ShellExecutor>(shell);
  }
  void TearDown() override { std::fclose(out_); }
  Job& AddJob(const std::string& name, const std::string& stage, std::vector<std::string> script) {
    Job job;
    job.name = name;
    job.stage = stage;
    job.script = std::move(script);
    pipeline_.jobs.push_back(job);
    return pipeline_.jobs.back();
  }
  int Run() { return RunPipelineLocally(pipeline_, context_, options_, executor_.get(), &clock_); }
  nlohmann::json Report() { return nlohmann::json::parse(Slurp(options_.report)); }
  std::string Log(const std::string& dir) {
    return Slurp(fs::path(repo_.dir()) / ".slipway/runs/1/jobs" / dir / "log");
  }

  TestRepo repo_;
  Pipeline pipeline_;
  PipelineContext context_;
  RunFrontOptions options_;
  std::unique_ptr<ShellExecutor> executor_;
  RealClock clock_;
  std::FILE* out_ = nullptr;
};

TEST_F(RunShellTest, RunsScriptsInCleanWorkspacesAndKeepsLogs) {
  AddJob("build", "build", {"cat README", "touch leftover", "echo \"job=$CI_JOB_NAME\""});
  AddJob("test", "test", {"test ! -e leftover", "test ! -e .slipway", "exit 4"});
  EXPECT_EQ(Run(), kExitFailed);
  nlohmann::json report = Report();
  EXPECT_EQ(report["jobs"][0]["status"], "success");
  EXPECT_EQ(report["jobs"][1]["status"], "failed");
  EXPECT_EQ(report["jobs"][1]["exit_code"], 4);
  EXPECT_EQ(report["jobs"][1]["failure_reason"], "script_failure");
  EXPECT_THAT(Log("build"), HasSubstr("$ cat README\nhello\n"));
  EXPECT_THAT(Log("build"), HasSubstr("job=build\n"));
  EXPECT_EQ(report["jobs"][0]["log"], ".slipway/runs/1/jobs/build/log");
}

TEST_F(RunShellTest, TimeoutFailsWithJobExecutionTimeout) {
  AddJob("slow", "build", {"sleep 30"}).timeout_seconds = 1;
  EXPECT_EQ(Run(), kExitFailed);
  nlohmann::json report = Report();
  EXPECT_EQ(report["jobs"][0]["failure_reason"], "job_execution_timeout");
  EXPECT_LT(report["jobs"][0]["duration_s"].get<double>(), 10.0);
}

TEST_F(RunShellTest, InterruptCancelsRunningJobAndKillsItsProcesses) {
  std::string fifo = repo_.dir() + "-fifo";
  std::string pid_file = repo_.dir() + "-pid";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  AddJob("long", "build",
         {"sleep 1000 &", "echo $! > " + pid_file, "echo started > " + fifo, "wait"});
  AddJob("after", "test", {"echo never"});
  options_.handle_signals = true;
  // Ctrl-C once the job has started its background process.
  std::thread interrupter([&] {
    std::ifstream sync(fifo);
    std::string line;
    std::getline(sync, line);
    ::kill(::getpid(), SIGINT);
  });
  EXPECT_EQ(Run(), kExitCanceled);
  interrupter.join();
  nlohmann::json report = Report();
  EXPECT_EQ(report["status"], "canceled");
  EXPECT_EQ(report["jobs"][0]["status"], "canceled");
  EXPECT_EQ(report["jobs"][1]["status"], "canceled");
  pid_t sleeper = std::stoi(Slurp(pid_file));
  EXPECT_TRUE(WaitGone(sleeper)) << "pid " << sleeper << " survived";
  fs::remove(fifo);
  fs::remove(pid_file);
}

}  // namespace
}  // namespace slipway
