// The primitives of beneath_io.h, each run twice: with openat2 where the kernel
// has it, and with the component-by-component walk older kernels get.
#include "exec/beneath_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exec/file_tree.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

class BeneathIoTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    DisableOpenat2ForTesting(!GetParam());
    if (GetParam() && !Openat2Available()) GTEST_SKIP() << "this kernel has no openat2";
    // tree/a/b/c/file; tree/a/inside -> b (a link that stays in the tree);
    // tree/a/out -> the victim directory; tree/a/b/c/leaf -> file.
    ASSERT_EQ(Sh(tmp_.path(), R"(
      mkdir -p tree/a/b/c victim && echo data > tree/a/b/c/file && echo v > victim/v
      ln -s b tree/a/inside && ln -s "$PWD/victim" tree/a/out && ln -s file tree/a/b/c/leaf
      mkfifo tree/a/fifo
    )"),
              0);
    StatusOr<UniqueFd> root = OpenDirNoFollow(tmp_.Sub("tree"));
    ASSERT_TRUE(root.ok()) << root.status().message();
    root_ = std::move(*root);
  }
  void TearDown() override { DisableOpenat2ForTesting(false); }

  // The errno of a failed OpenBeneath, or 0 if it opened.
  int OpenError(const std::string& rel, int flags = O_RDONLY) {
    StatusOr<UniqueFd> fd = OpenBeneath(root_.get(), rel, flags, rel);
    return fd.ok() ? 0 : errno;
  }
  std::string Victim() {
    StatusOr<std::vector<std::string>> names = ListNames(tmp_.Sub("victim"));
    std::string out;
    for (const std::string& name : *names) out += name + " ";
    return out + Slurp(tmp_.Sub("victim/v"));
  }
  bool IsRealDirectory(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  TempDir tmp_;
  UniqueFd root_;
};

TEST_P(BeneathIoTest, OpensOnlyPathsWithoutLinks) {
  EXPECT_EQ(OpenError("a/b/c/file"), 0);
  EXPECT_EQ(OpenError("a/b/c", O_PATH | O_DIRECTORY), 0);
  // A link anywhere is refused, even one that stays inside the tree.
  for (const char* linked : {"a/inside/c/file", "a/out/v", "a/b/c/leaf"}) {
    int error = OpenError(linked);
    EXPECT_TRUE(error == ELOOP || error == ENOTDIR) << linked << ": " << std::strerror(error);
  }
  EXPECT_EQ(OpenError("a/missing/file"), ENOENT);
  for (const char* bad : {"../tree/a", "/etc/passwd", "a//b", "a/./b", ""}) {
    StatusOr<UniqueFd> fd = OpenBeneath(root_.get(), bad, O_RDONLY, bad);
    EXPECT_FALSE(fd.ok()) << bad;
  }
}

TEST_P(BeneathIoTest, ReadsRegularFilesOnlyAndNeverBlocks) {
  StatusOr<std::string> data = ReadFileBeneath(root_.get(), "a/b/c/file", "file");
  ASSERT_TRUE(data.ok()) << data.status().message();
  EXPECT_EQ(*data, "data\n");
  StatusOr<std::string> fifo = ReadFileBeneath(root_.get(), "a/fifo", "tree/a/fifo");
  ASSERT_FALSE(fifo.ok());
  EXPECT_EQ(fifo.status().message(), "tree/a/fifo is not a regular file");
  EXPECT_FALSE(ReadFileBeneath(root_.get(), "a/out/v", "v").ok());
  EXPECT_FALSE(ReadFileBeneath(root_.get(), "a/b/c/file", "file", 3).ok());
}

TEST_P(BeneathIoTest, AWritingWalkerReplacesLinksOnItsWayByDirectories) {
  DirWalker walker = DirWalker::Writing(root_.get(), tmp_.Sub("tree"), std::nullopt);
  StatusOr<int> dir = walker.Enter("a/out/new/deeper");
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  ASSERT_TRUE(WriteFileAt(*dir, "f", "x", std::nullopt, "f").ok());
  EXPECT_EQ(Victim(), "v v\n");
  EXPECT_TRUE(IsRealDirectory(tmp_.Sub("tree/a/out")));
  EXPECT_EQ(Slurp(tmp_.Sub("tree/a/out/new/deeper/f")), "x");
  // Back up and down another way: the open prefix is reused, the rest made.
  dir = walker.Enter("a/inside");
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  EXPECT_TRUE(IsRealDirectory(tmp_.Sub("tree/a/inside")));
  EXPECT_TRUE(IsRealDirectory(tmp_.Sub("tree/a/b/c")));  // What the link pointed at stays.

  DirWalker reader = DirWalker::Reading(root_.get(), tmp_.Sub("tree"));
  EXPECT_TRUE(reader.Enter("a/b/c").ok());
  ASSERT_EQ(Sh(tmp_.path(), "ln -s c tree/a/b/d"), 0);
  StatusOr<int> linked = reader.Enter("a/b/d");
  EXPECT_FALSE(linked.ok());
  EXPECT_TRUE(errno == ENOTDIR || errno == ELOOP);
}

