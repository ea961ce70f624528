#include "exec/report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "exec/downstream.h"
#include "exec/file_tree.h"
#include "exec/run_dir.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

// Seconds rounded to milliseconds, so that reports do not show float noise.
double RoundSeconds(double s) { return std::round(s * 1000.0) / 1000.0; }

nlohmann::json TimestampOrNull(const std::optional<Clock::WallTime>& t) {
  if (!t) return nullptr;
  return FormatTimestamp(*t);
}

nlohmann::ordered_json JobsJson(const RunResult& result, const ReportContext& context);

// A trigger job's downstream pipeline: its id, kind, status and jobs, in the
// shape of the report's own (docs/report.md).
nlohmann::ordered_json DownstreamJson(const DownstreamRun& run, const ReportContext& context) {
  nlohmann::ordered_json out;
  out["id"] = run.pipeline_id;
  out["kind"] = run.multi_project ? "multi_project" : "child";
  out["project"] = run.multi_project ? nlohmann::ordered_json(run.project) : nullptr;
  out["status"] = CiStatusName(run.result.status);
  out["started_at"] = FormatTimestamp(run.result.started_at);
  out["finished_at"] = FormatTimestamp(run.result.finished_at);
  out["duration_s"] = RoundSeconds(run.result.duration_s);
  out["dir"] = run.run_dir.empty()
                   ? nullptr
                   : nlohmann::ordered_json(PathForDisplay(run.run_dir, context.project_dir));
  out["jobs"] = JobsJson(run.result, context);
  return out;
}

nlohmann::ordered_json JobsJson(const RunResult& result, const ReportContext& context) {
  nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
  for (const JobRun& run : result.jobs) {
    nlohmann::ordered_json job;
    job["name"] = run.job->name;
    job["stage"] = run.job->stage;
    job["status"] = CiStatusName(run.status);
    job["allow_failure"] = run.allow_failure;
    job["exit_code"] = run.exit_code ? nlohmann::ordered_json(*run.exit_code) : nullptr;
    job["failure_reason"] = run.status == CiStatus::kFailed && !run.failure_reason.empty()
                                ? nlohmann::ordered_json(run.failure_reason)
                                : nullptr;
    job["failure_message"] = run.status == CiStatus::kFailed && !run.failure_message.empty()
                                 ? nlohmann::ordered_json(run.failure_message)
                                 : nullptr;
    job["retries"] = run.retries;
    job["started_at"] = TimestampOrNull(run.started_at);
    job["finished_at"] = TimestampOrNull(run.finished_at);
    job["duration_s"] = RoundSeconds(run.duration_s);
    job["log"] = run.log_path.empty()
                     ? nullptr
                     : nlohmann::ordered_json(PathForDisplay(run.log_path, context.project_dir));
    job["image"] = run.image.empty()
                       ? nlohmann::ordered_json(nullptr)
                       : nlohmann::ordered_json{{"name", run.image}, {"digest", run.image_digest}};
    if (run.job->trigger) {
      job["downstream_pipeline"] =
          run.downstream ? DownstreamJson(*run.downstream, context) : nullptr;
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace

std::string FormatTimestamp(Clock::WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  if (ms % 1000 < 0) --seconds;
  int millis = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string ReportJson(const RunResult& result, const ReportContext& context) {
  nlohmann::ordered_json report;
  report["status"] = CiStatusName(result.status);
  report["pipeline"] = {
      {"id", context.pipeline_id},
      {"name", context.pipeline_name.empty() ? nlohmann::ordered_json(nullptr)
                                             : nlohmann::ordered_json(context.pipeline_name)},
      {"started_at", FormatTimestamp(result.started_at)},
      {"finished_at", FormatTimestamp(result.finished_at)},
      {"duration_s", RoundSeconds(result.duration_s)},
  };
  report["jobs"] = JobsJson(result, context);
  return report.dump(2) + "\n";
}

Status WriteReport(const std::string& path, const RunResult& result, const ReportContext& context) {
  std::string text = ReportJson(result, context);
  std::string temporary = path + ".tmp";
  if (!WriteFile(temporary, text).ok()) return Status::Error("cannot write report '" + path + "'");
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    std::string reason = ec.message();
    fs::remove(temporary, ec);
    return Status::Error("cannot write report '" + path + "': " + reason);
  }
  return Status::Ok();
}

}  // namespace slipway
