// What a finished job left of its artifacts, listed as GitLab lists a job's
// artifacts (the API's `artifacts` and `artifacts_file`): one entry for the
// archive (<job_dir>/artifacts/, see artifacts.h) and one per report type
// (<job_dir>/reports/<type>/). It reads the job directory after the executor
// collected the artifacts and changes nothing there.
#ifndef SLIPWAY_EXEC_ARTIFACT_INDEX_H_
#define SLIPWAY_EXEC_ARTIFACT_INDEX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

struct JobArtifact {
  std::string file_type;  // "archive", or the report type ("junit", "dotenv" ...).
  std::string path;       // The directory holding it, relative to the job dir.
  int64_t size = 0;       // Bytes of the regular files under path.
  // As GitLab Runner names the upload and GitLab lists it: the archive is
  // "<artifacts:name>.zip" ("artifacts.zip" by default); a report is
  // GitLab's default file name of its type plus ".gz" when GitLab keeps it
  // gzipped ("junit.xml.gz", ".env.gz") or as is when raw
  // ("gl-sast-report.json").
  std::string filename;
  std::string file_format;  // "zip", "gzip" or "raw", as GitLab's file types have.
};

// The archive first (when <job_dir>/artifacts/ holds anything), then the
// report types in name order (each non-empty <job_dir>/reports/<type>/).
// archive_name is the job's artifacts:name with its variables expanded, or
// "artifacts" (GitLab Runner's default) when the job has none; as the runner
// does, its last path component names the archive, and "default" stands in
// for one that is empty. Symbolic links are never followed (they add no
// bytes). A job dir without artifacts gives an empty list.
std::vector<JobArtifact> IndexJobArtifacts(const std::string& job_dir,
                                           std::string_view archive_name);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_ARTIFACT_INDEX_H_
