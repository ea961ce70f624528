#include "exec/workspace.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "exec/file_tree.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

class WorkspaceTest : public ::testing::Test {
 protected:
  std::string project() const { return tmp_.Sub("project"); }
  std::string run_dir() const { return tmp_.Sub("project/.slipway/runs/1"); }

  // Output of a command run in dir, or "<failed>".
  std::string Output(const std::string& dir, const std::vector<std::string>& argv) {
    StatusOr<std::string> out = RunTool(&runner_, argv, dir);
    return out.ok() ? *out : "<failed: " + out.status().message() + ">";
  }

  // Snapshots the project (at ref) and acquires a workspace (ws()) holding
  // it; returns the snapshot, or null after a test failure.
  std::shared_ptr<const Snapshot> MakeWorkspace(const std::string& ref = "") {
    StatusOr<std::shared_ptr<const Snapshot>> snapshot =
        factory_.GetSnapshot(project(), ref, run_dir());
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().message();
    if (!snapshot.ok()) return nullptr;
    StatusOr<std::string> acquired = factory_.Acquire(**snapshot, run_dir(), "project");
    EXPECT_TRUE(acquired.ok()) << acquired.status().message();
    if (!acquired.ok()) return nullptr;
    ws_ = *acquired;
    return *snapshot;
  }
  const std::string& ws() const { return ws_; }

  TempDir tmp_;
  PosixProcessRunner runner_;
  WorkspaceFactory factory_{&runner_};
  std::string ws_;
};

