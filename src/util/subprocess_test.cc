#include "util/subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "util/containment_test_util.h"
#include "util/test_wait.h"

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
  StatusOr<ProcessResult> r = runner.Run(
      spec, [&](std::string_view c) { out.append(c); }, cancel);
  return {std::move(r), std::move(out)};
}

TEST(SubprocessTest, CapturesStdoutAndStderrInOrderAndExitCode) {
  Captured c = RunSpec(Bash("echo out; echo err >&2; echo out2; exit 3"));
  ASSERT_TRUE(c.result.ok()) << c.result.status().message();
  EXPECT_EQ(c.result->exit_code, 3);
  EXPECT_FALSE(c.result->timed_out);
  EXPECT_EQ(c.output, "out\nerr\nout2\n");
}

TEST(SubprocessTest, StderrOutputGetsStderrAloneAndStdoutKeepsTheRest) {
  ProcessSpec spec =
      Bash("echo out; echo err >&2; head -c 200000 /dev/zero >&2; echo out2; exit 4");
  std::string err;
  spec.stderr_output = [&err](std::string_view c) { err.append(c); };
  Captured c = RunSpec(spec);
  ASSERT_TRUE(c.result.ok()) << c.result.status().message();
  EXPECT_EQ(c.result->exit_code, 4);
  EXPECT_EQ(c.output, "out\nout2\n");
  // More than a pipe holds: both pipes are read while the child writes.
  EXPECT_EQ(err, "err\n" + std::string(200000, '\0'));
}

