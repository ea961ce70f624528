// The job artifacts endpoints (GitLab's Job Artifacts API): the archive and
// single files by job id or by ref name (the latest successful job), keep
// and delete; and a pipeline's test report made of its jobs' junit reports.
// docs/api.md, "Job artifacts" and "Test reports".
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"
#include "server/api_handlers.h"
#include "server/gitlab_json.h"
#include "server/stored_artifacts.h"
#include "server/test_report.h"
#include "server/zip_writer.h"

namespace slipway {
namespace {

// The artifacts directory of job_id, or none (404): kept none, retried,
// deleted or expired.
std::optional<std::filesystem::path> ArtifactsRoot(ApiContext& ctx, int64_t job_id) {
  std::string dir = ctx.service != nullptr ? ctx.service->ArtifactsDir(job_id) : std::string();
  std::error_code ec;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return std::filesystem::path(dir);
}

HttpResponse ServeArchive(ApiContext& ctx, int64_t job_id) {
  auto root = ArtifactsRoot(ctx, job_id);
  if (!root) return JsonError(404, "404 Not Found");
  auto zip = ZipDirectory(*root, kMaxZipInputBytes);
  if (!zip.ok()) return JsonError(413, "413 Payload Too Large - " + zip.status().message());
  // Named as the job lists it (artifacts:name), kept to characters that
  // need no quoting in the header.
  std::string filename = "artifacts.zip";
  if (auto listed = ctx.store->ListArtifacts(job_id); listed.ok()) {
    for (const ArtifactRecord& a : *listed) {
      if (a.file_type == "archive" && !a.filename.empty()) filename = a.filename;
    }
  }
  for (char& c : filename) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || c == 0x7f) c = '_';
  }
  HttpResponse response;
  response.body = std::move(*zip);
  response.headers = {{"Content-Type", "application/zip"},
                      {"Content-Disposition", "attachment; filename=\"" + filename + "\""}};
  return response;
}

// One regular file of the job's artifacts at `relative` (untrusted: from the
// URL). The path may not climb (`..`), and where a symbolic link inside the
// artifacts (which a job made) leads is checked to be inside them.
HttpResponse ServeFile(ApiContext& ctx, int64_t job_id, const std::string& relative) {
  auto root = ArtifactsRoot(ctx, job_id);
  if (!root) return JsonError(404, "404 Not Found");
  std::filesystem::path rel(relative);
  if (relative.empty() || rel.is_absolute()) return JsonError(404, "404 Not Found");
  for (const auto& part : rel) {
    if (part == ".." || part == ".") return JsonError(404, "404 Not Found");
  }
  std::error_code ec;
  auto canonical_root = std::filesystem::canonical(*root, ec);
  if (ec) return JsonError(404, "404 Not Found");
  auto canonical_file = std::filesystem::canonical(*root / rel, ec);
  if (ec || !std::filesystem::is_regular_file(canonical_file, ec)) {
    return JsonError(404, "404 Not Found");
  }
  auto [r, f] = std::mismatch(canonical_root.begin(), canonical_root.end(), canonical_file.begin(),
                              canonical_file.end());
  if (r != canonical_root.end()) return JsonError(404, "404 Not Found");
  std::string name = canonical_file.filename().string();
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || c == 0x7f) c = '_';
  }
  HttpResponse response;
  response.file_path = canonical_file.string();
  response.headers = {{"Content-Type", "application/octet-stream"},
                      {"Content-Disposition", "attachment; filename=\"" + name + "\""}};
  return response;
}

// The job `?job=` in the latest successful pipeline for :ref_name, as
// GitLab's download by reference name finds it; 400 without `job`, 404
// when there is none.
std::optional<int64_t> JobForRef(ApiContext& ctx, HttpResponse* error) {
  auto project = LoadProject(ctx, error);
  if (!project) return std::nullopt;
  std::optional<std::string> name = ctx.req.Query("job");
  if (!name || name->empty()) {
    *error = JsonError(400, "400 Bad request - job is missing");
    return std::nullopt;
  }
  StatusOr<std::optional<JobRecord>> job =
      LatestSuccessfulJob(ctx.store, project->id, ctx.params["ref_name"], *name);
  if (!job.ok()) {
    *error = StoreError(job.status());
    return std::nullopt;
  }
  if (!*job) {
    *error = JsonError(404, "404 Not found");
    return std::nullopt;
  }
  return (*job)->id;
}

}  // namespace

HttpResponse GetArtifactFile(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadJob(ctx, &error);
  if (!loaded) return error;
  return ServeFile(ctx, loaded->job.id, ctx.params["path"]);
}

HttpResponse GetArtifactsArchive(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadJob(ctx, &error);
  if (!loaded) return error;
  return ServeArchive(ctx, loaded->job.id);
}

