#include "exec/subprocess.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace slipway {
namespace {

ProcessSpec Bash(const std::string& script) {
  ProcessSpec spec;
  spec.argv = {"bash", "-c", script};
  spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  return spec;
}

struct Captured {
  StatusOr<ProcessResult> result;
  std::string output;
};

Captured RunSpec(const ProcessSpec& spec, const CancelToken* cancel = nullptr) {
  PosixProcessRunner runner;
  std::string out;
  StatusOr<ProcessResult> r = runner.Run(spec, [&](std::string_view c) { out.append(c); }, cancel);
  return {std::move(r), std::move(out)};
}

// True when pid is gone or exits within two seconds. A SIGKILLed process
// closes its files (ending the job's output) a moment before it is reaped, so
// "already dead" cannot be asserted; a process that survived the kill would
// keep sleeping and fail this. Waits on a pidfd: no polling.
bool ProcessEnds(pid_t pid) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  int ready = poll(&p, 1, 2000);
  close(fd);
  return ready == 1;
}

TEST(SubprocessTest, CapturesStdoutAndStderrInOrderAndExitCode) {
  Captured c = RunSpec(Bash("echo out; echo err >&2; echo out2; exit 3"));
  ASSERT_TRUE(c.result.ok()) << c.result.status().message();
  EXPECT_EQ(c.result->exit_code, 3);
  EXPECT_FALSE(c.result->timed_out);
  EXPECT_EQ(c.output, "out\nerr\nout2\n");
}

TEST(SubprocessTest, EnvironmentIsExactlyTheGivenOne) {
  setenv("SLIPWAY_SUBPROCESS_LEAK", "leaked", 1);
  ProcessSpec spec = Bash("echo \"[${SLIPWAY_SUBPROCESS_LEAK-unset}] [$MINE]\"");
  spec.env.push_back("MINE=given");
  Captured c = RunSpec(spec);
  unsetenv("SLIPWAY_SUBPROCESS_LEAK");
  ASSERT_TRUE(c.result.ok());
  EXPECT_EQ(c.output, "[unset] [given]\n");
}

TEST(SubprocessTest, RunsInWorkingDirectory) {
  ProcessSpec spec = Bash("pwd");
  spec.cwd = "/usr";
  Captured c = RunSpec(spec);
  ASSERT_TRUE(c.result.ok());
  EXPECT_EQ(c.output, "/usr\n");
}

TEST(SubprocessTest, MissingProgramIsAnError) {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/slipway-no-such-program"};
  Captured c = RunSpec(spec);
  ASSERT_FALSE(c.result.ok());
  EXPECT_EQ(c.result.status().message(),
            "cannot start '/nonexistent/slipway-no-such-program': No such file or directory");
}

TEST(SubprocessTest, MissingWorkingDirectoryIsAnError) {
  ProcessSpec spec = Bash("true");
  spec.cwd = "/nonexistent-slipway-dir";
  Captured c = RunSpec(spec);
  ASSERT_FALSE(c.result.ok());
  EXPECT_EQ(c.result.status().message(),
            "cannot start 'bash' in /nonexistent-slipway-dir: No such file or directory");
}

TEST(SubprocessTest, TimeoutTerminatesTheGroup) {
  ProcessSpec spec = Bash("echo started; sleep 1000");
  spec.timeout = std::chrono::milliseconds(200);
  Captured c = RunSpec(spec);
  ASSERT_TRUE(c.result.ok());
  EXPECT_TRUE(c.result->timed_out);
  EXPECT_EQ(c.result->exit_code, 128 + SIGTERM);
  EXPECT_EQ(c.output, "started\n");
}

TEST(SubprocessTest, SigkillAfterGraceWhenTermIsIgnored) {
  ProcessSpec spec = Bash("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  spec.timeout = std::chrono::milliseconds(100);
  spec.kill_grace = std::chrono::milliseconds(200);
  Captured c = RunSpec(spec);
  ASSERT_TRUE(c.result.ok());
  EXPECT_TRUE(c.result->timed_out);
  EXPECT_EQ(c.result->exit_code, 128 + SIGKILL);
}

// A job that starts background grandchildren and is canceled: every one of
// them must be gone when Run returns.
TEST(SubprocessTest, CancelKillsGrandchildren) {
  char dir_template[] = "/tmp/slipway-subprocess-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string pids_file = std::string(dir_template) + "/pids";
  ProcessSpec spec = Bash("sleep 1000 & echo $! > " + pids_file +
                          "; (sleep 1000 & echo $! >> " + pids_file +
                          "; wait) & echo ready; wait");
  CancelToken cancel;
  PosixProcessRunner runner;
  std::string out;
  StatusOr<ProcessResult> result = runner.Run(
      spec,
      [&](std::string_view c) {
        out.append(c);
        if (out.find("ready\n") != std::string::npos) cancel.Cancel();
      },
      &cancel);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->canceled);
  std::ifstream in(pids_file);
  std::vector<pid_t> pids;
  for (pid_t p; in >> p;) pids.push_back(p);
  EXPECT_FALSE(pids.empty());
  for (pid_t p : pids) EXPECT_TRUE(ProcessEnds(p)) << "pid " << p << " survived";
  std::system(("rm -rf " + std::string(dir_template)).c_str());
}

TEST(SubprocessTest, BackgroundProcessLeftByAFinishedJobIsKilled) {
  char dir_template[] = "/tmp/slipway-subprocess-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string pid_file = std::string(dir_template) + "/pid";
  // The background sleep keeps the output pipe open; Run must not wait for it.
  Captured c = RunSpec(Bash("sleep 1000 & echo $! > " + pid_file + "; echo done"));
  ASSERT_TRUE(c.result.ok());
  EXPECT_EQ(c.result->exit_code, 0);
  EXPECT_EQ(c.output, "done\n");
  std::ifstream in(pid_file);
  pid_t pid = 0;
  in >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessEnds(pid));
  std::system(("rm -rf " + std::string(dir_template)).c_str());
}

TEST(SubprocessTest, LargeOutputIsDeliveredCompletely) {
  Captured c = RunSpec(Bash("head -c 1000000 /dev/zero | tr '\\0' x"));
  ASSERT_TRUE(c.result.ok());
  EXPECT_EQ(c.output.size(), 1000000u);
}

TEST(SubprocessTest, RunToolReportsFailure) {
  PosixProcessRunner runner;
  StatusOr<std::string> out = RunTool(&runner, {"bash", "-c", "echo hi; exit 4"}, "");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "'bash -c echo hi; exit 4' failed with exit code 4");
  StatusOr<std::string> ok = RunTool(&runner, {"bash", "-c", "echo hi >&2; echo out"}, "");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "out\n");
}

TEST(SubprocessTest, ConcurrentRunsDoNotShareOutput) {
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([i, &outputs] {
      Captured c = RunSpec(Bash("for n in 1 2 3; do echo " + std::to_string(i) + "; done"));
      outputs[i] = c.output;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    std::string n = std::to_string(i);
    EXPECT_EQ(outputs[i], n + "\n" + n + "\n" + n + "\n");
  }
}

}  // namespace
}  // namespace slipway
