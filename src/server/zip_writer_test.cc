// ZipDirectory's archives, checked by an independent reader (Python's
// zipfile): directly, and as GET /projects/:id/jobs/:job_id/artifacts serves
// them after a real pipeline run by the real PipelineService (real git, real
// bash). A job's artifacts may hold symlinks to the server's own files; the
// archive must carry the link, never the file it points to.
#include "server/zip_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "server/service_api_test_util.h"

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
  std::ofstream(dir / "root/sub/b.bin") << "\x01\x02\x03";       // Stored.
  std::ofstream(dir / "root/empty");
  std::filesystem::create_symlink("/etc/passwd", dir / "root/link");  // Stored as a link.
  std::filesystem::permissions(dir / "root/sub/b.bin", std::filesystem::perms(0755));
  auto zip = ZipDirectory(dir / "root", kMaxZipInputBytes);
  ASSERT_TRUE(zip.ok()) << zip.status().message();
  std::ofstream(dir / "out.zip", std::ios::binary) << *zip;
  std::string out = RunCommand(
      "python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
      "print(z.testzip(), [(i.filename, i.file_size, i.compress_type, oct(i.external_attr >> 16)) "
      "for i in z.infolist()], z.read('a.txt') == b'a'*10000, z.read('sub/b.bin'), "
      "z.read('link'))\" " +
      (dir / "out.zip").string());
  EXPECT_EQ(out,
            "None [('a.txt', 10000, 8, '0o100644'), ('empty', 0, 0, '0o100644'), "
            "('link', 11, 0, '0o120777'), ('sub/', 0, 0, '0o40755'), "
            "('sub/b.bin', 3, 0, '0o100755')] True b'\\x01\\x02\\x03' b'/etc/passwd'\n");
  EXPECT_FALSE(ZipDirectory(dir / "root", 100).ok());  // Over the size limit.
  std::filesystem::remove_all(dir);
}

class ZipDownloadTest : public ServiceApiTest {
 protected:
  std::string CiYaml() override {
    return R"yml(
build:
  script:
    - mkdir -p out/sub && echo built > out/sub/file.txt
    - ln -s "$DB" out/db
    - ln -s "$(dirname "$DB")" out/data
  artifacts:
    paths: [out/]
)yml";
  }
};

// Where the server keeps its database (DATA/slipway.db); the job knows the
// path, as any job can guess it.
TEST_F(ZipDownloadTest, LinksToTheServersFilesAreZippedAsLinks) {
  JobRecord job = Run();
  ASSERT_EQ(job.status, CiStatus::kSuccess);
  std::string db = db_;
  HttpResponse r = Call("GET", Job(job) + "/artifacts", read_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("secret rows"), std::string::npos);
  std::string zip = work_dir_ + "/artifacts.zip";
  std::ofstream(zip, std::ios::binary) << r.body;
  std::string listed = RunCommand(
      "python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
      "print([(i.filename, oct(i.external_attr >> 16)[:4], z.read(i).decode()) "
      "for i in z.infolist()])\" " +
      zip);
  EXPECT_EQ(listed, "[('out/', '0o40', ''), ('out/data', '0o12', '" + data_dir_ +
                        "'), ('out/db', '0o12', '" + db +
                        "'), ('out/sub/', '0o40', ''), "
                        "('out/sub/file.txt', '0o10', 'built\\n')]\n");
}

}  // namespace
}  // namespace slipway
