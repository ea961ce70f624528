#include "util/cgroup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "util/children.h"
#include "util/containment.h"
#include "util/spawn.h"
#include "util/test_dir.h"
#include "util/test_wait.h"
#include "util/unique_fd.h"

namespace slipway {
namespace {

// Tests of the cgroup itself; they need the cgroup path to be usable here.
class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (DefaultContainment().kind != ContainmentKind::kCgroup) {
      GTEST_SKIP() << "no cgroup v2 here: " << DefaultContainment().Describe();
    }
    parent_ = DefaultContainment().cgroup_parent;
  }

  // Starts `bash -c script` in cgroup; returns its pid.
  pid_t StartIn(const JobCgroup& cgroup, const std::string& script, bool by_write = false) {
    SpawnRequest request;
    request.argv = {"bash", "-c", script};
    request.env = {"PATH=/usr/bin:/bin"};
    request.cgroup_dir_fd = cgroup.dir_fd();
    request.join_cgroup_by_write = by_write;
    StatusOr<pid_t> pid = Spawn(request);
    EXPECT_TRUE(pid.ok()) << pid.status().message();
    return pid.ok() ? *pid : -1;
  }

  std::string parent_;
};

TEST_F(CgroupTest, OwnCgroupIsWhereProcSelfCgroupSaysWeAre) {
  StatusOr<std::string> own = OwnCgroupDir();
  ASSERT_TRUE(own.ok()) << own.status().message();
  std::string self = Slurp("/proc/self/cgroup");
  size_t at = self.find("0::");
  ASSERT_NE(at, std::string::npos);
  std::string path = self.substr(at + 3, self.find('\n', at) - at - 3);
  if (path == "/") path.clear();
  EXPECT_EQ(own->substr(own->size() - path.size()), path);
  struct stat st;
  EXPECT_EQ(stat((*own + "/cgroup.procs").c_str(), &st), 0);
}

// Whichever way the child joins, it runs inside the cgroup from its first
// instruction, so does what it starts after a setsid, and a kill takes all.
TEST_F(CgroupTest, ChildStartsInsideAndEverythingInItIsKilled) {
  for (bool by_write : {false, true}) {
    for (bool freeze : {false, true}) {
      StatusOr<std::unique_ptr<JobCgroup>> cgroup = JobCgroup::Create(parent_, !freeze);
      ASSERT_TRUE(cgroup.ok()) << cgroup.status().message();
      std::string name = (*cgroup)->path().substr(parent_.size());
      pid_t pid = StartIn(**cgroup, "setsid sleep 1000 & exec sleep 1000", by_write);
      ASSERT_GT(pid, 0);
      EXPECT_NE(Slurp("/proc/" + std::to_string(pid) + "/cgroup").find("0::" + name + "\n"),
                std::string::npos)
          << name;
      ASSERT_TRUE(WaitFor([&] { return (*cgroup)->CountProcesses() == 2; }));
      (*cgroup)->KillAll();
      (*cgroup)->WaitEmpty();
      EXPECT_EQ((*cgroup)->CountProcesses(), 0);
      int status = ReapChild(pid);
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      std::string path = (*cgroup)->path();
      cgroup->reset();
      struct stat st;
      EXPECT_NE(stat(path.c_str(), &st), 0) << path << " was not removed";
    }
  }
}

// A cgroup named after a slipway process that no longer runs (killed with
// SIGKILL while its job ran) is emptied and removed; one of a slipway that
// runs (this process) is left alone.
TEST_F(CgroupTest, StaleJobCgroupsOfDeadSlipwaysAreKilled) {
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  std::string stale_path = parent_ + "/slipway-" + std::to_string(dead) + "-1-1";
  ASSERT_EQ(mkdir(stale_path.c_str(), 0755), 0);
  StatusOr<std::unique_ptr<JobCgroup>> stale = JobCgroup::Open(stale_path);
  ASSERT_TRUE(stale.ok());
  pid_t left = StartIn(**stale, "exec sleep 1000");
  StatusOr<std::unique_ptr<JobCgroup>> ours = JobCgroup::Create(parent_);
  ASSERT_TRUE(ours.ok());
  pid_t kept = StartIn(**ours, "exec sleep 1000");

  // At least ours (another slipway on this machine may have left some).
  EXPECT_GE(KillStaleJobCgroups(parent_), 1);
  int status = ReapChild(left);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  struct stat st;
  EXPECT_NE(stat(stale_path.c_str(), &st), 0);
  EXPECT_TRUE(ProcessAlive(kept));
  ours->reset();  // Kills it.
  ReapChild(kept);
}

