// Where runs are kept: `.slipway/runs/<id>/` in the project, one directory
// per run with increasing numeric ids, and `jobs/<dir>/` per job inside it.
// `.slipway/` holds a `.gitignore` of `*`, so git ignores it without the
// project's own .gitignore being touched. The layout is documented in
// docs/report.md.
#ifndef SLIPWAY_EXEC_RUN_DIR_H_
#define SLIPWAY_EXEC_RUN_DIR_H_

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace slipway {

struct RunDir {
  int id = 0;
  std::string path;  // Absolute: <project>/.slipway/runs/<id>.
};

// What a finished run leaves in its directory: the JSON report (report.h)
// and the summary printed at its end, without colour.
inline constexpr const char* kRunReportFile = "report.json";
inline constexpr const char* kRunSummaryFile = "summary.txt";

// The project's state directory, <project>/.slipway (absolute), created if
// missing together with its .gitignore. Whatever creates .slipway/ (a run
// directory, the snapshot a run prefetches while its pipeline loads) calls
// this first, so that git never lists it, even when the run stops early.
StatusOr<std::string> MakeStateDir(const std::string& project_dir);

// The project's runs directory: <project>/.slipway/runs.
std::string RunsDir(const std::string& project_dir);

// The ids of the project's run directories, ascending.
std::vector<int> ListRunIds(const std::string& project_dir);

// Creates the next run directory of the project (id = highest existing + 1,
// starting at 1). Safe against concurrent runs: creation is an exclusive
// mkdir, retried with the next id when another run took it.
StatusOr<RunDir> CreateRunDir(const std::string& project_dir);

// A directory name for a job: the job name with every character outside
// [A-Za-z0-9._-] replaced by '_', at most 100 bytes, never "", "." or "..".
std::string JobDirName(std::string_view job_name);

// JobDirName for each name, made unique among them by appending "-2", "-3"...
// to later collisions ("test 1/2" and "test_1_2" both sanitize alike).
std::vector<std::string> UniqueJobDirNames(const std::vector<std::string>& job_names);

// path relative to project_dir when it lies inside it, else path unchanged,
// so users read ".slipway/runs/3/jobs/build/log".
std::string PathForDisplay(const std::string& path, const std::string& project_dir);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_RUN_DIR_H_