TEST_F(WorkspaceTest, WorkingTreeIncludesUntrackedAndUncommittedExcludesIgnored) {
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir project && cd project && git init -q
    echo "*.log" > .gitignore
    echo one > a.txt; echo two > b.txt; echo gone > e.txt
    mkdir -p sub && echo deep > sub/d.txt && printf "#!/bin/sh\n" > run.sh && chmod +x run.sh
    git add -A && git commit -qm init
    echo changed > b.txt; echo new > c.txt; echo noise > x.log; rm e.txt
    mkdir -p .slipway/runs && echo old > .slipway/runs/old.txt
  )"),
            0);
  std::shared_ptr<const Snapshot> snapshot = MakeWorkspace();
  ASSERT_NE(snapshot, nullptr);
  std::string ws = this->ws();

  EXPECT_EQ(Slurp(ws + "/a.txt"), "one\n");
  EXPECT_EQ(Slurp(ws + "/b.txt"), "changed\n");
  EXPECT_EQ(Slurp(ws + "/c.txt"), "new\n");
  EXPECT_EQ(Slurp(ws + "/sub/d.txt"), "deep\n");
  EXPECT_FALSE(PathExists(ws + "/x.log"));
  EXPECT_FALSE(PathExists(ws + "/e.txt"));
  EXPECT_FALSE(PathExists(ws + "/.slipway"));
  struct stat st;
  ASSERT_EQ(stat((ws + "/run.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);

  // git works inside the workspace and sees the developer's changes.
  std::string head = Output(project(), {"git", "rev-parse", "HEAD"});
  EXPECT_EQ(Output(ws, {"git", "rev-parse", "HEAD"}), head);
  EXPECT_EQ(Output(ws, {"git", "status", "--porcelain"}), " M b.txt\n D e.txt\n?? c.txt\n");
  EXPECT_EQ(snapshot->source_files.count("c.txt"), 1u);
  EXPECT_EQ(snapshot->source_files.count(".git/HEAD"), 0u);

  // A job's changes stay in its workspace: the project does not see them,
  // and the next job that gets this directory finds the snapshot again.
  std::string status = Output(ws, {"git", "status", "--porcelain"});
  ASSERT_EQ(Sh(ws,
               "echo job > a.txt; git -c user.name=j -c user.email=j@j commit -qam job; "
               "echo more > x.log; mkdir -p new/dir; echo n > new/dir/f; rm sub/d.txt"),
            0);
  EXPECT_EQ(Slurp(project() + "/a.txt"), "one\n");
  EXPECT_EQ(Output(project(), {"git", "rev-parse", "HEAD"}), head);
  factory_.Release(ws);
  StatusOr<std::string> again = factory_.Acquire(*snapshot, run_dir(), "project");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, ws);
  EXPECT_EQ(Slurp(ws + "/a.txt"), "one\n");
  EXPECT_EQ(Slurp(ws + "/sub/d.txt"), "deep\n");
  EXPECT_FALSE(PathExists(ws + "/x.log"));
  EXPECT_FALSE(PathExists(ws + "/new"));
  EXPECT_EQ(Output(ws, {"git", "rev-parse", "HEAD"}), head);
  EXPECT_EQ(Output(ws, {"git", "status", "--porcelain"}), status);

  // A second job at the same time gets a directory of its own.
  StatusOr<std::string> other = factory_.Acquire(*snapshot, run_dir(), "project");
  ASSERT_TRUE(other.ok()) << other.status().message();
  EXPECT_NE(*other, ws);
  EXPECT_EQ(Slurp(*other + "/a.txt"), "one\n");
}

TEST_F(WorkspaceTest, PoolAndSnapshotsAreRemovedWhenTheRunEnds) {
  ASSERT_EQ(Sh(tmp_.path(), "mkdir project && cd project && echo a > a.txt"), 0);
  {
    WorkspaceFactory factory(&runner_);
    StatusOr<std::shared_ptr<const Snapshot>> snapshot =
        factory.GetSnapshot(project(), "", run_dir());
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
    StatusOr<std::string> ws = factory.Acquire(**snapshot, run_dir(), "project");
    ASSERT_TRUE(ws.ok()) << ws.status().message();
    EXPECT_EQ(*ws, run_dir() + "/builds/0/project");
    EXPECT_EQ(Slurp(*ws + "/a.txt"), "a\n");
    ASSERT_TRUE(MakeDirs(run_dir() + "/jobs/j").ok());
  }
  EXPECT_FALSE(PathExists(run_dir() + "/builds"));
  EXPECT_FALSE(PathExists(run_dir() + "/source"));
  EXPECT_TRUE(PathExists(run_dir() + "/jobs/j"));
}

// One run of a factory with a state directory: the snapshot and the one
// workspace it used, and the ctime of a file in each.
struct PersistentRun {
  std::string workspace;
  timespec source_ctime{}, workspace_ctime{};
};

PersistentRun RunOnce(ProcessRunner* runner, const std::string& project, const std::string& state,
                      const std::string& run_dir, const std::string& ref,
                      const std::string& job_script) {
  PersistentRun out;
  WorkspaceFactory factory(runner, state);
  StatusOr<std::shared_ptr<const Snapshot>> snapshot = factory.GetSnapshot(project, ref, run_dir);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status().message();
  if (!snapshot.ok()) return out;
  StatusOr<std::string> ws = factory.Acquire(**snapshot, run_dir, "project");
  EXPECT_TRUE(ws.ok()) << ws.status().message();
  if (!ws.ok()) return out;
  out.workspace = *ws;
  struct stat st {};
  EXPECT_EQ(lstat(((*snapshot)->dir + "/keep.txt").c_str(), &st), 0);
  out.source_ctime = st.st_ctim;
  EXPECT_EQ(lstat((*ws + "/keep.txt").c_str(), &st), 0);
  out.workspace_ctime = st.st_ctim;
  EXPECT_EQ(Sh(*ws, job_script), 0);
  factory.Release(*ws);
  return out;
}

// With a state directory the snapshot and the workspaces outlive the run:
// the next run finds them, writes only what changed, and its jobs still see
// exactly the project.
TEST_F(WorkspaceTest, StateDirectoryKeepsSnapshotAndWorkspacesForTheNextRun) {
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir project && cd project && git init -q && echo k > keep.txt && echo v1 > a.txt
    echo gone > gone.txt && git add -A && git -c user.name=a -c user.email=a@a commit -qm one
  )"),
            0);
  std::string state = project() + "/.slipway";
  PersistentRun one = RunOnce(&runner_, project(), state, run_dir(), "",
                              "echo job > a.txt; echo junk > junk.txt; git tag from-job");
  EXPECT_EQ(one.workspace, state + "/builds/0/project");
  EXPECT_TRUE(PathExists(state + "/source/keep.txt"));
  EXPECT_TRUE(PathExists(state + "/builds/0/project.stamps"));
  EXPECT_FALSE(PathExists(run_dir() + "/builds"));

  usleep(30000);
  ASSERT_EQ(Sh(project(), "echo v2 > a.txt && rm gone.txt && echo new > new.txt"), 0);
  std::string run2 = tmp_.Sub("project/.slipway/runs/2");
  PersistentRun two = RunOnce(&runner_, project(), state, run2, "", "true");
  EXPECT_EQ(two.workspace, one.workspace);
  std::string ws = two.workspace;
  EXPECT_EQ(Slurp(ws + "/a.txt"), "v2\n");
  EXPECT_EQ(Slurp(ws + "/new.txt"), "new\n");
  EXPECT_FALSE(PathExists(ws + "/gone.txt"));
  EXPECT_FALSE(PathExists(ws + "/junk.txt"));
  EXPECT_EQ(Output(ws, {"git", "tag"}), "");
  EXPECT_EQ(Output(ws, {"git", "status", "--porcelain"}), " M a.txt\n D gone.txt\n?? new.txt\n");
  // keep.txt did not change: neither copy of it was written again.
  EXPECT_EQ(two.source_ctime.tv_nsec, one.source_ctime.tv_nsec);
  EXPECT_EQ(two.workspace_ctime.tv_nsec, one.workspace_ctime.tv_nsec);
}

