#include "image/layer_unpack.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "exec/beneath_io.h"
#include "image/test_image.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

class LayerUnpackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.Sub("rootfs");
    fs::create_directories(root_);
    outside_ = tmp_.Sub("outside");
    fs::create_directories(outside_);
  }
  // Applies the layer (gzip-ed, as registries serve them).
  Status Apply(const TarBuilder& layer) {
    StatusOr<UniqueFd> root = OpenDirNoFollow(root_);
    if (!root.ok()) return root.status();
    DecompressingSource source(std::make_unique<MemorySource>(Gzip(layer.Take())), "layer",
                               size_t{1} << 30);
    UnpackStats stats;
    Status s = ApplyLayer(root->get(), root_, &source, "layer L", {}, &stats);
    devices_skipped_ += stats.devices_skipped;
    return s;
  }
  TempDir tmp_;
  std::string root_, outside_;
  size_t devices_skipped_ = 0;
};

TEST_F(LayerUnpackTest, WritesFilesDirectoriesAndSymlinksWithTheirModes) {
  Status s = Apply(TarBuilder()
                       .Dir("./bin/", 0755)
                       .File("./bin/tool", "#!/bin/sh\n", 04755)
                       .Symlink("./bin/sh", "/bin/busybox")
                       .Dir("etc", 0555)
                       .File("etc/os-release", "ID=test\n", 0644));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Slurp(root_ + "/bin/tool"), "#!/bin/sh\n");
  struct stat st;
  ASSERT_EQ(lstat((root_ + "/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "set-id bits are dropped";
  EXPECT_EQ(fs::read_symlink(root_ + "/bin/sh"), "/bin/busybox");
  ASSERT_EQ(lstat((root_ + "/etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u) << "directories keep owner rwx";
  EXPECT_EQ(Slurp(root_ + "/etc/os-release"), "ID=test\n");
}

TEST_F(LayerUnpackTest, WhiteoutsRemoveWhatLowerLayersPutThere) {
  ASSERT_TRUE(Apply(TarBuilder()
                        .File("a/gone.txt", "1")
                        .File("a/kept.txt", "2")
                        .Dir("a/gone-dir")
                        .File("a/gone-dir/x", "3")
                        .File("opaque/lower.txt", "4")
                        .Dir("opaque/lower-dir")
                        .File("opaque/lower-dir/y", "5"))
                  .ok());
  Status s = Apply(TarBuilder()
                       .File("a/.wh.gone.txt", "")
                       .File("a/.wh.gone-dir", "")
                       .File("a/.wh.never-there", "")
                       .Dir("opaque")
                       .File("opaque/new.txt", "6")
                       .File("opaque/.wh..wh..opq", ""));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(fs::exists(root_ + "/a/gone.txt"));
  EXPECT_FALSE(fs::exists(root_ + "/a/gone-dir"));
  EXPECT_EQ(Slurp(root_ + "/a/kept.txt"), "2");
  EXPECT_FALSE(fs::exists(root_ + "/opaque/lower.txt"));
  EXPECT_FALSE(fs::exists(root_ + "/opaque/lower-dir"));
  EXPECT_EQ(Slurp(root_ + "/opaque/new.txt"), "6") << "the layer's own entries stay";
  EXPECT_FALSE(fs::exists(root_ + "/a/.wh.gone.txt")) << "markers are not files";
  EXPECT_FALSE(fs::exists(root_ + "/opaque/.wh..wh..opq"));
}

// `.wh..` and `.wh...` would whiteout the directory itself or its parent:
// from the top, the root file system's parent, where other images live.
// Found by layer_unpack_fuzz.
TEST_F(LayerUnpackTest, AWhiteoutOfDotOrDotDotIsRefusedAndRemovesNothing) {
  ASSERT_TRUE(Apply(TarBuilder().File("d/kept", "1")).ok());
  std::ofstream(tmp_.Sub("beside")) << "another image";
  for (std::string name : {".wh...", ".wh..", "d/.wh...", "d/.wh.."}) {
    Status s = Apply(TarBuilder().File(name, ""));
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.message(), "layer L: the whiteout `" + name + "` names no entry of its directory");
    EXPECT_EQ(Slurp(root_ + "/d/kept"), "1") << name;
    EXPECT_EQ(Slurp(tmp_.Sub("beside")), "another image") << name;
  }
}

TEST_F(LayerUnpackTest, ADotDotNameIsRefused) {
  Status s = Apply(TarBuilder().File("../escaped", "x"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "layer L: the entry `../escaped` has a \"..\" "
            "component, which would reach outside "
            "the root file system");
  EXPECT_FALSE(fs::exists(tmp_.Sub("escaped")));
  s = Apply(TarBuilder().File("a/../../../escaped2", "x"));
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(fs::exists(tmp_.Sub("escaped2")));
}

TEST_F(LayerUnpackTest, AnAbsoluteNameIsANameInTheRootfs) {
  ASSERT_TRUE(Apply(TarBuilder().File(outside_ + "/abs.txt", "in")).ok());
  EXPECT_FALSE(fs::exists(outside_ + "/abs.txt"));
  EXPECT_EQ(Slurp(root_ + outside_ + "/abs.txt"), "in");
}

TEST_F(LayerUnpackTest, AFileIsNeverWrittenThroughASymlinkALowerLayerPlanted) {
  ASSERT_TRUE(Apply(TarBuilder().Symlink("etc", outside_)).ok());
  Status s = Apply(TarBuilder().File("etc/passwd", "pwned\n"));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(fs::exists(outside_ + "/passwd")) << "written through the planted symlink";
  EXPECT_EQ(Slurp(root_ + "/etc/passwd"), "pwned\n");
  EXPECT_FALSE(fs::is_symlink(root_ + "/etc")) << "the link is replaced by a directory";
}

TEST_F(LayerUnpackTest, AFileIsNeverWrittenThroughASymlinkOfTheSameLayer) {
  Status s = Apply(TarBuilder().Symlink("up", "..").File("up/escaped", "x"));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(fs::exists(tmp_.Sub("escaped")));
  s = Apply(TarBuilder().Symlink("out", outside_).File("out", "replaced"));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Slurp(root_ + "/out"), "replaced") << "the symlink itself is replaced";
}

TEST_F(LayerUnpackTest, AHardLinkOutsideTheRootfsIsRefused) {
  std::ofstream(outside_ + "/secret") << "host secret";
  // An absolute target is a name in the rootfs: there is no etc/passwd
  // there, so nothing is linked (and nothing of the host's).
  Status s = Apply(TarBuilder().HardLink("passwd", "/etc/passwd"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "layer L: the hard link `passwd` -> `/etc/passwd` names no file of "
            "the root file "
            "system (only files the layers put there can be linked)");
  s = Apply(TarBuilder().HardLink("secret", "../outside/secret"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "layer L: the hard link `secret` -> `../outside/secret` points outside "
            "the root file system");
  // Through a symlink planted before.
  ASSERT_TRUE(Apply(TarBuilder().Symlink("o", outside_)).ok());
  s = Apply(TarBuilder().HardLink("secret2", "o/secret"));
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(fs::exists(root_ + "/secret2"));
  struct stat st;
  ASSERT_EQ(stat((outside_ + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_F(LayerUnpackTest, AHardLinkInsideTheRootfsIsMade) {
  Status s = Apply(TarBuilder().File("bin/busybox", "elf").HardLink("bin/ls", "bin/busybox"));
  ASSERT_TRUE(s.ok()) << s.message();
  struct stat a, b;
  ASSERT_EQ(stat((root_ + "/bin/busybox").c_str(), &a), 0);
  ASSERT_EQ(stat((root_ + "/bin/ls").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST_F(LayerUnpackTest, DeviceNodesAreSkipped) {
  Status s = Apply(TarBuilder().Dir("dev").CharDevice("dev/null").File("dev/ok", "1"));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(fs::exists(root_ + "/dev/null"));
  EXPECT_EQ(devices_skipped_, 1u);
  EXPECT_TRUE(fs::exists(root_ + "/dev/ok"));
}

TEST_F(LayerUnpackTest, TooManyEntriesAreAnError) {
  TarBuilder layer;
  for (int i = 0; i < 20; ++i) layer.File("f" + std::to_string(i), "");
  StatusOr<UniqueFd> root = OpenDirNoFollow(root_);
  ASSERT_TRUE(root.ok());
  MemorySource source(layer.Take());
  UnpackLimits limits;
  limits.max_entries = 10;
  UnpackStats stats;
  Status s = ApplyLayer(root->get(), root_, &source, "layer L", limits, &stats);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "layer L has more than 10 entries");
}

TEST_F(LayerUnpackTest, ACorruptHeaderIsAnErrorNotACrash) {
  std::string tar = TarBuilder().File("a", "1").Take();
  tar[10] ^= 1;  // Inside the name: the checksum no longer matches.
  StatusOr<UniqueFd> root = OpenDirNoFollow(root_);
  ASSERT_TRUE(root.ok());
  MemorySource source(tar);
  UnpackStats stats;
  Status s = ApplyLayer(root->get(), root_, &source, "layer L", {}, &stats);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "layer L: not a valid tar archive near byte 0: a header's checksum is "
            "wrong");
}

TEST(NormalizeEntryPathTest, DropsLeadingSlashesAndDots) {
  std::string out;
  ASSERT_TRUE(NormalizeEntryPath("./a//b/./c/", &out));
  EXPECT_EQ(out, "a/b/c");
  ASSERT_TRUE(NormalizeEntryPath("/etc/passwd", &out));
  EXPECT_EQ(out, "etc/passwd");
  ASSERT_TRUE(NormalizeEntryPath("./", &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(NormalizeEntryPath("a/..", &out));
  EXPECT_FALSE(NormalizeEntryPath("..", &out));
}

}  // namespace
}  // namespace slipway
