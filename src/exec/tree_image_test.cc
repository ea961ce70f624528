#include "exec/tree_image.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/file_tree.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

class TreeImageTest : public ::testing::Test {
 protected:
  // src: small and large (not cached) files, an executable, a private file,
  // nested and empty directories, a symlink, an old modification time.
  void SetUp() override {
    ASSERT_EQ(Sh(tmp_.path(), R"(
      mkdir -p src/a/b src/empty && cd src
      echo top > top.txt
      printf '#!/bin/sh\necho hi\n' > run.sh && chmod 755 run.sh
      echo secret > private && chmod 600 private
      echo deep > a/b/deep.txt
      head -c 200000 /dev/zero | tr '\0' x > a/large.bin
      ln -s a/b/deep.txt link
      touch -d 2001-02-03T04:05:06 top.txt a/large.bin
    )"),
              0);
  }

  TreeImage Image() {
    StatusOr<std::vector<TreeEntry>> entries = ListTree(tmp_.Sub("src"));
    EXPECT_TRUE(entries.ok());
    StatusOr<TreeImage> image = TreeImage::Read(tmp_.Sub("src"), *entries);
    EXPECT_TRUE(image.ok()) << image.status().message();
    return *std::move(image);
  }

  TempDir tmp_;
};

TEST_F(TreeImageTest, WritesAnEqualTreeWithModesLinksAndTimes) {
  TreeImage image = Image();
  // The large file is copied from disk, the rest comes from memory.
  EXPECT_GT(image.cached_bytes(), 0u);
  EXPECT_LT(image.cached_bytes(), 1000u);
  std::string dest = tmp_.Sub("copy");
  ASSERT_TRUE(image.WriteTo(dest).ok());

  EXPECT_EQ(Slurp(dest + "/top.txt"), "top\n");
  EXPECT_EQ(Slurp(dest + "/a/b/deep.txt"), "deep\n");
  EXPECT_EQ(Slurp(dest + "/a/large.bin"), std::string(200000, 'x'));
  EXPECT_EQ(Lstat(dest + "/run.sh").st_mode & 07777, 0755u);
  EXPECT_EQ(Lstat(dest + "/private").st_mode & 07777, 0600u);
  EXPECT_TRUE(S_ISDIR(Lstat(dest + "/empty").st_mode));
  ASSERT_TRUE(S_ISLNK(Lstat(dest + "/link").st_mode));
  EXPECT_EQ(Slurp(dest + "/link"), "deep\n");
  for (const char* file : {"/top.txt", "/a/large.bin", "/a/b/deep.txt"}) {
    EXPECT_EQ(Lstat(dest + file).st_mtim.tv_sec, Lstat(tmp_.Sub("src") + file).st_mtim.tv_sec)
        << file;
  }
}

TEST_F(TreeImageTest, CopiesShareNothing) {
  TreeImage image = Image();
  std::string one = tmp_.Sub("one"), two = tmp_.Sub("two");
  ASSERT_TRUE(image.WriteTo(one).ok());
  ASSERT_TRUE(image.WriteTo(two).ok());
  ASSERT_EQ(Sh(one, "echo changed > top.txt; echo changed >> a/large.bin; rm a/b/deep.txt"), 0);
  EXPECT_NE(Lstat(one + "/top.txt").st_ino, Lstat(two + "/top.txt").st_ino);
  EXPECT_EQ(Slurp(two + "/top.txt"), "top\n");
  EXPECT_EQ(Slurp(two + "/a/large.bin"), std::string(200000, 'x'));
  EXPECT_EQ(Slurp(two + "/a/b/deep.txt"), "deep\n");
  EXPECT_EQ(Slurp(tmp_.Sub("src/top.txt")), "top\n");
  EXPECT_EQ(Slurp(tmp_.Sub("src/a/large.bin")), std::string(200000, 'x'));
}

TEST_F(TreeImageTest, WritingOverAnExistingTreeReplacesWhatDiffers) {
  TreeImage image = Image();
  std::string dest = tmp_.Sub("copy");
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir -p copy/a/b/deep.txt copy/extra/x && cd copy
    echo old > top.txt && echo own > extra/x/f && ln -s nowhere a/large.bin && echo f > empty
  )"),
            0);
  Status s = image.WriteTo(dest);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Sh(tmp_.path(), "diff -r --no-dereference src copy"), 0);
}