TEST_P(BeneathIoTest, CreatingReplacesWhateverIsThereWithoutFollowingIt) {
  UniqueFd a(open(tmp_.Sub("tree/a").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(a.valid());
  // A link to a file outside, a dangling link, a directory: all replaced.
  ASSERT_EQ(Sh(tmp_.path(), "ln -s \"$PWD/victim/v\" tree/a/f && ln -s \"$PWD/victim/w\" tree/a/g"),
            0);
  ASSERT_TRUE(WriteFileAt(a.get(), "f", "new", std::nullopt, "f").ok());
  ASSERT_TRUE(WriteFileAt(a.get(), "g", "new", std::nullopt, "g").ok());
  ASSERT_TRUE(SymlinkAt(a.get(), "b", "somewhere", std::nullopt, "b").ok());
  StatusOr<UniqueFd> made = MakeDirAt(a.get(), "out", 0700, std::nullopt, "out");
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(Victim(), "v v\n");
  EXPECT_EQ(Slurp(tmp_.Sub("tree/a/f")), "new");
  EXPECT_EQ(Slurp(tmp_.Sub("tree/a/g")), "new");
  StatusOr<std::string> target = ReadLinkAt(a.get(), "b", "b");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, "somewhere");
  EXPECT_TRUE(IsRealDirectory(tmp_.Sub("tree/a/out")));
}

TEST_P(BeneathIoTest, CopyingMakesMissingParentsAndKeepsLinksAsLinks) {
  std::vector<TreeEntry> entries = {{"a/b/c/file", EntryType::kFile},
                                    {"a/inside", EntryType::kSymlink},
                                    {"a/out", EntryType::kSymlink}};
  ASSERT_TRUE(CopyEntries(tmp_.Sub("tree"), entries, tmp_.Sub("copy")).ok());
  EXPECT_EQ(Slurp(tmp_.Sub("copy/a/b/c/file")), "data\n");
  StatusOr<UniqueFd> copy = OpenDirNoFollow(tmp_.Sub("copy"));
  ASSERT_TRUE(copy.ok());
  StatusOr<std::string> out = ReadLinkAt(copy->get(), "a/out", "a/out");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, tmp_.Sub("victim"));
  // A root that is a link is neither read nor written.
  ASSERT_EQ(Sh(tmp_.path(), "ln -s tree linked"), 0);
  EXPECT_FALSE(CopyEntries(tmp_.Sub("linked"), entries, tmp_.Sub("copy2")).ok());
  EXPECT_FALSE(CopyEntries(tmp_.Sub("tree"), entries, tmp_.Sub("linked")).ok());
}

TEST_P(BeneathIoTest, ListingNeverEntersALinkAndBoundsDepth) {
  StatusOr<std::vector<TreeEntry>> listed = ListTreeAt(root_.get(), tmp_.Sub("tree"));
  ASSERT_TRUE(listed.ok());
  std::string paths;
  for (const TreeEntry& e : *listed) paths += e.path + " ";
  EXPECT_EQ(paths, "a a/b a/b/c a/b/c/file a/b/c/leaf a/fifo a/inside a/out ");
  std::string deep = "deep";
  for (size_t i = 0; i <= kMaxTreeDepth; ++i) deep += "/d";
  ASSERT_EQ(Sh(tmp_.path(), "mkdir -p " + deep), 0);
  StatusOr<std::vector<TreeEntry>> too_deep = ListTree(tmp_.Sub("deep"));
  ASSERT_FALSE(too_deep.ok());
  EXPECT_NE(too_deep.status().message().find("deeper than 256 directories"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Resolution, BeneathIoTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Openat2" : "ComponentWalk";
                         });

}  // namespace
}  // namespace slipway
