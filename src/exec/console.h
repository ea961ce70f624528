// What the user sees while a pipeline runs: every output line prefixed by its
// job's name (aligned; coloured when asked), a line per job status change,
// and on a terminal a status line kept at the bottom:
//
//   3 running: build 12s, test 1/2 4s, … | 37 waiting | 2/42 done, 15s
//
// The status line never takes more than columns - 1 terminal columns
// (display width: UTF-8, wide characters, no escapes), so the terminal never
// wraps it and "\r ESC[K" erases all of it.
#ifndef SLIPWAY_EXEC_CONSOLE_H_
#define SLIPWAY_EXEC_CONSOLE_H_

#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "exec/executor.h"
#include "exec/scheduler.h"
#include "util/clock.h"
#include "util/thread_annotations.h"

namespace slipway {

struct ConsoleOptions {
  bool color = false;          // ANSI colours in job prefixes and status messages.
  bool status_line = false;    // Redrawn bottom line (out is a terminal).
  size_t columns = 80;         // The terminal's width; see Console::Resize.
  bool unicode = true;         // "…" for elided text; "..." otherwise.
  size_t max_name_width = 32;  // Longer names are printed whole, unaligned.
  // The terminal's width now (0: unknown), asked before the status line is
  // erased or drawn: a line printed between a resize and its SIGWINCH being
  // answered still erases what the terminal shows. Optional.
  std::function<size_t()> current_columns;
};

// Thread-safe: Write comes from executor threads, OnJobUpdate from the
// scheduler, Tick and Resize from the thread that refreshes the status line.
class Console : public LogSink, public RunObserver {
 public:
  // job_names: every job that may print, for the prefix width and the
  // total. out is not owned. clock must outlive the console.
  Console(std::FILE* out, const std::vector<std::string>& job_names, const Clock* clock,
          ConsoleOptions options);

  void Write(std::string_view job_name, std::string_view bytes) override;
  void OnJobUpdate(const JobRun& run) override;
  // More jobs that may print, from a child pipeline created while the run
  // goes on (NestedOutput names them): counted in the total, coloured.
  void AddJobs(const std::vector<std::string>& job_names);
  // Redraws the status line (elapsed times move on); no-op without one.
  void Tick();
  // The terminal is now columns wide: the status line is redrawn to fit.
  // A terminal that reflows its lines when it narrows (tmux, VTE, kitty,
  // iTerm2, xterm.js …) has turned a status line wider than columns into
  // several rows with the cursor on the last; they are all erased. 0 is
  // ignored.
  void Resize(size_t columns);
  // Prints what is left of partial lines and clears the status line.
  void Finish();

  // The status line for the current state, fitted to options.columns; for
  // tests.
  std::string StatusText();

 private:
  struct Running {
    std::string name;  // Printable (control characters replaced).
    std::string key;   // The job's name as given.
    Clock::TimePoint since;
  };

  void EmitLine(std::string_view job_name, std::string_view marker, std::string_view text);
  std::string Prefix(std::string_view job_name, std::string_view marker);
  std::string FormatStatus();         // Requires mu_.
  std::string ClearSequence() const;  // Requires mu_.
  bool SetColumns(size_t columns);    // Requires mu_. False if unchanged.
  void FollowTerminal();              // Requires mu_.
  void ClearStatus();                 // Requires mu_.
  void DrawStatus();                  // Requires mu_.
  void FlushPartial(const std::string& job_name);

  std::FILE* out_;
  const Clock* clock_;
  const ConsoleOptions options_;
  size_t width_ = 0;
  Clock::TimePoint start_;
  std::map<std::string, int, std::less<>> color_index_ GUARDED_BY(mu_);
  size_t total_ GUARDED_BY(mu_);

  std::mutex mu_;
  size_t columns_ GUARDED_BY(mu_);
  std::map<std::string, std::string, std::less<>> partial_ GUARDED_BY(mu_);
  std::map<std::string, CiStatus, std::less<>> status_ GUARDED_BY(mu_);
  std::vector<Running> running_ GUARDED_BY(mu_);  // In start order.
  size_t done_ GUARDED_BY(mu_) = 0;
  // The status line on screen: its width when drawn and the rows it takes
  // now (more than 1 after the terminal narrowed).
  bool status_drawn_ GUARDED_BY(mu_) = false;
  size_t status_width_ GUARDED_BY(mu_) = 0;
  size_t status_rows_ GUARDED_BY(mu_) = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_CONSOLE_H_
