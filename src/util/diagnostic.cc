#include "util/diagnostic.h"

#include <algorithm>

namespace slipway {

std::string Mark::ToString() const {
  std::string out = file.empty() ? "<input>" : file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

std::string Diagnostic::Format() const {
  std::string out = mark.ToString();
  out += severity == Severity::kError ? ": error: " : ": warning: ";
  if (!job.empty()) {
    out += "job '" + job + "'";
    out += key.empty() ? ": " : ", ";
  }
  if (!key.empty()) out += "key '" + key + "': ";
  out += message;
  return out;
}

void Diagnostics::Error(const Mark& mark, std::string message, std::string job, std::string key) {
  items_.push_back({Severity::kError, mark, std::move(job), std::move(key), std::move(message)});
}

void Diagnostics::Warning(const Mark& mark, std::string message, std::string job, std::string key) {
  items_.push_back({Severity::kWarning, mark, std::move(job), std::move(key), std::move(message)});
}

bool Diagnostics::HasErrors() const { return ErrorCount() > 0; }

int Diagnostics::ErrorCount() const {
  return static_cast<int>(std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) {
    return d.severity == Severity::kError;
  }));
}

int Diagnostics::WarningCount() const { return static_cast<int>(items_.size()) - ErrorCount(); }

std::string Diagnostics::FormatAll() const {
  std::string out;
  for (const Diagnostic& d : items_) out += d.Format() + "\n";
  return out;
}

}  // namespace slipway
