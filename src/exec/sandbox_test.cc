// Attacks on the sandbox executor with real bwrap and real processes: each
// test tries an escape a job could attempt and checks the host did not
// notice. Needs bwrap (scripts/install-deps.sh) and, for most, root.
#include "exec/sandbox.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "exec/sandbox_test_util.h"
#include "util/cgroup.h"
#include "util/containment.h"
#include "util/spawn.h"
#include "util/test_wait.h"
#include "util/unique_fd.h"

namespace slipway {
namespace {

using SandboxTest = SandboxFixture;

TEST_F(SandboxTest, RunsTheScriptInTheWorkspace) {
  JobResult r = Run(
      MakeJob({"cat greeting.txt", "test \"$PWD\" = \"$CI_PROJECT_DIR\"", "echo made > made.txt"}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_NE(Log().find("\nhello\n"), std::string::npos) << Log();
}

// The workspace's .git borrows the project's objects, which are under
// /tmp here: the sandbox's private /tmp must not hide them.
TEST_F(SandboxTest, GitWorksInTheWorkspace) {
  JobResult r =
      Run(MakeJob({"git log --format=%s -1", "! touch \"$(cat .git/objects/info/alternates)/x\""}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_NE(Log().find("\ninit\n"), std::string::npos) << Log();
}

TEST_F(SandboxTest, CannotWriteOutsideItsWorkspace) {
  std::string home = std::getenv("HOME") != nullptr ? std::getenv("HOME") : "/root";
  std::string marker = "slipway-escape-" + std::to_string(getpid());
  Job job = MakeJob({
      "! touch /etc/" + marker,
      "! touch /usr/" + marker,
      // slipway's own HOME is an empty tmpfs (the user's keys stay out);
      // the job's HOME is its own directory, and the run's state an empty
      // tmpfs: writes there vanish.
      "test -z \"$(ls -A " + home + ")\"",
      "test \"$HOME\" != " + home,
      "touch \"$HOME/" + marker + "\"",
      "touch \"$CI_BUILDS_DIR/../" + marker + "\"",
      "! mount -o remount,rw /",
      "! touch /etc/" + marker,
  });
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_FALSE(std::filesystem::exists("/etc/" + marker));
  EXPECT_FALSE(std::filesystem::exists("/usr/" + marker));
  EXPECT_FALSE(std::filesystem::exists(home + "/" + marker));
  EXPECT_FALSE(std::filesystem::exists(outside_.Sub("run/" + marker)));
}

TEST_F(SandboxTest, CannotReadAnotherJobsWorkspaceOrTheSnapshot) {
  // Another job's slot and the run's other files, on the host.
  ASSERT_EQ(Sh(outside_.Sub(""),
               "mkdir -p run/builds/7/project && echo secret > "
               "run/builds/7/project/secret && echo report > run/other.txt"),
            0);
  JobResult r = Run(MakeJob({"! cat \"$CI_BUILDS_DIR/7/project/secret\"",
                             "! cat \"$CI_BUILDS_DIR/../other.txt\"", "ls -a \"$CI_BUILDS_DIR\""}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_EQ(Log().find("secret\n"), std::string::npos) << Log();
}

TEST_F(SandboxTest, SeesOnlyItsOwnProcesses) {
  pid_t self = getpid();
  JobResult r = Run(MakeJob({"! test -e /proc/" + std::to_string(self),
                             "test \"$(ls /proc | grep -c '^[0-9]')\" -lt 10"}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
}

TEST_F(SandboxTest, GetsNothingFromTheHostEnvironment) {
  setenv("SLIPWAY_SANDBOX_LEAK", "leaked", 1);
  Job job = MakeJob({"env | sort"});
  job.variables.Set("MINE", "mine");
  JobResult r = Run(job);
  unsetenv("SLIPWAY_SANDBOX_LEAK");
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_EQ(Log().find("leaked"), std::string::npos) << Log();
  EXPECT_NE(Log().find("MINE=mine"), std::string::npos) << Log();
}

// A TCP server on the host's loopback; whether anything connected.
class LoopbackServer {
 public:
  explicit LoopbackServer(const char* address = "127.0.0.1") {
    fd_ = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, address, &addr.sin_addr);
    EXPECT_EQ(bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_.get(), 8), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  int port() const { return port_; }
  bool Connected() {
    UniqueFd conn(accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    return conn.valid();
  }

 private:
  UniqueFd fd_;
  int port_ = 0;
};

std::string ConnectCommand(const std::string& host, int port) {
  return "timeout 10 bash -c 'exec 3<>/dev/tcp/" + host + "/" + std::to_string(port) + "'";
}

TEST_F(SandboxTest, CannotReachTheHostsLoopbackWithoutNetwork) {
  LoopbackServer server;
  JobResult r = Run(MakeJob({"! " + ConnectCommand("127.0.0.1", server.port())}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_FALSE(server.Connected());
}

TEST_F(SandboxTest, CannotReachTheHostsLoopbackThroughSlirp) {
  options_.network = "slirp";
  LoopbackServer server;
  // 10.0.2.2 is slirp's gateway, which is the host's loopback unless
  // --disable-host-loopback.
  JobResult r = Run(MakeJob({"! " + ConnectCommand("127.0.0.1", server.port()),
                             "! " + ConnectCommand("10.0.2.2", server.port())}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_FALSE(server.Connected());
}

// The host's first non-loopback IPv4 address, or "" when it has none.
std::string HostAddress() {
  std::string out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr && out.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof(text));
    if (std::string(text).rfind("127.", 0) != 0) out = text;
  }
  freeifaddrs(list);
  return out;
}

TEST_F(SandboxTest, SlirpGivesOutboundAccessAndNoneDoesNot) {
  std::string address = HostAddress();
  if (address.empty()) GTEST_SKIP() << "no non-loopback address";
  LoopbackServer server("0.0.0.0");
  Job job = MakeJob({ConnectCommand(address, server.port())});
  job.variables.Set("SLIPWAY_SANDBOX_NETWORK", "slirp");
  EXPECT_EQ(Run(job).outcome, JobOutcome::kSuccess) << Log();
  EXPECT_TRUE(WaitFor([&] { return server.Connected(); }));
  job.variables.Set("SLIPWAY_SANDBOX_NETWORK", "none");
  EXPECT_EQ(Run(job).outcome, JobOutcome::kFailed) << Log();
  EXPECT_FALSE(server.Connected());
}

TEST_F(SandboxTest, AnUnknownNetworkSettingFailsTheJob) {
  Job job = MakeJob({"true"});
  job.variables.Set("SLIPWAY_SANDBOX_NETWORK", "host");
  JobResult r = Run(job);
  EXPECT_EQ(r.failure_reason, "runner_system_failure");
  EXPECT_NE(Log().find("job job: SLIPWAY_SANDBOX_NETWORK must be none or slirp, not 'host'"),
            std::string::npos)
      << Log();
}

TEST_F(SandboxTest, LeavesNoProcessBehind) {
  std::string marker = "slipway-sandbox-left-" + std::to_string(getpid());
  std::string start = "exec -a " + marker + " sleep 1000";
  JobResult r =
      Run(MakeJob({"(setsid bash -c '" + start + "' > /dev/null 2>&1 &)",
                   "nohup bash -c '" + start + "' > /dev/null 2>&1 &",
                   // Both run before the job ends.
                   "until [ \"$(pgrep -c -f " + marker + ")\" = 2 ]; do sleep 0.1; done"}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_FALSE(RunningOnHost(marker));
}

TEST_F(SandboxTest, CancelKillsEverythingInside) {
  std::string marker = "slipway-sandbox-cancel-" + std::to_string(getpid());
  sink_.on_write_ = [&](const std::string& text) {
    if (text.find("\nready-to-cancel\n") != std::string::npos) cancel_.Cancel();
  };
  JobResult r =
      Run(MakeJob({"(setsid bash -c 'exec -a " + marker + " sleep 1000' &)",
                   "until pgrep -f " + marker + " > /dev/null; do sleep 0.1; done",
                   "printf '%s-to-cancel\\n' ready", "exec -a " + marker + " sleep 1000"}));
  EXPECT_EQ(r.outcome, JobOutcome::kCanceled) << Log();
  EXPECT_FALSE(RunningOnHost(marker));
}

TEST_F(SandboxTest, TimeoutKillsEverythingInside) {
  std::string marker = "slipway-sandbox-timeout-" + std::to_string(getpid());
  JobResult r = Run(MakeJob({"bash -c 'exec -a " + marker + " sleep 1000' &",
                             "exec -a " + marker + " sleep 1000"}),
                    std::chrono::milliseconds(1500));
  EXPECT_EQ(r.failure_reason, "job_execution_timeout") << Log();
  EXPECT_FALSE(RunningOnHost(marker));
}

bool MemoryControllerDelegated() {
  const Containment& c = DefaultContainment();
  return c.kind == ContainmentKind::kCgroup &&
         HasController(SubtreeControllers(c.cgroup_parent), "memory");
}

TEST_F(SandboxTest, MemoryLimitStopsAJobThatAllocatesMore) {
  options_.memory_bytes = 256 << 20;
  // 400 MB of text in one bash variable: past the limit, bash cannot grow.
  std::string allocate = "x=$(head -c 400000000 /dev/zero | tr '\\0' a); echo ${#x}";
  JobResult r = Run(MakeJob({allocate}));
  EXPECT_EQ(r.outcome, JobOutcome::kFailed) << Log();
  EXPECT_EQ(Log().find("\n400000000\n"), std::string::npos) << Log();
  // The log says how the limit applies: the job's cgroup where the host
  // delegates the memory controller (the kernel kills the job), else an
  // rlimit per process (bash cannot allocate).
  if (MemoryControllerDelegated()) {
    EXPECT_NE(Log().find("Limits: memory 256 MiB for the whole job (cgroup v2 memory.max)"),
              std::string::npos)
        << Log();
  } else {
    EXPECT_NE(Log().find("Limits: memory 256 MiB per process (RLIMIT_AS; the cgroup v2 memory "
                         "controller "),
              std::string::npos)
        << Log();
    EXPECT_NE(Log().find("cannot allocate"), std::string::npos) << Log();
  }
}

// A CPU bandwidth limit needs the cgroup's cpu controller; without it the
// job runs, and its log says the limit was not applied and why.
TEST_F(SandboxTest, ACpuLimitIsTheCgroupsOrAWarningSayingWhyNot) {
  options_.cpu_millis = 500;
  JobResult r = Run(MakeJob({"echo ran"}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  const Containment& c = DefaultContainment();
  bool delegated = c.kind == ContainmentKind::kCgroup &&
                   HasController(SubtreeControllers(c.cgroup_parent), "cpu");
  EXPECT_NE(Log().find(delegated ? "Limits: 0.5 CPUs for the whole job (cgroup v2 cpu.max)"
                                 : "Limits: WARNING: 0.5 CPUs not applied (the cgroup v2 cpu "
                                   "controller "),
            std::string::npos)
      << Log();
}

TEST(SandboxByteSizeTest, ParsesSuffixes) {
  EXPECT_EQ(*ParseByteSize("1048576"), 1048576u);
  EXPECT_EQ(*ParseByteSize("512M"), 512ull << 20);
  EXPECT_EQ(*ParseByteSize("2G"), 2ull << 30);
  EXPECT_EQ(ParseByteSize("2GB").status().message(),
            "'2GB' is not a size (a number, optionally with K, M, G or T)");
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_FALSE(ParseByteSize("M").ok());
}

}  // namespace
}  // namespace slipway
