#include "exec/artifact_index.h"

#include <algorithm>
#include <filesystem>

namespace slipway {
namespace {

namespace fs = std::filesystem;

struct ReportType {
  std::string_view type;
  std::string_view default_name;  // GitLab's Enums::Ci::JobArtifact::DEFAULT_FILE_NAMES.
  std::string_view format;        // Its type_and_format_pairs.
};

// GitLab's report artifact types (app/models/concerns/enums/ci/job_artifact.rb).
constexpr ReportType kReportTypes[] = {
    {"accessibility", "gl-accessibility.json", "raw"},
    {"annotations", "gl-annotations.json", "gzip"},
    {"api_fuzzing", "gl-api-fuzzing-report.json", "raw"},
    {"browser_performance", "browser-performance.json", "raw"},
    {"cluster_image_scanning", "gl-cluster-image-scanning-report.json", "raw"},
    {"cobertura", "cobertura-coverage.xml", "gzip"},
    {"codequality", "gl-code-quality-report.json", "raw"},
    {"container_scanning", "gl-container-scanning-report.json", "raw"},
    {"coverage_fuzzing", "gl-coverage-fuzzing.json", "raw"},
    {"cyclonedx", "gl-sbom.cdx.json", "gzip"},
    {"dast", "gl-dast-report.json", "raw"},
    {"dependency_scanning", "gl-dependency-scanning-report.json", "raw"},
    {"dotenv", ".env", "gzip"},
    {"jacoco", "jacoco-coverage.xml", "gzip"},
    {"junit", "junit.xml", "gzip"},
    {"license_scanning", "gl-license-scanning-report.json", "raw"},
    {"load_performance", "load-performance.json", "raw"},
    {"lsif", "lsif.json", "zip"},
    {"metrics", "metrics.txt", "gzip"},
    {"performance", "performance.json", "raw"},
    {"repository_xray", "gl-repository-xray.json", "gzip"},
    {"requirements", "requirements.json", "raw"},
    {"requirements_v2", "requirements_v2.json", "raw"},
    {"sarif", "gl-sarif-report.sarif", "raw"},
    {"sast", "gl-sast-report.json", "raw"},
    {"scip", "index.scip", "zip"},
    {"secret_detection", "gl-secret-detection-report.json", "raw"},
    {"terraform", "tfplan.json", "raw"},
};

// GitLab Runner's artifactFilename: the name's last component (or its
// default), plus the extension of the format.
std::string UploadName(std::string_view name, std::string_view format) {
  while (name.size() > 1 && name.back() == '/') name.remove_suffix(1);
  size_t slash = name.find_last_of('/');
  std::string base(slash == std::string_view::npos || name.size() == 1 ? name
                                                                       : name.substr(slash + 1));
  if (base.empty() || base == ".") base = "default";
  if (format == "zip") return base + ".zip";
  if (format == "gzip") return base + ".gz";
  return base;
}

// Bytes of the regular files under dir; -1 when it holds nothing at all.
int64_t TreeSize(const fs::path& dir) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec || it == fs::recursive_directory_iterator()) return -1;
  int64_t size = 0;
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code stat_ec;
    fs::file_status status = it->symlink_status(stat_ec);
    if (stat_ec || !fs::is_regular_file(status)) continue;
    uintmax_t bytes = it->file_size(stat_ec);
    if (!stat_ec) size += static_cast<int64_t>(bytes);
  }
  return size;
}

}  // namespace

std::vector<JobArtifact> IndexJobArtifacts(const std::string& job_dir,
                                           std::string_view archive_name) {
  std::vector<JobArtifact> out;
  const fs::path root(job_dir);
  if (int64_t size = TreeSize(root / "artifacts"); size >= 0) {
    out.push_back({"archive", "artifacts", size, UploadName(archive_name, "zip"), "zip"});
  }
  std::vector<std::string> types;
  std::error_code ec;
  for (fs::directory_iterator it(root / "reports", ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec) && !it->is_symlink(type_ec)) {
      types.push_back(it->path().filename().string());
    }
  }
  std::sort(types.begin(), types.end());
  for (const std::string& type : types) {
    int64_t size = TreeSize(root / "reports" / type);
    if (size < 0) continue;
    auto known = std::find_if(std::begin(kReportTypes), std::end(kReportTypes),
                              [&](const ReportType& r) { return r.type == type; });
    // A key GitLab does not know as a file type (coverage_report, whose
    // file type is its coverage_format) is listed under its own name.
    std::string_view default_name = known != std::end(kReportTypes) ? known->default_name : type;
    std::string_view format = known != std::end(kReportTypes) ? known->format : "raw";
    out.push_back(
        {type, "reports/" + type, size, UploadName(default_name, format), std::string(format)});
  }
  return out;
}

}  // namespace slipway
