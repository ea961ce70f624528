#include "exec/console.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace slipway {
namespace {

constexpr size_t kMaxPartialLine = 64 * 1024;
constexpr const char* kReset = "\033[0m";
constexpr const char* kJobColors[] = {"\033[36m", "\033[35m", "\033[34m",
                                      "\033[33m", "\033[32m", "\033[96m"};

bool IsFinal(JobStatus s) {
  return s == JobStatus::kSuccess || s == JobStatus::kFailed || s == JobStatus::kCanceled ||
         s == JobStatus::kSkipped || s == JobStatus::kManual;
}

const char* StatusColor(JobStatus s, bool allowed) {
  switch (s) {
    case JobStatus::kSuccess:
      return "\033[32m";
    case JobStatus::kFailed:
      return allowed ? "\033[33m" : "\033[31m";
    case JobStatus::kCanceled:
      return "\033[31m";
    default:
      return "\033[90m";
  }
}

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

// The message shown when a job reaches status, or "" for none.
std::string Describe(const JobRun& run, JobStatus previous) {
  switch (run.status) {
    case JobStatus::kRunning:
      return run.retries > 0 ? "started (attempt " + std::to_string(run.retries + 1) + ")"
                             : "started (stage " + run.job->stage + ")";
    case JobStatus::kPending:
      return previous == JobStatus::kRunning ? "failed (" + run.failure_reason + "), will retry"
                                             : "";
    case JobStatus::kScheduled:
      return "delayed: starts in " + run.job->start_in;
    case JobStatus::kSuccess:
      return "success in " + FormatSeconds(run.duration_s);
    case JobStatus::kFailed: {
      std::string text = "failed";
      if (run.exit_code) text += ": exit code " + std::to_string(*run.exit_code);
      if (!run.failure_reason.empty()) text += " (" + run.failure_reason + ")";
      text += " in " + FormatSeconds(run.duration_s);
      if (run.allow_failure) text += ", allowed to fail";
      return text;
    }
    case JobStatus::kCanceled:
      return "canceled";
    case JobStatus::kSkipped:
      return "skipped";
    case JobStatus::kManual:
      return "manual: not run (name it on the command line to run it)";
    case JobStatus::kCreated:
      return "";
  }
  return "";
}

}  // namespace

Console::Console(std::FILE* out, const std::vector<std::string>& job_names, const Clock* clock,
                 ConsoleOptions options)
    : out_(out), clock_(clock), options_(options), start_(clock->Now()), total_(job_names.size()) {
  for (const std::string& name : job_names) {
    width_ = std::max(width_, std::min(name.size(), options_.max_name_width));
    color_index_.emplace(name, static_cast<int>(color_index_.size()));
  }
}

std::string Console::Prefix(std::string_view job_name, std::string_view marker) {
  std::string prefix(job_name);
  if (prefix.size() < width_) prefix.append(width_ - prefix.size(), ' ');
  if (options_.color) {
    auto it = color_index_.find(job_name);
    int index = it == color_index_.end() ? 0 : it->second;
    prefix = kJobColors[index % std::size(kJobColors)] + prefix + kReset;
  }
  prefix += ' ';
  prefix += marker;
  prefix += ' ';
  return prefix;
}

void Console::EmitLine(std::string_view job_name, std::string_view marker, std::string_view text) {
  std::string line = Prefix(job_name, marker);
  line += text;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out_);
}

void Console::ClearStatus() {
  if (status_drawn_) std::fputs("\r\033[K", out_);
  status_drawn_ = false;
}

void Console::DrawStatus() {
  if (!options_.status_line) return;
  double elapsed = std::chrono::duration<double>(clock_->Now() - start_).count();
  char head[96];
  std::snprintf(head, sizeof head, "%zu running, %zu/%zu done, %.1f s", running_.size(), done_,
                total_, elapsed);
  std::string line = head;
  if (!running_.empty()) line += ": ";
  size_t shown = 0;
  for (const std::string& name : running_) {
    if (line.size() + name.size() > 100) {
      line += "...";
      break;
    }
    line += (shown++ > 0 ? ", " : "") + name;
  }
  std::fputs(("\r\033[K" + line).c_str(), out_);
  status_drawn_ = true;
}

void Console::Write(std::string_view job_name, std::string_view bytes) {
  std::lock_guard<std::mutex> guard(mu_);
  ClearStatus();
  std::string& partial = partial_[std::string(job_name)];
  partial.append(bytes);
  size_t start = 0;
  for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(partial.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Commands the executor echoes ("$ make") are green, as in GitLab's log view.
    if (options_.color && line.substr(0, 2) == "$ ") {
      EmitLine(job_name, "|", "\033[32m" + std::string(line) + kReset);
    } else {
      EmitLine(job_name, "|", line);
    }
  }
  partial.erase(0, start);
  if (partial.size() > kMaxPartialLine) {
    EmitLine(job_name, "|", partial);
    partial.clear();
  }
  DrawStatus();
  std::fflush(out_);
}

void Console::FlushPartial(const std::string& job_name) {
  auto it = partial_.find(job_name);
  if (it == partial_.end() || it->second.empty()) return;
  EmitLine(job_name, "|", it->second);
  it->second.clear();
}

void Console::OnJobUpdate(const JobRun& run) {
  std::lock_guard<std::mutex> guard(mu_);
  const std::string& name = run.job->name;
  auto [it, inserted] = status_.emplace(name, JobStatus::kCreated);
  JobStatus previous = it->second;
  it->second = run.status;
  if (run.status == JobStatus::kRunning) {
    running_.insert(name);
  } else {
    running_.erase(name);
  }
  if (IsFinal(run.status) && !IsFinal(previous)) ++done_;
  std::string text = Describe(run, previous);
  if (text.empty()) return;
  ClearStatus();
  if (run.status != JobStatus::kRunning) FlushPartial(name);
  if (options_.color && run.status != JobStatus::kRunning) {
    text = StatusColor(run.status, run.allow_failure) + text + kReset;
  }
  EmitLine(name, ">", text);
  DrawStatus();
  std::fflush(out_);
}

void Console::Tick() {
  std::lock_guard<std::mutex> guard(mu_);
  if (!options_.status_line) return;
  DrawStatus();
  std::fflush(out_);
}

void Console::Finish() {
  std::lock_guard<std::mutex> guard(mu_);
  ClearStatus();
  for (auto& [name, partial] : partial_) FlushPartial(name);
  std::fflush(out_);
}

}  // namespace slipway
