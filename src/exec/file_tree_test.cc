// Removing trees a job made: however deep, with a bounded number of
// descriptors and stack frames (a job's tree of tens of thousands of levels
// crashed the reconcile with a stack overflow).
#include "exec/file_tree.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/test_dir.h"

namespace slipway {
namespace {

TEST(FileTreeTest, RemovesATreeFarDeeperThanTheDescriptorsItMayHold) {
  TempDir tmp;
  // 300 levels (every level costs the file system time to remove).
  std::string deep = "deep";
  for (int i = 0; i < 300; ++i) deep += "/d";
  ASSERT_EQ(Sh(tmp.path(), "mkdir -p " + deep + " && echo bottom > " + deep + "/file"), 0);
  // In a child that may open 100 descriptors: one per level would fail.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit limit{100, 100};
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(2);
    _exit(RemoveTree(tmp.Sub("deep")).ok() && !PathExists(tmp.Sub("deep")) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace slipway
