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

#include "server/api_test_util.h"
#include "server/pipeline_service.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

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

class ZipDownloadTest : public ApiTestBase {
 protected:
  void SetUp() override {
    ApiTestBase::SetUp();
    char tmpl[] = "/tmp/slipway-zip-api-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    work_dir_ = tmpl;
    data_dir_ = work_dir_ + "/data";
    ServiceOptions options;
    options.data_dir = data_dir_;
    options.jobs_per_pipeline = 2;
    auto service = PipelineService::Create(store_.get(), &hub_, options);
    ASSERT_TRUE(service.ok()) << service.status().message();
    service_ = std::move(*service);
    ASSERT_TRUE(service_->Start().ok());
    api_ = std::make_unique<Api>(store_.get(), service_.get(), &hub_);
  }
  void TearDown() override {
    api_.reset();
    service_.reset();
    std::error_code ec;
    std::filesystem::remove_all(work_dir_, ec);
  }

  std::string work_dir_;
  std::string data_dir_;
  TestRepo repo_;
  std::unique_ptr<PipelineService> service_;
};

TEST_F(ZipDownloadTest, LinksToTheServersFilesAreZippedAsLinks) {
  // Where the server keeps its database (DATA/slipway.db); the job knows
  // the path, as any job can guess it.
  std::string db = data_dir_ + "/slipway.db";
  std::ofstream(db) << "SQLite format 3 secret rows";
  repo_.Write(".gitlab-ci.yml", R"yml(
build:
  script:
    - mkdir -p out/sub && echo built > out/sub/file.txt
    - ln -s "$DB" out/db
    - ln -s "$(dirname "$DB")" out/data
  artifacts:
    paths: [out/]
)yml");
  repo_.Commit("artifacts with links");
  ProjectRecord project;
  project.name = "zipped";
  project.path_with_namespace = "group/zipped";
  project.repo_url = repo_.dir();
  auto created_project = store_->CreateProject(project);
  ASSERT_TRUE(created_project.ok()) << created_project.status().message();
  CreatePipelineRequest request;
  request.project_id = created_project->id;
  request.variables = {{"DB", db}};
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ASSERT_TRUE(WaitFor([&] {
    auto p = store_->GetPipeline(created->id);
    return p.ok() && *p && !IsActive((*p)->status);
  }));
  WaitFor([&] { return service_->Stats().running_pipelines == 0; });
  JobFilter filter;
  filter.pipeline_id = created->id;
  auto jobs = store_->ListJobs(filter);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->items.size(), 1u);
  ASSERT_EQ(jobs->items[0].status, CiStatus::kSuccess);

  HttpResponse r = Call("GET",
                        "/api/v4/projects/" + std::to_string(created_project->id) + "/jobs/" +
                            std::to_string(jobs->items[0].id) + "/artifacts",
                        read_);
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
