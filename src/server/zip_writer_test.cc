// ZipDirectory's archives, checked by an independent reader (Python's zipfile).
#include "server/zip_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <cstdio>
#include <fstream>

namespace slipway {
namespace {

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  pclose(pipe);
  return out;
}

TEST(ZipWriterTest, ArchiveOfADirectoryReadsBackWithPython) {
  char tmpl[] = "/tmp/slipway-zip-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::filesystem::path dir(tmpl);
  std::filesystem::create_directories(dir / "root/sub");
  std::ofstream(dir / "root/a.txt") << std::string(10000, 'a');  // Deflated.
  std::ofstream(dir / "root/sub/b.bin") << "\x01\x02\x03";        // Stored.
  std::ofstream(dir / "root/empty");
  std::filesystem::create_symlink("/etc/passwd", dir / "root/link");  // Not followed.
  auto zip = ZipDirectory(dir / "root", kMaxZipInputBytes);
  ASSERT_TRUE(zip.ok()) << zip.status().message();
  std::ofstream(dir / "out.zip", std::ios::binary) << *zip;
  std::string out = RunCommand(
      "python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
      "print(z.testzip(), [(i.filename, i.file_size, i.compress_type) for i in z.infolist()], "
      "z.read('a.txt') == b'a'*10000, z.read('sub/b.bin'))\" " +
      (dir / "out.zip").string());
  EXPECT_EQ(out,
            "None [('a.txt', 10000, 8), ('empty', 0, 0), ('sub/b.bin', 3, 0)] True "
            "b'\\x01\\x02\\x03'\n");
  EXPECT_FALSE(ZipDirectory(dir / "root", 100).ok());  // Over the size limit.
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace slipway