// Two runs at once in one project: the second finds the snapshot and slot 0
// locked, makes its own snapshot under its run directory and takes slot 1.
TEST_F(WorkspaceTest, ConcurrentRunsDoNotShareSnapshotOrWorkspace) {
  ASSERT_EQ(Sh(tmp_.path(), "mkdir project && cd project && git init -q && echo k > keep.txt"), 0);
  std::string state = project() + "/.slipway";
  WorkspaceFactory first(&runner_, state);
  StatusOr<std::shared_ptr<const Snapshot>> a = first.GetSnapshot(project(), "", run_dir());
  ASSERT_TRUE(a.ok()) << a.status().message();
  StatusOr<std::string> ws_a = first.Acquire(**a, run_dir(), "project");
  ASSERT_TRUE(ws_a.ok());
  std::string run2 = tmp_.Sub("project/.slipway/runs/2");
  {
    WorkspaceFactory second(&runner_, state);
    StatusOr<std::shared_ptr<const Snapshot>> b = second.GetSnapshot(project(), "", run2);
    ASSERT_TRUE(b.ok()) << b.status().message();
    EXPECT_EQ((*a)->dir, state + "/source");
    EXPECT_EQ((*b)->dir, run2 + "/source");
    StatusOr<std::string> ws_b = second.Acquire(**b, run2, "project");
    ASSERT_TRUE(ws_b.ok());
    EXPECT_EQ(*ws_a, state + "/builds/0/project");
    EXPECT_EQ(*ws_b, state + "/builds/1/project");
    EXPECT_EQ(Slurp(*ws_b + "/keep.txt"), "k\n");
  }
  EXPECT_FALSE(PathExists(run2 + "/source"));
  EXPECT_TRUE(PathExists(state + "/builds/1/project/keep.txt"));
}

// What a job leaves that cannot be reconciled in place is replaced, and
// nothing outside the workspace is touched: not through a symlink that took
// the workspace's place, not in a directory the job made unreadable.
TEST_F(WorkspaceTest, WorkspaceReplacedBySymlinkOrLockedIsRebuiltWithoutFollowing) {
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir project && cd project && git init -q && mkdir sub && echo k > sub/keep.txt
    mkdir ../elsewhere && echo precious > ../elsewhere/precious.txt
  )"),
            0);
  ASSERT_NE(MakeWorkspace(), nullptr);
  std::string ws = this->ws();
  StatusOr<std::shared_ptr<const Snapshot>> snapshot =
      factory_.GetSnapshot(project(), "", run_dir());
  ASSERT_TRUE(snapshot.ok());
  for (const char* job : {"cd .. && rm -rf project && ln -s ../../../../../../elsewhere project",
                          "echo x > sub/new && chmod 000 sub", "chmod 000 ."}) {
    ASSERT_EQ(Sh(ws, job), 0) << job;
    factory_.Release(ws);
    StatusOr<std::string> again = factory_.Acquire(**snapshot, run_dir(), "project");
    ASSERT_TRUE(again.ok()) << job << ": " << again.status().message();
    EXPECT_EQ(*again, ws);
    EXPECT_EQ(Slurp(ws + "/sub/keep.txt"), "k\n") << job;
    EXPECT_FALSE(PathExists(ws + "/sub/new")) << job;
    EXPECT_EQ(Slurp(tmp_.Sub("elsewhere/precious.txt")), "precious\n") << job;
  }
}