// Two slipways may empty the same stale cgroup at once (each that starts
// removes those of dead slipways): the one whose cgroup the other removed
// while it waited must not wait forever (it once spun, and `slipway run` with
// it). Repeated, as the removal has to fall between two reads of the events
// file; a regression hangs here until the test's timeout.
TEST_F(CgroupTest, WaitingEndsWhenAnotherSlipwayRemovesTheCgroup) {
  for (int round = 0; round < 20; ++round) {
    StatusOr<std::unique_ptr<JobCgroup>> cgroup = JobCgroup::Create(parent_);
    ASSERT_TRUE(cgroup.ok()) << cgroup.status().message();
    pid_t pid = StartIn(**cgroup, "exec sleep 1000");
    ASSERT_TRUE(WaitFor([&] { return (*cgroup)->CountProcesses() == 1; }));
    std::string path = (*cgroup)->path();
    std::thread other([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(round % 5));
      kill(pid, SIGKILL);
      // As soon as it is empty, before the waiter reads its events again.
      while (rmdir(path.c_str()) != 0 && errno != ENOENT) std::this_thread::yield();
    });
    (*cgroup)->WaitEmpty();
    other.join();
    cgroup->reset();  // Destroy: already removed.
    ReapChild(pid);
    struct stat st;
    EXPECT_NE(stat(path.c_str(), &st), 0);
  }
}

// The files the kernel reads limits from, written as it expects them. This
// host's cgroup v2 has no memory or cpu controller for slipway (they are
// bound to cgroup v1 hierarchies), so the files are those a cgroup
// directory has, in a temporary directory; where the controllers are
// delegated, SandboxLimitsTest runs a job under them.
TEST(CgroupLimitsTest, LimitsAreWrittenAsTheKernelReadsThem) {
  TempDir dir;
  for (const char* file : {"memory.max", "memory.swap.max", "cpu.max"}) {
    std::ofstream(dir.Sub(file)) << "max\n";
  }
  UniqueFd fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  CgroupLimits limits;
  limits.memory_bytes = 512 << 20;
  limits.cpu_millis = 1500;
  Status s = WriteCgroupLimits(fd.get(), limits);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Slurp(dir.Sub("memory.max")), "536870912");
  EXPECT_EQ(Slurp(dir.Sub("memory.swap.max")), "0");
  EXPECT_EQ(Slurp(dir.Sub("cpu.max")), "150000 100000");

  // No swap accounting: memory.swap.max is absent, which is fine; a cgroup
  // without the memory controller has no memory.max, which is an error.
  std::filesystem::remove(dir.Sub("memory.swap.max"));
  EXPECT_TRUE(WriteCgroupLimits(fd.get(), limits).ok());
  std::filesystem::remove(dir.Sub("memory.max"));
  s = WriteCgroupLimits(fd.get(), limits);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "cannot set the cgroup's memory.max: No such file or directory");
  EXPECT_TRUE(WriteCgroupLimits(fd.get(), CgroupLimits()).ok()) << "no limits: nothing written";
}

TEST(CgroupLimitsTest, ControllersAreTheParentsSubtreeControl) {
  TempDir dir;
  EXPECT_EQ(SubtreeControllers(dir.path()), "") << "unreadable: none";
  std::ofstream(dir.Sub("cgroup.subtree_control")) << "cpu memory pids\n";
  std::string controllers = SubtreeControllers(dir.path());
  EXPECT_EQ(controllers, "cpu memory pids");
  EXPECT_TRUE(HasController(controllers, "memory"));
  EXPECT_TRUE(HasController(controllers, "cpu"));
  EXPECT_FALSE(HasController(controllers, "cpuset"));
  EXPECT_FALSE(HasController(controllers, "io"));
}

}  // namespace
}  // namespace slipway
