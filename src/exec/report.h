// The JSON report of a run (`slipway run --report FILE`), a contract
// documented in docs/report.md. Written whatever the outcome, also for a
// canceled run.
#ifndef SLIPWAY_EXEC_REPORT_H_
#define SLIPWAY_EXEC_REPORT_H_

#include <string>

#include "exec/run_result.h"
#include "util/clock.h"
#include "util/status.h"

namespace slipway {

struct ReportContext {
  int pipeline_id = 0;        // The run's id in .slipway/runs/.
  std::string project_dir;    // Log paths under it are written relative to it.
  std::string pipeline_name;  // workflow:name, expanded; empty: none.
};

// The report as pretty-printed JSON, ending in a newline.
std::string ReportJson(const RunResult& result, const ReportContext& context);

// Writes ReportJson to path atomically (a temporary file renamed over it).
Status WriteReport(const std::string& path, const RunResult& result, const ReportContext& context);

// "2026-11-28T13:45:00.123Z": UTC with milliseconds.
std::string FormatTimestamp(Clock::WallTime t);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_REPORT_H_
