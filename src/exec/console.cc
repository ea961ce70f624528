#include "exec/console.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "util/display_width.h"

namespace slipway {
namespace {

constexpr size_t kMaxPartialLine = 64 * 1024;
constexpr const char* kReset = "\033[0m";
constexpr const char* kJobColors[] = {"\033[36m", "\033[35m", "\033[34m",
                                      "\033[33m", "\033[32m", "\033[96m"};

// Done, for the progress count: completed, or manual (left for a user).
bool IsFinal(CiStatus s) { return IsCompleted(s) || s == CiStatus::kManual; }

const char* StatusColor(CiStatus s, bool allowed) {
  switch (s) {
    case CiStatus::kSuccess:
      return "\033[32m";
    case CiStatus::kFailed:
      return allowed ? "\033[33m" : "\033[31m";
    case CiStatus::kCanceled:
      return "\033[31m";
    default:
      return "\033[90m";
  }
}

// "12s", "1m05s", "2h03m": how long a job has been running.
std::string FormatElapsed(Clock::TimePoint::duration d) {
  long s = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s % 3600 / 60);
  }
  return buf;
}

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

// The message shown when a job reaches status, or "" for none.
std::string Describe(const JobRun& run, CiStatus previous) {
  switch (run.status) {
    case CiStatus::kRunning:
      return run.retries > 0 ? "started (attempt " + std::to_string(run.retries + 1) + ")"
                             : "started (stage " + run.job->stage + ")";
    case CiStatus::kPending:
      return previous == CiStatus::kRunning ? "failed (" + run.failure_reason + "), will retry"
                                            : "";
    case CiStatus::kScheduled:
      return "delayed: starts in " + run.job->start_in;
    case CiStatus::kSuccess:
      return "success in " + FormatSeconds(run.duration_s);
    case CiStatus::kFailed: {
      std::string text = "failed";
      if (run.exit_code) text += ": exit code " + std::to_string(*run.exit_code);
      if (!run.failure_reason.empty()) text += " (" + run.failure_reason + ")";
      text += " in " + FormatSeconds(run.duration_s);
      if (run.allow_failure) text += ", allowed to fail";
      return text;
    }
    case CiStatus::kCanceled:
      return "canceled";
    case CiStatus::kSkipped:
      return "skipped";
    case CiStatus::kManual:
      return "manual: not run (name it on the command line to run it)";
    case CiStatus::kCreated:
    case CiStatus::kWaitingForResource:
    case CiStatus::kPreparing:
      return "";
  }
  return "";
}

}  // namespace

Console::Console(std::FILE* out, const std::vector<std::string>& job_names, const Clock* clock,
                 ConsoleOptions options)
    : out_(out),
      clock_(clock),
      options_(options),
      start_(clock->Now()),
      total_(job_names.size()),
      columns_(options.columns) {
  for (const std::string& name : job_names) {
    width_ = std::max(width_, std::min(DisplayWidth(name), options_.max_name_width));
    color_index_.emplace(name, static_cast<int>(color_index_.size()));
  }
}

void Console::AddJobs(const std::vector<std::string>& job_names) {
  std::lock_guard<std::mutex> guard(mu_);
  total_ += job_names.size();
  for (const std::string& name : job_names) {
    color_index_.emplace(name, static_cast<int>(color_index_.size()));
  }
}

