// The table printed when a run ends: every job with stage, status and
// duration, the last lines of each failed job's log, and the pipeline's
// status (and name, when workflow:name gives one).
#ifndef SLIPWAY_EXEC_SUMMARY_H_
#define SLIPWAY_EXEC_SUMMARY_H_

#include <string>

#include "exec/run_result.h"

namespace slipway {

struct SummaryOptions {
  bool color = false;
  int tail_lines = 10;        // Lines shown from each failed job's log.
  std::string project_dir;    // Log paths under it are shown relative to it.
  std::string pipeline_name;  // workflow:name, expanded; shown when not empty.
};

std::string FormatSummary(const RunResult& result, const SummaryOptions& options);

// The last n lines of the file at path ("" when it cannot be read). Reads
// only the end of a large file.
std::string TailLines(const std::string& path, int n);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SUMMARY_H_
