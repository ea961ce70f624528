// PackTree and UnpackTree: a tree survives the round trip (modes, times,
// symlinks, long names, `.wh.` names as plain files), and an archive that
// is not the one its digest names, or that reaches outside, is refused.
#include "image/tree_archive.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "image/test_tar.h"
#include "util/sha256.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

void Write(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << content;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(TreeArchiveTest, RoundTripKeepsFilesModesTimesAndSymlinks) {
  TempDir dir;
  std::string from = dir.Sub("from");
  std::string long_name = std::string(150, 'n') + "/" + std::string(120, 'f');
  Write(from + "/artifacts/bin/tool", "#!/bin/sh\n");
  chmod((from + "/artifacts/bin/tool").c_str(), 0755);
  Write(from + "/artifacts/" + long_name, "deep");
  Write(from + "/artifacts/.wh.kept", "not a whiteout");
  Write(from + "/reports/junit/report.xml", "<testsuites/>");
  Write(from + "/log", "not packed");
  fs::create_symlink("/etc/passwd", from + "/artifacts/link");
  struct timespec times[2] = {{1600000000, 0}, {1600000000, 0}};
  utimensat(AT_FDCWD, (from + "/artifacts/bin/tool").c_str(), times, 0);

  StatusOr<ArchiveFile> packed = PackTree(from, {"artifacts", "reports"}, dir.Sub("a.tar"));
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  EXPECT_GT(packed->size, 0u);
  EXPECT_EQ(packed->digest, "sha256:" + Sha256Hex(Read(dir.Sub("a.tar"))));

  std::string to = dir.Sub("to");
  Status unpacked = UnpackTree(dir.Sub("a.tar"), *packed, to, 1 << 20);
  ASSERT_TRUE(unpacked.ok()) << unpacked.message();
  EXPECT_EQ(Read(to + "/artifacts/bin/tool"), "#!/bin/sh\n");
  struct stat st;
  ASSERT_EQ(stat((to + "/artifacts/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(st.st_mtime, 1600000000);
  EXPECT_EQ(Read(to + "/artifacts/" + long_name), "deep");
  EXPECT_EQ(Read(to + "/artifacts/.wh.kept"), "not a whiteout");
  EXPECT_EQ(Read(to + "/reports/junit/report.xml"), "<testsuites/>");
  EXPECT_EQ(fs::read_symlink(to + "/artifacts/link"), "/etc/passwd");
  EXPECT_FALSE(fs::exists(to + "/log"));
}

TEST(TreeArchiveTest, NothingToPackWritesNoFile) {
  TempDir dir;
  Write(dir.Sub("job/log"), "x");
  StatusOr<ArchiveFile> packed = PackTree(dir.Sub("job"), {"artifacts"}, dir.Sub("a.tar"));
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->size, 0u);
  EXPECT_FALSE(fs::exists(dir.Sub("a.tar")));
  packed = PackTree(dir.Sub("missing"), {"artifacts"}, dir.Sub("a.tar"));
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->size, 0u);
}

TEST(TreeArchiveTest, AnArchiveThatIsNotTheOneItsDigestNamesIsNotUnpacked) {
  TempDir dir;
  std::string tar = TarBuilder().File("artifacts/a", "real").Take();
  Write(dir.Sub("a.tar"), tar);
  ArchiveFile claimed{tar.size(), "sha256:" + Sha256Hex("something else")};
  Status unpacked = UnpackTree(dir.Sub("a.tar"), claimed, dir.Sub("to"), 1 << 20);
  ASSERT_FALSE(unpacked.ok());
  EXPECT_NE(unpacked.message().find("with the digest sha256:" + Sha256Hex(tar)), std::string::npos)
      << unpacked.message();
  EXPECT_FALSE(fs::exists(dir.Sub("to/artifacts/a")));
  ArchiveFile short_size{tar.size() - 1, "sha256:" + Sha256Hex(tar)};
  EXPECT_FALSE(UnpackTree(dir.Sub("a.tar"), short_size, dir.Sub("to"), 1 << 20).ok());
}

// An archive from a hostile runner, with a digest that matches: nothing
// lands outside the directory, whatever its entries say.
TEST(TreeArchiveTest, HostileEntriesWriteNothingOutside) {
  TempDir dir;
  fs::create_directories(dir.Sub("outside"));
  for (const std::string& tar :
       {TarBuilder().File("../outside/x", "escaped").Take(),
        TarBuilder().Symlink("artifacts", dir.Sub("outside")).File("artifacts/x", "via").Take()}) {
    Write(dir.Sub("h.tar"), tar);
    fs::remove_all(dir.Sub("to"));
    Status unpacked =
        UnpackTree(dir.Sub("h.tar"), ArchiveFile{tar.size(), "sha256:" + Sha256Hex(tar)},
                   dir.Sub("to"), 1 << 20);
    (void)unpacked;  // Refused or written beneath "to": never outside.
    EXPECT_FALSE(fs::exists(dir.Sub("outside/x")));
  }
  // Kept to named top-level directories: a symlink in one's place is an
  // error, and nothing is written through it.
  std::string planted = TarBuilder()
                            .Symlink("artifacts", dir.Sub("outside"))
                            .File("reports/r.xml", "<x/>")
                            .File("log", "forged")
                            .Take();
  Write(dir.Sub("p.tar"), planted);
  Write(dir.Sub("job/log"), "real");
  Status kept =
      UnpackTree(dir.Sub("p.tar"), ArchiveFile{planted.size(), "sha256:" + Sha256Hex(planted)},
                 dir.Sub("job"), 1 << 20, {"artifacts", "reports"});
  EXPECT_FALSE(kept.ok());
  EXPECT_EQ(Read(dir.Sub("job/log")), "real");
  EXPECT_FALSE(fs::is_symlink(dir.Sub("job/artifacts")));
  EXPECT_FALSE(fs::exists(dir.Sub("job/.unpacking")));
  std::string big = TarBuilder().File("artifacts/big", std::string(4096, 'b')).Take();
  Write(dir.Sub("b.tar"), big);
  EXPECT_FALSE(UnpackTree(dir.Sub("b.tar"), ArchiveFile{big.size(), "sha256:" + Sha256Hex(big)},
                          dir.Sub("b"), 1024)
                   .ok());
}

}  // namespace
}  // namespace slipway