TEST(SubprocessTest, DiscardStderrDropsIt) {
  ProcessSpec spec = Bash("echo out; echo err >&2");
  spec.discard_stderr = true;
  Captured c = RunSpec(spec);
  ASSERT_TRUE(c.result.ok());
  EXPECT_EQ(c.output, "out\n");
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

// The same runner under each containment (containment_test_util.h).
class ContainedRunTest : public ::testing::TestWithParam<NamedContainment> {
 protected:
  void SetUp() override { SLIPWAY_SKIP_WITHOUT_CGROUP(GetParam()); }

  // With cancel_on_ready, cancels it once the output has a line "ready".
  Captured Run(const ProcessSpec& spec, CancelToken* cancel_on_ready = nullptr) {
    PosixProcessRunner runner(GetParam().containment);
    std::string out;
    StatusOr<ProcessResult> r = runner.Run(
        spec,
        [&](std::string_view c) {
          out.append(c);
          if (cancel_on_ready && out.find("ready\n") != std::string::npos) {
            cancel_on_ready->Cancel();
          }
        },
        cancel_on_ready);
    return {std::move(r), std::move(out)};
  }

  // Runs script after EscapingCommands and checks that none of the three
  // escaping processes runs once Run returned.
  Captured ExpectNothingOutlives(const std::string& script,
                                 std::optional<std::chrono::milliseconds> timeout = {},
                                 bool cancel_when_ready = false) {
    TempDir dir;
    ProcessSpec spec = Bash(EscapingCommands(dir.path()) + script);
    spec.timeout = timeout;
    spec.kill_grace = std::chrono::milliseconds(200);
    CancelToken cancel;
    Captured c = Run(spec, cancel_when_ready ? &cancel : nullptr);
    EXPECT_TRUE(c.result.ok()) << c.result.status().message();
    for (pid_t pid : EscapedPids(dir.path())) {
      EXPECT_FALSE(ProcessAlive(pid)) << "pid " << pid << " outlived the job";
      if (ProcessAlive(pid)) kill(pid, SIGKILL);
    }
    return c;
  }
};

TEST_P(ContainedRunTest, NothingOutlivesASuccessfulJob) {
  Captured c = ExpectNothingOutlives("echo done");
  ASSERT_TRUE(c.result.ok());
  EXPECT_EQ(c.result->exit_code, 0);
}

TEST_P(ContainedRunTest, NothingOutlivesAFailedJob) {
  Captured c = ExpectNothingOutlives("exit 3");
  ASSERT_TRUE(c.result.ok());
  EXPECT_EQ(c.result->exit_code, 3);
}

TEST_P(ContainedRunTest, NothingOutlivesATimeout) {
  // Long enough for the three processes to start first (the job waits for
  // them before it sleeps); were it not, their pid files would be missing.
  Captured c = ExpectNothingOutlives("echo ready; sleep 1000", std::chrono::milliseconds(3000));
  ASSERT_TRUE(c.result.ok());
  EXPECT_TRUE(c.result->timed_out);
  EXPECT_EQ(c.output, "ready\n");
}

TEST_P(ContainedRunTest, NothingOutlivesACancel) {
  Captured c = ExpectNothingOutlives("echo ready; sleep 1000", {}, /*cancel_when_ready=*/true);
  ASSERT_TRUE(c.result.ok());
  EXPECT_TRUE(c.result->canceled);
}

TEST_P(ContainedRunTest, SigkillAfterGraceWhenTermIsIgnored) {
  ProcessSpec spec = Bash("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  spec.timeout = std::chrono::milliseconds(100);
  spec.kill_grace = std::chrono::milliseconds(200);
  Captured c = Run(spec);
  ASSERT_TRUE(c.result.ok());
  EXPECT_TRUE(c.result->timed_out);
  EXPECT_EQ(c.result->exit_code, 128 + SIGKILL);
}

TEST_P(ContainedRunTest, TermEndsTheJobWithItsStatus) {
  ProcessSpec spec = Bash("echo started; sleep 1000");
  spec.timeout = std::chrono::milliseconds(200);
  Captured c = Run(spec);
  ASSERT_TRUE(c.result.ok());
  EXPECT_TRUE(c.result->timed_out);
  EXPECT_EQ(c.result->exit_code, 128 + SIGTERM);
  EXPECT_EQ(c.output, "started\n");
}

TEST_P(ContainedRunTest, StartErrorsNameTheCommand) {
  ProcessSpec missing;
  missing.argv = {"/nonexistent/slipway-no-such-program"};
  Captured c = Run(missing);
  ASSERT_FALSE(c.result.ok());
  EXPECT_EQ(c.result.status().message(),
            "cannot start '/nonexistent/slipway-no-such-program': No such file or directory");
  ProcessSpec no_dir = Bash("true");
  no_dir.cwd = "/nonexistent-slipway-dir";
  c = Run(no_dir);
  ASSERT_FALSE(c.result.ok());
  EXPECT_EQ(c.result.status().message(),
            "cannot start 'bash' in /nonexistent-slipway-dir: No such file or directory");
}

// The job sees its own descriptors only, not one slipway left open without
// close-on-exec (nor any other: the child closes all above 2).
TEST_P(ContainedRunTest, JobInheritsNoDescriptorButTheStandardOnes) {
  int leaked = open("/dev/null", O_RDONLY);  // Deliberately not O_CLOEXEC.
  ASSERT_GE(leaked, 3);
  Captured c = Run(Bash("ls /proc/self/fd | sort -n | tr '\\n' ' '"));
  close(leaked);
  ASSERT_TRUE(c.result.ok());
  // 3 is the directory ls reads.
  EXPECT_EQ(c.output, "0 1 2 3 ");
}

TEST_P(ContainedRunTest, RunsAsAnotherUserWithItsGroups) {
  if (geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  TempDir dir;
  ProcessSpec spec = Bash("id -u; id -g; id -G; grep -c . " + dir.path() + "/secret || true");
  spec.cwd = "/";
  spec.credentials = Credentials{65534, 65534, {65534, 100}};
  ASSERT_TRUE(std::ofstream(dir.Sub("secret")) << "root only\n");
  chmod(dir.Sub("secret").c_str(), 0600);
  Captured c = Run(spec);
  ASSERT_TRUE(c.result.ok()) << c.result.status().message();
  EXPECT_EQ(c.output.substr(0, c.output.find("grep")), "65534\n65534\n65534 100\n");
  EXPECT_NE(c.output.find("Permission denied"), std::string::npos) << c.output;
}

INSTANTIATE_TEST_SUITE_P(AllPaths, ContainedRunTest, ::testing::ValuesIn(AllContainments()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace slipway