// What a job may do to its workspace, and the next WriteTo with the stamps of
// the last one undoing it: every kind of change is found, and what the job
// left alone is kept, not written again.
TEST_F(TreeImageTest, StampedWriteUndoesAJobsChangesAndKeepsTheRest) {
  TreeImage image = Image();
  std::string dest = tmp_.Sub("ws");
  TreeImage::Stamps stamps;
  ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
  EXPECT_EQ(stamps.files.count("a/b/deep.txt"), 1u);
  usleep(30000);  // Past the window in which a change could hide (see MayHideChanges).
  ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
  struct stat kept = Lstat(dest + "/a/b/deep.txt");
  usleep(30000);
  ASSERT_EQ(Sh(dest, R"(
    echo TOP > top.txt                       # same size, new content
    chmod 700 run.sh                         # mode only
    touch -d 2005-01-01 private              # time only
    printf y | dd of=a/large.bin bs=1 seek=5 conv=notrunc status=none   # in place
    rm -r empty && echo file > empty         # directory became a file
    ln -sfn top.txt link                     # symlink retargeted
    mkdir -p new/deeper && echo n > new/deeper/n && echo e > a/b/extra
    chmod 000 new/deeper
  )"),
            0);
  Status s = image.WriteTo(dest, &stamps);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Sh(tmp_.path(), "diff -r --no-dereference src ws"), 0);
  EXPECT_EQ(Lstat(dest + "/run.sh").st_mode & 07777, 0755u);
  EXPECT_EQ(Lstat(dest + "/private").st_mtim.tv_sec, Lstat(tmp_.Sub("src/private")).st_mtim.tv_sec);
  struct stat now = Lstat(dest + "/a/b/deep.txt");  // Not written again.
  EXPECT_EQ(now.st_ino, kept.st_ino);
  EXPECT_EQ(now.st_ctim.tv_nsec, kept.st_ctim.tv_nsec);
}

// A change within one tick of the file system's clock after the write may
// leave the file's change time as it was. Simulated here by stamping the
// changed file as if it were the one written: when the stamp is that recent
// the content is compared (and the change found); when it is old, it is
// trusted (which is why stamps must come from the write itself).
TEST_F(TreeImageTest, StampedWriteComparesFilesChangedWithinTheClocksTick) {
  TreeImage image = Image();
  std::string dest = tmp_.Sub("ws");
  for (bool recent : {true, false}) {
    TreeImage::Stamps stamps;
    ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
    ASSERT_EQ(Sh(dest, "echo TOP > top.txt && touch -d 2001-02-03T04:05:06 top.txt"), 0);
    struct stat st = Lstat(dest + "/top.txt");
    stamps.files["top.txt"].ino = st.st_ino;
    stamps.files["top.txt"].ctime = st.st_ctim;
    stamps.written_at = st.st_ctim;
    if (!recent) stamps.written_at.tv_sec += 10;
    ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
    EXPECT_EQ(Slurp(dest + "/top.txt"), recent ? "top\n" : "TOP\n");
    ASSERT_TRUE(RemoveTree(dest).ok());
  }
}

