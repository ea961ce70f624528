// An owner given to the restores and the reconcile: every file, directory
// and symlink slipway makes in a workspace belongs to it, as a server running
// as root needs for jobs that run as an unprivileged user. chown needs root:
// these tests skip when not run as root.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "exec/artifacts.h"
#include "exec/cache.h"
#include "exec/shell_executor.h"
#include "exec/tree_image.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

constexpr FileOwner kJobUser{4242, 4343};

class WorkspaceOwnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "giving files to another user needs root";
    ASSERT_EQ(Sh(tmp_.path(), R"(
      mkdir -p tree/dir/sub && echo f > tree/dir/file && ln -s dir/file tree/link
      echo s > tree/setuid && chmod 4755 tree/setuid
    )"),
              0);
  }
  // "uid:gid" of every entry under root (and root), one per line.
  std::string Owners(const std::string& root) {
    StatusOr<std::vector<TreeEntry>> entries = ListTree(root);
    EXPECT_TRUE(entries.ok());
    std::string out = Owner(root, ".");
    for (const TreeEntry& e : *entries) out += Owner(JoinPath(root, e.path), e.path);
    return out;
  }
  std::string Owner(const std::string& path, const std::string& name) {
    struct stat st;
    EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
    return name + " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + "\n";
  }
  std::string AllJobUser(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) out += name + " 4242:4343\n";
    return out;
  }

  TempDir tmp_;
};

