// Positions in input files and the messages slipway reports about them.
// Every user-facing problem with a pipeline is a Diagnostic that points at the
// input: "path:line:col: error: job 'build', key 'script': message".
#ifndef SLIPWAY_UTIL_DIAGNOSTIC_H_
#define SLIPWAY_UTIL_DIAGNOSTIC_H_

#include <string>
#include <vector>

namespace slipway {

// A place in an input file. line and column are 1-based; 0 means unknown.
struct Mark {
  std::string file;  // As given by the user or relative to the project root.
  int line = 0;
  int column = 0;

  // "file:line:col", "file:line", or "file" depending on what is known.
  std::string ToString() const;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  Mark mark;
  std::string job;  // Empty when the problem is not inside a job.
  std::string key;  // Keyword path such as "rules:0:if"; may be empty.
  std::string message;

  // "file:line:col: error: job 'build', key 'script': message".
  std::string Format() const;
};

// Collects diagnostics in the order they are found. Not thread-safe.
class Diagnostics {
 public:
  void Error(const Mark& mark, std::string message, std::string job = {}, std::string key = {});
  void Warning(const Mark& mark, std::string message, std::string job = {}, std::string key = {});
  void Add(Diagnostic d) { items_.push_back(std::move(d)); }

  bool HasErrors() const;
  int ErrorCount() const;
  int WarningCount() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  // All diagnostics formatted, one per line.
  std::string FormatAll() const;

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_DIAGNOSTIC_H_