// The snapshot can be started before the run directory exists (while the
// pipeline loads); the run then takes it, or makes its own if a concurrent
// run held the state directory; one nobody took is kept for the next run.
TEST_F(WorkspaceTest, PrefetchedSnapshotIsTakenByTheRunOrKeptForTheNext) {
  ASSERT_EQ(Sh(tmp_.path(), "mkdir project && cd project && git init -q && echo k > keep.txt"), 0);
  std::string state = project() + "/.slipway";
  {
    WorkspaceFactory factory(&runner_, state);
    factory.Prefetch(project());
    ASSERT_EQ(Sh(project(), "echo later > later.txt"), 0);  // After the snapshot began, maybe.
    StatusOr<std::shared_ptr<const Snapshot>> snapshot =
        factory.GetSnapshot(project(), "", run_dir());
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
    EXPECT_EQ((*snapshot)->dir, state + "/source");
    EXPECT_EQ(Slurp(state + "/source/keep.txt"), "k\n");
    {
      WorkspaceFactory concurrent(&runner_, state);
      concurrent.Prefetch(project());
      std::string run2 = tmp_.Sub("project/.slipway/runs/2");
      StatusOr<std::shared_ptr<const Snapshot>> own = concurrent.GetSnapshot(project(), "", run2);
      ASSERT_TRUE(own.ok()) << own.status().message();
      EXPECT_EQ((*own)->dir, run2 + "/source");
    }
  }
  {
    WorkspaceFactory unused(&runner_, state);
    unused.Prefetch(project());
  }
  WorkspaceFactory next(&runner_, state);
  StatusOr<std::shared_ptr<const Snapshot>> again = next.GetSnapshot(project(), "", run_dir());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ((*again)->dir, state + "/source");
  EXPECT_EQ(Slurp(state + "/source/later.txt"), "later\n");
}

// A commit's snapshot is kept too (one for any commit): the next run with
// another commit checks out only the difference.
TEST_F(WorkspaceTest, StateDirectoryKeepsTheSnapshotOfACommit) {
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir project && cd project && git init -q && echo k > keep.txt && echo v1 > a.txt
    git add -A && git -c user.name=a -c user.email=a@a commit -qm one && git tag v1
    echo v2 > a.txt && echo n > n.txt && git add -A && git -c user.name=a -c user.email=a@a commit -qm two
  )"),
            0);
  std::string state = project() + "/.slipway";
  PersistentRun one = RunOnce(&runner_, project(), state, run_dir(), "HEAD", "true");
  EXPECT_EQ(Slurp(one.workspace + "/a.txt"), "v2\n");
  ASSERT_EQ(Sh(project(), "git tag -d v1 >/dev/null"), 0);
  PersistentRun two =
      RunOnce(&runner_, project(), state, tmp_.Sub("project/.slipway/runs/2"), "HEAD~1", "true");
  EXPECT_EQ(Slurp(two.workspace + "/a.txt"), "v1\n");
  EXPECT_FALSE(PathExists(two.workspace + "/n.txt"));
  EXPECT_EQ(Output(two.workspace, {"git", "status", "--porcelain"}), "");
  EXPECT_EQ(Output(two.workspace, {"git", "tag"}), "");  // The deleted tag is gone.
  EXPECT_EQ(two.source_ctime.tv_nsec, one.source_ctime.tv_nsec);
}

TEST_F(WorkspaceTest, RefIsTheCommitExactly) {
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir project && cd project && git init -q
    echo v1 > a.txt && echo keep > k.txt && git add -A && git commit -qm one && git tag v1
    echo v2 > a.txt && git rm -q k.txt && echo n > n.txt && git add -A && git commit -qm two
    echo dirty > a.txt; echo untracked > u.txt
  )"),
            0);
  std::shared_ptr<const Snapshot> snapshot = MakeWorkspace("HEAD~1");
  ASSERT_NE(snapshot, nullptr);
  std::string ws = this->ws();
  EXPECT_EQ(Slurp(ws + "/a.txt"), "v1\n");
  EXPECT_EQ(Slurp(ws + "/k.txt"), "keep\n");
  EXPECT_FALSE(PathExists(ws + "/n.txt"));
  EXPECT_FALSE(PathExists(ws + "/u.txt"));
  EXPECT_EQ(Output(ws, {"git", "status", "--porcelain"}), "");
  EXPECT_EQ(Output(ws, {"git", "describe", "--tags"}), "v1\n");
  EXPECT_EQ(Output(ws, {"git", "rev-parse", "HEAD"}),
            Output(project(), {"git", "rev-parse", "HEAD~1"}));
}

TEST_F(WorkspaceTest, UnknownRefIsAnError) {
  ASSERT_EQ(Sh(tmp_.path(),
               "mkdir project && cd project && git init -q && touch a && "
               "git add a && git commit -qm one"),
            0);
  StatusOr<std::shared_ptr<const Snapshot>> snapshot =
      factory_.GetSnapshot(project(), "no-such-branch", run_dir());
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.status().message(), "--ref no-such-branch: not a commit in " + project());
}