TEST_F(WorkspaceOwnerTest, CopiesArtifactsAndCachesBelongToTheOwner) {
  ASSERT_TRUE(CopyTree(tmp_.Sub("tree"), tmp_.Sub("copy"), {}, kJobUser).ok());
  EXPECT_EQ(Owners(tmp_.Sub("copy")),
            AllJobUser({".", "dir", "dir/file", "dir/sub", "link", "setuid"}));
  struct stat st;
  ASSERT_EQ(lstat(tmp_.Sub("copy/setuid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);  // The chown did not strip it.

  ASSERT_EQ(Sh(tmp_.path(), "mkdir -p job/artifacts ws && cp -a tree/dir job/artifacts/"), 0);
  ASSERT_TRUE(RestoreArtifacts(tmp_.Sub("job/artifacts"), tmp_.Sub("ws"), kJobUser).ok());
  EXPECT_EQ(Owners(tmp_.Sub("ws")).substr(std::string(". 0:0\n").size()),
            AllJobUser({"dir", "dir/file", "dir/sub"}));

  CacheStore store(tmp_.Sub("cache"));
  StatusOr<std::vector<TreeEntry>> entries = ListTree(tmp_.Sub("tree"));
  ASSERT_TRUE(entries.ok());
  ASSERT_TRUE(store.Save("k", tmp_.Sub("tree"), *entries).ok());
  EXPECT_EQ(Owner(tmp_.Sub("cache/.v"), "cache"), "cache 0:0\n");  // Unset: slipway's own.
  ASSERT_TRUE(store.Restore({"k"}, tmp_.Sub("restored"), kJobUser).ok());
  EXPECT_EQ(Owners(tmp_.Sub("restored")),
            AllJobUser({".", "dir", "dir/file", "dir/sub", "link", "setuid"}));
}

TEST_F(WorkspaceOwnerTest, TheReconciledWorkspaceBelongsToTheOwner) {
  StatusOr<std::vector<TreeEntry>> entries = ListTree(tmp_.Sub("tree"));
  ASSERT_TRUE(entries.ok());
  StatusOr<TreeImage> image = TreeImage::Read(tmp_.Sub("tree"), *entries);
  ASSERT_TRUE(image.ok());
  std::string ws = tmp_.Sub("ws");
  TreeImage::Stamps stamps;
  ASSERT_TRUE(image->WriteTo(ws, &stamps).ok());
  EXPECT_EQ(Owner(ws + "/dir/file", "file"), "file 0:0\n");
  // The server starts giving workspaces to its job user: what was kept
  // from the last write is given to it too.
  ASSERT_TRUE(image->WriteTo(ws, &stamps, kJobUser).ok());
  EXPECT_EQ(Owners(ws), AllJobUser({".", "dir", "dir/file", "dir/sub", "link", "setuid"}));
  ASSERT_EQ(Sh(tmp_.path(), "rm -r ws/dir && mkdir ws/extra"), 0);
  ASSERT_TRUE(image->WriteTo(ws, &stamps, kJobUser).ok());
  EXPECT_EQ(Owners(ws), AllJobUser({".", "dir", "dir/file", "dir/sub", "link", "setuid"}));
}

TEST_F(WorkspaceOwnerTest, TheShellExecutorGivesTheJobItsWorkspace) {
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir project && cd project && git init -q && echo hi > tracked.txt
    git add -A && git commit -qm init
    mkdir -p ../run/jobs/earlier/artifacts/out && echo a > ../run/jobs/earlier/artifacts/out/a
  )"),
            0);
  ShellExecutor::Options options;
  options.workspace_owner = kJobUser;
  ShellExecutor executor(options);
  Job job;
  job.name = "job";
  job.script = {"stat -c '%n %u:%g' . tracked.txt out out/a > " + tmp_.Sub("owners")};
  JobSpec spec;
  spec.repository = tmp_.Sub("project");
  spec.artifacts_from = {{1, "earlier"}};
  JobDirArtifacts earlier;
  earlier.Add(1, tmp_.Sub("run/jobs/earlier"));
  JobHost host;
  host.run_dir = tmp_.Sub("run");
  host.job_dir = tmp_.Sub("run/jobs/job");
  host.artifacts = &earlier;
  CancelToken cancel;
  JobResult result = executor.Run(job, spec, host, nullptr, cancel);
  ASSERT_EQ(result.outcome, JobOutcome::kSuccess);
  EXPECT_EQ(Slurp(tmp_.Sub("owners")),
            ". 4242:4343\ntracked.txt 4242:4343\nout 4242:4343\nout/a 4242:4343\n");
}

// A server running as root: the job's processes run as its identity, in a
// workspace that is theirs, beside script files they can read but not
// change, in a pool they cannot write into.
TEST_F(WorkspaceOwnerTest, AJobWithAnIdentityRunsAsItBesideScriptsItCannotChange) {
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0711), 0);  // The job passes through.
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir project && cd project && git init -q && echo hi > tracked.txt
    git add -A && git commit -qm init
  )"),
            0);
  ShellExecutor::Options options;
  options.state_dir = tmp_.Sub("state");
  options.identity = JobIdentity{4242, 4343, "slipway-job", 022};
  options.workspace_owner = kJobUser;
  ShellExecutor executor(options);
  Job job;
  job.name = "job";
  job.script = {
      "echo \"ids=$(id -u):$(id -g):$(id -G) umask=$(umask) home=$HOME\"",
      "stat -c 'home %u:%g %a' \"$HOME\"",
      "echo made > new.txt && stat -c 'new.txt %u:%g %a' new.txt",
      "git log -1 --format=subject=%s",
      "SLOT=$(dirname \"$CI_PROJECT_DIR\")",
      "if echo 'echo INJECTED' >> $SLOT/after_script.sh; then echo script-changed; fi",
      "if touch $SLOT/planted; then echo slot-written; fi",
      "if touch $CI_BUILDS_DIR/planted; then echo pool-written; fi",
      "if touch " + tmp_.Sub("state/source/planted") + "; then echo snapshot-written; fi",
  };
  job.after_script = {"echo \"after ids=$(id -u):$(id -g) umask=$(umask)\""};
  JobSpec spec;
  spec.repository = tmp_.Sub("project");
  spec.variables.Set("CI_PROJECT_NAME", "project");
  JobHost host;
  host.run_dir = tmp_.Sub("run");
  host.job_dir = tmp_.Sub("run/jobs/job");
  struct Sink : LogSink {
    void Write(std::string_view, std::string_view bytes) override { text.append(bytes); }
    std::string text;
  } sink;
  CancelToken cancel;
  JobResult result = executor.Run(job, spec, host, &sink, cancel);
  ASSERT_EQ(result.outcome, JobOutcome::kSuccess) << sink.text;
  // Its HOME is its own, beside its workspace, and the job user's alone.
  EXPECT_NE(sink.text.find("\nids=4242:4343:4343 umask=0022 home=" +
                           tmp_.Sub("state/builds/0/project.home") + "\n"),
            std::string::npos)
      << sink.text;
  EXPECT_NE(sink.text.find("\nhome 4242:4343 700\n"), std::string::npos) << sink.text;
  EXPECT_NE(sink.text.find("\nnew.txt 4242:4343 644\n"), std::string::npos) << sink.text;
  EXPECT_NE(sink.text.find("\nsubject=init\n"), std::string::npos) << sink.text;
  EXPECT_NE(sink.text.find("\nafter ids=4242:4343 umask=0022\n"), std::string::npos) << sink.text;
  for (const char* denied :
       {"script-changed", "slot-written", "pool-written", "snapshot-written"}) {
    EXPECT_EQ(sink.text.find(std::string("\n") + denied + "\n"), std::string::npos)
        << denied << "\n"
        << sink.text;
  }
  EXPECT_EQ(sink.text.find("\nINJECTED"), std::string::npos) << sink.text;

  // slipway's: the pool and the scripts, for the owner's group to read.
  auto owner = [](const std::string& path) {
    struct stat st;
    EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
    char text[64];
    std::snprintf(text, sizeof text, "%u:%u %o", st.st_uid, st.st_gid, st.st_mode & 07777);
    return std::string(text);
  };
  std::string pool = tmp_.Sub("state/builds");
  EXPECT_EQ(owner(pool), "0:4343 750");
  EXPECT_EQ(owner(pool + "/0"), "0:4343 750");
  EXPECT_EQ(owner(pool + "/0/step_script.sh"), "0:4343 640");
  EXPECT_EQ(owner(pool + "/0/after_script.sh"), "0:4343 640");
  EXPECT_EQ(owner(pool + "/0/project").substr(0, 10), "4242:4343 ");
  EXPECT_EQ(owner(tmp_.Sub("state/source")).substr(0, 2), "0:");
}

}  // namespace
}  // namespace slipway