// slipway's extension for the dashboard's browser (GitLab's UI browses
// artifacts through its metadata file, which has no public API): every
// entry of the archive, listed without following a link.
HttpResponse ListArtifactFiles(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadJob(ctx, &error);
  if (!loaded) return error;
  auto root = ArtifactsRoot(ctx, loaded->job.id);
  if (!root) return JsonError(404, "404 Not Found");
  StatusOr<UniqueFd> fd = OpenDirNoFollow(root->string());
  if (!fd.ok()) return JsonError(404, "404 Not Found");
  StatusOr<std::vector<TreeEntry>> entries = ListTreeAt(fd->get(), root->string());
  if (!entries.ok()) return StoreError(entries.status());
  nlohmann::json files = nlohmann::json::array();
  for (const TreeEntry& e : *entries) {
    struct stat st;
    bool known = fstatat(fd->get(), e.path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    const char* type = e.type == EntryType::kFile        ? "file"
                       : e.type == EntryType::kDirectory ? "directory"
                       : e.type == EntryType::kSymlink   ? "symlink"
                                                         : "other";
    files.push_back({{"path", e.path},
                     {"type", type},
                     {"size", known && e.type == EntryType::kFile ? st.st_size : 0}});
  }
  ctx.cacheable = IsFinished(loaded->job.status) && IsFinished(loaded->pipeline.status);
  return JsonOk(200, files);
}

HttpResponse GetRefArtifactsArchive(ApiContext& ctx) {
  HttpResponse error;
  std::optional<int64_t> job_id = JobForRef(ctx, &error);
  return job_id ? ServeArchive(ctx, *job_id) : error;
}

HttpResponse GetRefArtifactFile(ApiContext& ctx) {
  HttpResponse error;
  std::optional<int64_t> job_id = JobForRef(ctx, &error);
  return job_id ? ServeFile(ctx, *job_id, ctx.params["path"]) : error;
}

HttpResponse KeepArtifacts(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadJob(ctx, &error);
  if (!loaded) return error;
  StatusOr<std::vector<ArtifactRecord>> artifacts = ctx.store->ListArtifacts(loaded->job.id);
  if (!artifacts.ok()) return StoreError(artifacts.status());
  // GitLab: 404 for a job without an archive.
  bool archive = std::any_of(artifacts->begin(), artifacts->end(),
                             [](const ArtifactRecord& a) { return a.file_type == "archive"; });
  if (!archive || loaded->job.retried) return JsonError(404, "404 Not Found");
  if (Status s = ctx.store->SetArtifactsExpireAt(loaded->job.id, std::nullopt); !s.ok()) {
    return StoreError(s);
  }
  return JsonOk(200, JobJsonFor(ctx, loaded->job, loaded->pipeline, loaded->project));
}

HttpResponse DeleteArtifacts(ApiContext& ctx) {
  HttpResponse error;
  auto loaded = LoadJob(ctx, &error);
  if (!loaded) return error;
  if (ctx.service == nullptr) return ServiceUnavailable();
  StatusOr<bool> removed = ctx.service->DeleteArtifacts(loaded->job.id);
  if (!removed.ok()) return StoreError(removed.status());
  if (!*removed) return JsonError(404, "404 Not Found");
  HttpResponse response;
  response.status = 204;
  return response;
}

namespace {

// The test suites of the pipeline in ctx; nullopt with *error (404, 503, 500).
std::optional<std::vector<TestSuiteReport>> LoadTestSuites(ApiContext& ctx, HttpResponse* error) {
  auto project = LoadProject(ctx, error);
  if (!project) return std::nullopt;
  auto pipeline = LoadPipeline(ctx, *project, error);
  if (!pipeline) return std::nullopt;
  if (ctx.service == nullptr) {
    *error = ServiceUnavailable();
    return std::nullopt;
  }
  StatusOr<std::vector<TestSuiteReport>> suites =
      PipelineTestSuites(ctx.store, ctx.service, pipeline->id);
  if (!suites.ok()) {
    *error = StoreError(suites.status());
    return std::nullopt;
  }
  ctx.cacheable = IsFinished(pipeline->status);
  return std::move(*suites);
}

}  // namespace

HttpResponse GetTestReport(ApiContext& ctx) {
  HttpResponse error;
  auto suites = LoadTestSuites(ctx, &error);
  return suites ? JsonOk(200, TestReportJson(*suites)) : error;
}

HttpResponse GetTestReportSummary(ApiContext& ctx) {
  HttpResponse error;
  auto suites = LoadTestSuites(ctx, &error);
  return suites ? JsonOk(200, TestReportSummaryJson(*suites)) : error;
}

}  // namespace slipway