TEST_F(WorkspaceTest, NonGitDirectoryIsCopiedWhole) {
  ASSERT_EQ(Sh(tmp_.path(),
               "mkdir -p project/d project/.slipway && echo x > project/d/f && "
               "echo y > project/.slipway/s"),
            0);
  std::shared_ptr<const Snapshot> snapshot = MakeWorkspace();
  ASSERT_NE(snapshot, nullptr);
  std::string ws = this->ws();
  EXPECT_EQ(Slurp(ws + "/d/f"), "x\n");
  EXPECT_FALSE(PathExists(ws + "/.slipway"));
}

TEST_F(WorkspaceTest, RepositoryWithoutCommitsWorks) {
  ASSERT_EQ(Sh(tmp_.path(), "mkdir project && cd project && git init -q && echo a > a.txt"), 0);
  std::shared_ptr<const Snapshot> snapshot = MakeWorkspace();
  ASSERT_NE(snapshot, nullptr);
  std::string ws = this->ws();
  EXPECT_EQ(Slurp(ws + "/a.txt"), "a\n");
  EXPECT_EQ(Output(ws, {"git", "status", "--porcelain"}), "?? a.txt\n");
}

TEST_F(WorkspaceTest, RefsArePackedIntoOneFileAndResolveAsInTheProject) {
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir project && cd project && git init -q -b main
    echo a > a.txt && git add -A && git commit -qm one && git tag v1 && git tag -a v2 -m two
    git branch feature && git update-ref refs/remotes/origin/main HEAD
  )"),
            0);
  ASSERT_NE(MakeWorkspace(), nullptr);
  std::string ws = this->ws();
  std::vector<std::string> list = {"git", "for-each-ref", "--format=%(refname) %(objectname)"};
  EXPECT_EQ(Output(ws, list), Output(project(), list));
  EXPECT_EQ(Output(ws, {"git", "rev-parse", "v2^{commit}"}),
            Output(project(), {"git", "rev-parse", "v2^{commit}"}));
  EXPECT_EQ(Output(ws, {"git", "describe", "--tags"}), "v2\n");
  // One packed-refs file, and no directory per ref namespace.
  EXPECT_TRUE(PathExists(ws + "/.git/packed-refs"));
  EXPECT_EQ(Output(ws, {"ls", "-A", ".git/refs"}), "");
  // Git still writes refs in a workspace.
  EXPECT_EQ(Sh(ws, "git branch topic && git tag v3"), 0);
  EXPECT_EQ(Output(ws, {"git", "rev-parse", "topic"}),
            Output(project(), {"git", "rev-parse", "main"}));
}

// The server's case: the objects come from a copy the jobs may read, not
// from the project's repository.
TEST_F(WorkspaceTest, ObjectsComeFromTheObjectDirectoryTheFactoryIsGiven) {
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir project && cd project && git init -q -b main
    echo a > a.txt && git add -A && git commit -qm one && echo b > b.txt && git add -A
    git commit -qm two && cp -r .git/objects ../shared
  )"),
            0);
  WorkspaceFactory factory(&runner_, "", {}, tmp_.Sub("shared"));
  StatusOr<std::shared_ptr<const Snapshot>> snapshot =
      factory.GetSnapshot(project(), "main", run_dir());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  StatusOr<std::string> ws = factory.Acquire(**snapshot, run_dir(), "project");
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  EXPECT_EQ(Slurp(*ws + "/.git/objects/info/alternates"), tmp_.Sub("shared") + "\n");
  ASSERT_EQ(Sh(project(), "rm -rf .git/objects/??"), 0);  // Only the copy is left.
  EXPECT_EQ(Output(*ws, {"git", "log", "--format=%s"}), "two\none\n");
  EXPECT_EQ(Output(*ws, {"git", "status", "--porcelain"}), "");
}

TEST_F(WorkspaceTest, SnapshotIsSharedWithinARun) {
  ASSERT_EQ(Sh(tmp_.path(), "mkdir project && cd project && git init -q && echo a > a.txt"), 0);
  StatusOr<std::shared_ptr<const Snapshot>> first = factory_.GetSnapshot(project(), "", run_dir());
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(Sh(project(), "echo later > b.txt"), 0);
  StatusOr<std::shared_ptr<const Snapshot>> second = factory_.GetSnapshot(project(), "", run_dir());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ((*second)->source_files.count("b.txt"), 0u);
}

}  // namespace
}  // namespace slipway
