#include "util/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "util/children.h"

namespace slipway {
namespace {

// Runs request with stdout (and stderr) on a pipe; returns what it printed
// and its exit code.
struct Ran {
  std::string output;
  int exit_code = -1;
  std::string error;
};

Ran RunToEnd(SpawnRequest request) {
  Ran ran;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return ran;
  request.stdout_fd = out[1];
  if (request.stderr_fd == -2) request.stderr_fd = out[1];
  StatusOr<pid_t> pid = Spawn(request);
  close(out[1]);
  if (pid.ok()) {
    char buffer[4096];
    ssize_t n;
    while ((n = read(out[0], buffer, sizeof buffer)) > 0) ran.output.append(buffer, n);
    ran.exit_code = ExitCodeOf(ReapChild(*pid));
  } else {
    ran.error = pid.status().message();
  }
  close(out[0]);
  return ran;
}

SpawnRequest Sh(const std::string& script) {
  SpawnRequest request;
  request.argv = {"sh", "-c", script};
  request.env = {"PATH=/usr/bin:/bin", "GIVEN=yes"};
  request.stderr_fd = -2;  // RunToEnd: stderr with stdout.
  return request;
}

TEST(SpawnTest, RunsTheCommandWithExactlyTheGivenEnvironment) {
  setenv("SLIPWAY_SPAWN_LEAK", "leaked", 1);
  Ran ran = RunToEnd(Sh("echo \"$GIVEN ${SLIPWAY_SPAWN_LEAK-unset}\"; exit 4"));
  unsetenv("SLIPWAY_SPAWN_LEAK");
  EXPECT_EQ(ran.output, "yes unset\n");
  EXPECT_EQ(ran.exit_code, 4);
}

// A descriptor this process opened without close-on-exec (here on purpose;
// in slipway, one another thread opened a moment before fcntl) is closed in
// the child: only 0, 1 and 2 arrive.
TEST(SpawnTest, ChildGetsNoDescriptorAboveTwo) {
  int leaked = open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 3);
  Ran ran = RunToEnd(Sh("ls /proc/self/fd | sort -n | tr '\\n' ' '"));
  close(leaked);
  EXPECT_EQ(ran.output, "0 1 2 3 ");  // 3: the directory ls lists.
}

TEST(SpawnTest, Fd3IsPassedWhenAsked) {
  int extra[2];
  ASSERT_EQ(pipe2(extra, O_CLOEXEC), 0);
  SpawnRequest request = Sh("echo to-fd3 >&3");
  request.fd3 = extra[1];
  Ran ran = RunToEnd(request);
  close(extra[1]);
  char buffer[64] = {};
  ssize_t n = read(extra[0], buffer, sizeof buffer - 1);
  close(extra[0]);
  EXPECT_EQ(std::string(buffer, n > 0 ? n : 0), "to-fd3\n");
  EXPECT_EQ(ran.exit_code, 0);
}

TEST(SpawnTest, StandardDescriptorsMayBeAnyDescriptors) {
  // stdin from a pipe whose descriptor number may collide with 0..2.
  int in[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(write(in[1], "from stdin\n", 11), 11);
  close(in[1]);
  SpawnRequest request = Sh("cat");
  request.stdin_fd = in[0];
  Ran ran = RunToEnd(request);
  close(in[0]);
  EXPECT_EQ(ran.output, "from stdin\n");
}

// Signals slipway ignores or blocks are the defaults again in the child.
TEST(SpawnTest, SignalDispositionsAndMaskAreReset) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_pipe {};
  sigaction(SIGPIPE, &ignore, &old_pipe);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  Ran ran = RunToEnd(Sh("grep -E '^Sig(Blk|Ign)' /proc/self/status"));
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGPIPE, &old_pipe, nullptr);
  EXPECT_EQ(ran.output, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST(SpawnTest, ProcessGroupIsNewOnlyWhenAsked) {
  Ran own = RunToEnd(Sh("ps -o pgid= -p $$ | tr -d ' '; echo $$"));
  size_t nl = own.output.find('\n');
  ASSERT_NE(nl, std::string::npos) << own.output;
  EXPECT_EQ(own.output.substr(0, nl) + "\n", own.output.substr(nl + 1));
  SpawnRequest same = Sh("ps -o pgid= -p $$ | tr -d ' '");
  same.new_process_group = false;
  EXPECT_EQ(RunToEnd(same).output, std::to_string(getpgrp()) + "\n");
}

TEST(SpawnTest, SessionIsNewOnlyWhenAsked) {
  SpawnRequest own = Sh("ps -o sid=,pgid= -p $$ | tr -s ' ' | sed 's/^ //'; echo $$ $$");
  own.new_session = true;
  Ran ran = RunToEnd(own);
  size_t nl = ran.output.find('\n');
  ASSERT_NE(nl, std::string::npos) << ran.output;
  EXPECT_EQ(ran.output.substr(0, nl) + "\n", ran.output.substr(nl + 1));
  SpawnRequest same = Sh("ps -o sid= -p $$ | tr -d ' '");
  EXPECT_EQ(RunToEnd(same).output, std::to_string(getsid(0)) + "\n");
}

TEST(SpawnTest, ErrorsNameTheCommandTheDirectoryAndTheReason) {
  SpawnRequest missing = Sh("true");
  missing.argv = {"slipway-no-such-program-anywhere"};
  EXPECT_EQ(RunToEnd(missing).error,
            "cannot start 'slipway-no-such-program-anywhere': No such file or directory");
  SpawnRequest no_dir = Sh("true");
  no_dir.cwd = "/nonexistent-slipway-dir";
  no_dir.name = "job script";
  EXPECT_EQ(RunToEnd(no_dir).error,
            "cannot start 'job script' in /nonexistent-slipway-dir: No such file or directory");
  char plain[] = "/tmp/slipway-spawn-XXXXXX";  // Mode 0600: not executable.
  int fd = mkstemp(plain);
  ASSERT_GE(fd, 0);
  close(fd);
  SpawnRequest not_executable = Sh("true");
  not_executable.argv = {plain};
  EXPECT_EQ(RunToEnd(not_executable).error,
            "cannot start '" + std::string(plain) + "': Permission denied");
  unlink(plain);
}

TEST(SpawnTest, SearchesPathLikeExecvp) {
  EXPECT_EQ(ResolveExecutable("sh").substr(0, 1), "/");
  EXPECT_EQ(ResolveExecutable("slipway-no-such-program-anywhere"),
            "slipway-no-such-program-anywhere");
  EXPECT_EQ(ResolveExecutable("./relative"), "./relative");
}

TEST(SpawnTest, SwitchesUserAndGroups) {
  if (geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  SpawnRequest request = Sh("id -u; id -g; id -G");
  request.credentials = Credentials{65534, 65534, {65534, 100}};
  request.cwd = "/";
  Ran ran = RunToEnd(request);
  EXPECT_EQ(ran.output, "65534\n65534\n65534 100\n") << ran.error;
}

// The umask is the child's alone: slipway's own stays as it was.
TEST(SpawnTest, GivesTheChildItsUmask) {
  mode_t own = umask(077);
  SpawnRequest request = Sh("umask");
  request.umask = 022;
  EXPECT_EQ(RunToEnd(request).output, "0022\n");
  request.umask.reset();
  EXPECT_EQ(RunToEnd(request).output, "0077\n");  // Unset: inherited.
  EXPECT_EQ(umask(own), 077u);
}

// The parent-death signal follows the thread that spawned: here it exits
// at once, and the child, which would sleep, is killed.
TEST(SpawnTest, ParentDeathSignalKillsTheChildWhenTheSpawningThreadEnds) {
  StatusOr<pid_t> pid = Status::Error("not run");
  std::thread spawner([&] {
    SpawnRequest request = Sh("exec sleep 1000");
    request.parent_death_signal = SIGKILL;
    pid = Spawn(request);
  });
  spawner.join();
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  int status = ReapChild(*pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(ChildrenTest, StrayChildrenAreKilledAndSpawnedOnesAreNot) {
  pid_t stray = fork();  // Not through Spawn: not registered.
  if (stray == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(stray, 0);
  SpawnRequest request = Sh("exec sleep 1000");
  StatusOr<pid_t> spawned = Spawn(request);
  ASSERT_TRUE(spawned.ok());
  std::vector<pid_t> children = ListChildren();
  EXPECT_NE(std::find(children.begin(), children.end(), stray), children.end());
  EXPECT_NE(std::find(children.begin(), children.end(), *spawned), children.end());
  EXPECT_TRUE(IsSpawnedChild(*spawned));
  EXPECT_FALSE(IsSpawnedChild(stray));

  EXPECT_EQ(KillStrayChildren(), 1);
  EXPECT_EQ(waitpid(stray, nullptr, WNOHANG), -1);  // Reaped already.
  EXPECT_EQ(kill(*spawned, 0), 0);
  kill(*spawned, SIGKILL);
  ReapChild(*spawned);
  EXPECT_FALSE(IsSpawnedChild(*spawned));
}

}  // namespace
}  // namespace slipway
