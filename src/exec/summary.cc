#include "exec/summary.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "exec/bash_script.h"
#include "exec/downstream.h"
#include "exec/nested_output.h"
#include "exec/run_dir.h"
#include "util/display_width.h"

namespace slipway {
namespace {

constexpr off_t kTailBytes = 64 * 1024;

std::string Duration(const JobRun& run) {
  if (!run.started_at) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", run.duration_s);
  return buf;
}

std::string StatusText(const JobRun& run) {
  std::string text = CiStatusName(run.status);
  if (run.status == CiStatus::kFailed && run.allow_failure) text += " (allowed)";
  if (run.retries > 0) text += " (" + std::to_string(run.retries) + " retries)";
  return text;
}

std::string Colored(const std::string& text, const JobRun& run, bool color) {
  if (!color) return text;
  const char* code = "\033[90m";
  if (run.status == CiStatus::kSuccess) code = "\033[32m";
  if (run.status == CiStatus::kFailed) code = run.allow_failure ? "\033[33m" : "\033[31m";
  if (run.status == CiStatus::kCanceled) code = "\033[31m";
  return code + text + "\033[0m";
}

// name as one shell word: quoted unless it is plain.
std::string ShellWord(const std::string& name) {
  bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == '/' || c == ':';
  });
  return plain ? name : ShellQuote(name);
}

// A line of the table: a job of the run, or of a downstream pipeline shown
// under its trigger job as "<trigger> > <job>".
struct Row {
  const JobRun* run;
  std::string name;
};

void AddRows(const RunResult& result, const std::string& prefix, std::vector<Row>* rows) {
  for (const JobRun& run : result.jobs) {
    std::string name = prefix.empty() ? run.job->name : NestedJobName(prefix, run.job->name);
    rows->push_back({&run, name});
    if (run.downstream) AddRows(run.downstream->result, name, rows);
  }
}

}  // namespace

std::string TailLines(const std::string& path, int n) {
  if (n <= 0) return "";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st;
  off_t size = fstat(fd, &st) == 0 ? st.st_size : 0;
  off_t from = std::max<off_t>(0, size - kTailBytes);
  std::string text(static_cast<size_t>(size - from), '\0');
  ssize_t got = pread(fd, text.data(), text.size(), from);
  close(fd);
  text.resize(got > 0 ? static_cast<size_t>(got) : 0);
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  // Walk back over n line ends (the last one closes the final line).
  size_t begin = text.size();
  for (int lines = 0; lines < n && begin > 0; ++lines) {
    size_t nl = begin >= 2 ? text.rfind('\n', begin - 2) : std::string::npos;
    begin = nl == std::string::npos ? 0 : nl + 1;
  }
  // A line cut by the 64 KiB window is not shown half.
  if (begin == 0 && from > 0) {
    size_t nl = text.find('\n');
    begin = nl == std::string::npos ? text.size() : nl + 1;
  }
  return text.substr(begin);
}

std::string FormatSummary(const RunResult& result, const SummaryOptions& options) {
  std::vector<Row> rows;
  AddRows(result, "", &rows);
  size_t name_w = 3;
  size_t stage_w = 5;
  size_t status_w = 6;
  for (const Row& row : rows) {
    name_w = std::max(name_w, DisplayWidth(row.name));
    stage_w = std::max(stage_w, DisplayWidth(row.run->job->stage));
    status_w = std::max(status_w, StatusText(*row.run).size());
  }
  std::string out = "\n" + PadToWidth("job", name_w) + "  " + PadToWidth("stage", stage_w) + "  " +
                    PadToWidth("status", status_w) + "  duration\n";
  for (const Row& row : rows) {
    const JobRun& run = *row.run;
    out += PadToWidth(row.name, name_w) + "  " + PadToWidth(run.job->stage, stage_w) + "  " +
           Colored(PadToWidth(StatusText(run), status_w), run, options.color) + "  " +
           Duration(run) + "\n";
  }
  // The counts are the pipeline's own jobs': a downstream pipeline counts
  // through its trigger job.
  int failed = 0, warnings = 0, skipped = 0, canceled = 0, manual = 0, succeeded = 0;
  for (const JobRun& run : result.jobs) {
    switch (run.status) {
      case CiStatus::kSuccess:
        ++succeeded;
        break;
      case CiStatus::kFailed:
        ++(run.allow_failure ? warnings : failed);
        break;
      case CiStatus::kSkipped:
        ++skipped;
        break;
      case CiStatus::kCanceled:
        ++canceled;
        break;
      case CiStatus::kManual:
        ++manual;
        break;
      default:
        break;
    }
  }
  for (const Row& row : rows) {
    const JobRun& run = *row.run;
    if (run.status != CiStatus::kFailed || run.log_path.empty()) continue;
    out += "\n--- " + row.name + ": last lines of " +
           PathForDisplay(run.log_path, options.project_dir) + " ---\n";
    out += TailLines(run.log_path, options.tail_lines);
  }
  char head[64];
  std::snprintf(head, sizeof head, " in %.2f s", result.duration_s);
  std::string status = "pipeline ";
  if (!options.pipeline_name.empty()) status += "'" + options.pipeline_name + "' ";
  status += CiStatusName(result.status);
  if (options.color) {
    const char* code = result.status == CiStatus::kSuccess ? "\033[32m" : "\033[31m";
    status = code + status + "\033[0m";
  }
  out += "\n" + status + head + ": " + std::to_string(succeeded) + " succeeded";
  auto add = [&](int count, const char* what) {
    if (count > 0) out += ", " + std::to_string(count) + " " + what;
  };
  add(failed, "failed");
  add(warnings, "allowed to fail");
  add(canceled, "canceled");
  add(skipped, "skipped");
  add(manual, "manual");
  out += "\n";
  // What GitLab shows as a blocked pipeline: jobs never reached because a
  // manual job with allow_failure: false was not run.
  std::vector<std::string> gates, waiting;
  for (const JobRun& run : result.jobs) {
    if (run.status == CiStatus::kManual && !run.allow_failure) gates.push_back(run.job->name);
    if (run.status == CiStatus::kCreated) waiting.push_back(run.job->name);
  }
  if (!gates.empty() && !waiting.empty()) {
    std::string names, command = "slipway run";
    for (const std::string& gate : gates) {
      names += (names.empty() ? "'" : ", '") + gate + "'";
      command += " " + ShellWord(gate);
    }
    // Jobs named on the command line run with what they depend on; the
    // waiting ones must be named too, or only the gates run.
    constexpr size_t kMaxNamed = 5;
    for (size_t i = 0; i < waiting.size() && i < kMaxNamed; ++i) {
      command += " " + ShellWord(waiting[i]);
    }
    if (waiting.size() > kMaxNamed) command += " …";
    out += "blocked: " + std::to_string(waiting.size()) +
           (waiting.size() == 1 ? " job waits" : " jobs wait") + " on manual job" +
           (gates.size() == 1 ? " " : "s ") + names + " (allow_failure: false); to go on: `" +
           command + "`\n";
  }
  return out;
}

}  // namespace slipway