std::string Console::Prefix(std::string_view job_name, std::string_view marker) {
  std::string prefix = PadToWidth(std::string(job_name), width_);
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

std::string Console::FormatStatus() {
  const size_t limit = columns_ - 1;
  const Clock::TimePoint now = clock_->Now();
  const std::string_view ellipsis = options_.unicode ? "\u2026" : "...";
  const size_t ellipsis_width = options_.unicode ? 1 : 3;
  size_t waiting = total_ > done_ + running_.size() ? total_ - done_ - running_.size() : 0;
  std::string count = std::to_string(running_.size()) + " running";
  std::string tail;
  if (waiting > 0) tail += " | " + std::to_string(waiting) + " waiting";
  tail += " | " + std::to_string(done_) + "/" + std::to_string(total_) + " done, " +
          FormatElapsed(now - start_);
  // The names fill what the counts leave, oldest first; those that do not
  // fit become one "…".
  size_t fixed = DisplayWidth(count) + 2 + DisplayWidth(tail);
  size_t room = limit > fixed ? limit - fixed : 0;
  std::string names;
  size_t used = 0;
  for (size_t i = 0; i < running_.size(); ++i) {
    std::string elapsed = " " + FormatElapsed(now - running_[i].since);
    std::string_view separator = i == 0 ? "" : ", ";
    // Room for ", …" after this one unless it is the last.
    size_t reserve = i + 1 < running_.size() ? 2 + ellipsis_width : 0;
    size_t width = separator.size() + DisplayWidth(running_[i].name) + elapsed.size();
    if (used + width + reserve <= room) {
      names.append(separator).append(running_[i].name).append(elapsed);
      used += width;
      continue;
    }
    size_t name_room =
        room - std::min(room, used + separator.size() + elapsed.size() + ellipsis_width + reserve);
    if (i == 0 && name_room >= 4) {
      // A first name too long to show whole is shortened rather than hidden.
      names.append(TruncateToWidth(running_[i].name, name_room)).append(ellipsis).append(elapsed);
      if (running_.size() > 1) names.append(", ").append(ellipsis);
    } else if (used + separator.size() + ellipsis_width <= room) {
      names.append(separator).append(ellipsis);
    }
    break;
  }
  std::string line = count;
  if (!names.empty()) line += ": " + names;
  line += tail;
  return std::string(TruncateToWidth(line, limit));
}

std::string Console::StatusText() {
  std::lock_guard<std::mutex> guard(mu_);
  return columns_ < 2 ? "" : FormatStatus();
}

std::string Console::ClearSequence() const {
  if (status_rows_ <= 1) return "\r\033[K";
  // Back to the row where the line began, then erase to the end of the screen.
  return "\r\033[" + std::to_string(status_rows_ - 1) + "A\033[J";
}

bool Console::SetColumns(size_t columns) {
  if (columns == 0 || columns == columns_) return false;
  if (status_drawn_) {
    // Reflowed (or, drawn just before the resize, wrapped) into this many rows.
    status_rows_ = std::max<size_t>(1, (status_width_ + columns - 1) / columns);
  }
  columns_ = columns;
  return true;
}

void Console::FollowTerminal() {
  if (options_.current_columns) SetColumns(options_.current_columns());
}

void Console::ClearStatus() {
  FollowTerminal();
  if (status_drawn_) std::fputs(ClearSequence().c_str(), out_);
  status_drawn_ = false;
}

void Console::DrawStatus() {
  if (!options_.status_line) return;
  FollowTerminal();
  if (columns_ < 2) {
    ClearStatus();
    return;
  }
  std::string line = FormatStatus();
  std::string text = status_drawn_ ? ClearSequence() : "\r\033[K";
  text += line;
  std::fwrite(text.data(), 1, text.size(), out_);
  status_drawn_ = true;
  status_width_ = DisplayWidth(line);
  status_rows_ = 1;
}

void Console::Resize(size_t columns) {
  std::lock_guard<std::mutex> guard(mu_);
  // Unchanged when a line printed since the resize already followed it.
  if (!SetColumns(columns) || !options_.status_line) return;
  DrawStatus();
  std::fflush(out_);
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
  auto [it, inserted] = status_.emplace(name, CiStatus::kCreated);
  CiStatus previous = it->second;
  it->second = run.status;
  auto running = std::find_if(running_.begin(), running_.end(),
                              [&](const Running& r) { return r.key == name; });
  if (run.status == CiStatus::kRunning && running == running_.end()) {
    running_.push_back({PrintableLine(name), name, clock_->Now()});
  } else if (run.status != CiStatus::kRunning && running != running_.end()) {
    running_.erase(running);
  }
  if (IsFinal(run.status) && !IsFinal(previous)) ++done_;
  std::string text = Describe(run, previous);
  if (text.empty()) return;
  ClearStatus();
  if (run.status != CiStatus::kRunning) FlushPartial(name);
  if (options_.color && run.status != CiStatus::kRunning) {
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
