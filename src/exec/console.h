// What the user sees while a pipeline runs: every output line prefixed by its
// job's name (aligned; coloured on a terminal), a line per job status change,
// and on a terminal a status line kept at the bottom with running / done /
// total and elapsed time.
#ifndef SLIPWAY_EXEC_CONSOLE_H_
#define SLIPWAY_EXEC_CONSOLE_H_

#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "exec/clock.h"
#include "exec/executor.h"
#include "exec/scheduler.h"

namespace slipway {

struct ConsoleOptions {
  bool color = false;        // ANSI colours (stdout is a terminal).
  bool status_line = false;  // Redrawn bottom line (stdout is a terminal).
  size_t max_name_width = 32;  // Longer names are printed whole, unaligned.
};

// Thread-safe: Write comes from executor threads, OnJobUpdate from the
// scheduler, Tick from a timer thread.
class Console : public LogSink, public RunObserver {
 public:
  // job_names: every job that may print, for the prefix width. out is not
  // owned. clock must outlive the console.
  Console(std::FILE* out, const std::vector<std::string>& job_names, const Clock* clock,
          ConsoleOptions options);

  void Write(std::string_view job_name, std::string_view bytes) override;
  void OnJobUpdate(const JobRun& run) override;
  // Redraws the status line (elapsed time moves on); no-op without one.
  void Tick();
  // Prints what is left of partial lines and clears the status line.
  void Finish();

 private:
  void EmitLine(std::string_view job_name, std::string_view marker, std::string_view text);
  std::string Prefix(std::string_view job_name, std::string_view marker);
  void ClearStatus();
  void DrawStatus();
  void FlushPartial(const std::string& job_name);

  std::FILE* out_;
  const Clock* clock_;
  ConsoleOptions options_;
  size_t width_ = 0;
  Clock::TimePoint start_;
  std::map<std::string, int, std::less<>> color_index_;

  std::mutex mu_;
  std::map<std::string, std::string, std::less<>> partial_;  // Guarded by mu_.
  std::map<std::string, JobStatus, std::less<>> status_;     // Guarded by mu_.
  std::set<std::string> running_;                            // Guarded by mu_.
  size_t done_ = 0;                                          // Guarded by mu_.
  size_t total_ = 0;
  bool status_drawn_ = false;  // Guarded by mu_.
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_CONSOLE_H_