// A file too large to cache, stamped within the window in which a change
// could hide (right after the write that made it), is compared with its
// source: left as it is when equal (a pool's workspace is not rewritten by
// every job), written again when it differs.
TEST_F(TreeImageTest, StampedWriteComparesLargeFilesWithTheirSource) {
  TreeImage image = Image();
  std::string dest = tmp_.Sub("ws");
  TreeImage::Stamps stamps;
  ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
  int fd = open((dest + "/a/large.bin").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  close(fd);
  EXPECT_EQ(st.st_nlink, 1u);  // Still the file in dest: not removed and written again.

  ASSERT_EQ(Sh(dest,
               "printf y | dd of=a/large.bin bs=1 seek=5 conv=notrunc status=none && "
               "touch -d 2001-02-03T04:05:06 a/large.bin"),
            0);
  st = Lstat(dest + "/a/large.bin");
  stamps.files["a/large.bin"].ino = st.st_ino;
  stamps.files["a/large.bin"].ctime = st.st_ctim;
  stamps.written_at = st.st_ctim;
  ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
  EXPECT_EQ(Sh(tmp_.path(), "cmp -s src/a/large.bin ws/a/large.bin"), 0);
}

// A later image (the next run's) may want other content at the same path:
// the stamp says which content the file holds, so it is written again.
TEST_F(TreeImageTest, StampsTellWhichContentAFileHolds) {
  TreeImage image = Image();
  std::string dest = tmp_.Sub("ws");
  TreeImage::Stamps stamps;
  ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
  usleep(30000);
  ASSERT_EQ(Sh(tmp_.path(), "echo TOP > src/top.txt && touch -d 2001-02-03T04:05:06 src/top.txt"),
            0);
  TreeImage changed = Image();
  ASSERT_TRUE(changed.WriteTo(dest, &stamps).ok());
  EXPECT_EQ(Slurp(dest + "/top.txt"), "TOP\n");
}

// A job controls its workspace and what lies beside it in the pool's slot:
// links it leaves there are replaced, never written through.
TEST_F(TreeImageTest, ReconcilingReplacesLinksAJobLeft) {
  TreeImage image = Image();
  std::string dest = tmp_.Sub("ws");
  TreeImage::Stamps stamps;
  ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
  ASSERT_EQ(Sh(tmp_.path(), R"(
    mkdir victim && echo keep > victim/top.txt
    rm -rf ws/a && ln -s "$PWD/victim" ws/a
    rm ws/top.txt && ln -s "$PWD/victim/top.txt" ws/top.txt
  )"),
            0);
  ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
  EXPECT_TRUE(S_ISDIR(Lstat(dest + "/a").st_mode));
  EXPECT_EQ(Slurp(dest + "/a/b/deep.txt"), "deep\n");
  EXPECT_EQ(Lstat(dest + "/a/large.bin").st_size, 200000);
  EXPECT_EQ(Slurp(dest + "/top.txt"), "top\n");
  StatusOr<std::vector<std::string>> victim = ListNames(tmp_.Sub("victim"));
  ASSERT_TRUE(victim.ok());
  EXPECT_EQ(victim->size(), 1u);
  EXPECT_EQ(Slurp(tmp_.Sub("victim/top.txt")), "keep\n");

  // The stamps beside the workspace: a link at the temporary file's name is
  // replaced, not written through.
  ASSERT_EQ(Sh(tmp_.path(), "ln -s victim/top.txt ws.stamps.tmp"), 0);
  ASSERT_TRUE(stamps.Save(tmp_.Sub("ws.stamps")).ok());
  EXPECT_EQ(Slurp(tmp_.Sub("victim/top.txt")), "keep\n");
  EXPECT_EQ(TreeImage::Stamps::Load(tmp_.Sub("ws.stamps")).files.size(), stamps.files.size());
}

// Stamps outlive the process that wrote them: saved and loaded, they keep
// what was left alone, and a damaged file is not trusted at all.
TEST_F(TreeImageTest, StampsSurviveSaveAndLoad) {
  TreeImage image = Image();
  std::string dest = tmp_.Sub("ws");
  TreeImage::Stamps stamps;
  ASSERT_TRUE(image.WriteTo(dest, &stamps).ok());
  std::string saved = tmp_.Sub("ws.stamps");
  ASSERT_TRUE(stamps.Save(saved).ok());
  TreeImage::Stamps loaded = TreeImage::Stamps::Load(saved);
  ASSERT_EQ(loaded.files.size(), stamps.files.size());
  EXPECT_EQ(loaded.written_at.tv_nsec, stamps.written_at.tv_nsec);
  const TreeImage::Stamps::File& a = stamps.files.at("a/b/deep.txt");
  const TreeImage::Stamps::File& b = loaded.files.at("a/b/deep.txt");
  EXPECT_EQ(a.ino, b.ino);
  EXPECT_EQ(a.ctime.tv_sec, b.ctime.tv_sec);
  EXPECT_EQ(a.ctime.tv_nsec, b.ctime.tv_nsec);
  EXPECT_EQ(a.content, b.content);

  usleep(30000);
  ASSERT_TRUE(image.WriteTo(dest, &loaded).ok());
  struct stat kept = Lstat(dest + "/a/b/deep.txt");
  EXPECT_EQ(kept.st_ctim.tv_nsec, a.ctime.tv_nsec);  // Not written again.

  ASSERT_EQ(Sh(tmp_.path(), "printf 'slipway-stamps 1 1 2\\n12 x y z\\tpath' > bad.stamps"), 0);
  EXPECT_TRUE(TreeImage::Stamps::Load(tmp_.Sub("bad.stamps")).files.empty());
  EXPECT_TRUE(TreeImage::Stamps::Load(tmp_.Sub("missing.stamps")).files.empty());
}

}  // namespace
}  // namespace slipway
