// Keeps `slipway run`'s status line current: redrawn once a second (the
// elapsed times move on) and, when the terminal is resized, at once at its
// new width.
#ifndef SLIPWAY_CLI_STATUS_REFRESHER_H_
#define SLIPWAY_CLI_STATUS_REFRESHER_H_

#include <thread>

#include "cli/signal_pipe.h"
#include "exec/console.h"

namespace slipway {

// While a StatusRefresher lives, SIGWINCH is caught through a SignalPipe:
// the refresher's own thread reads the pipe, asks the terminal for its width
// (TIOCGWINSZ on terminal_fd) and calls Console::Resize. Ticks happen on
// that thread too, so nothing is drawn in a signal handler and no resize is
// lost between two reads of a flag. One at a time per process.
class StatusRefresher {
 public:
  // console must outlive the refresher.
  StatusRefresher(Console* console, int terminal_fd);
  // Stops the thread and restores SIGWINCH's previous disposition.
  ~StatusRefresher();
  StatusRefresher(const StatusRefresher&) = delete;
  StatusRefresher& operator=(const StatusRefresher&) = delete;

 private:
  void Loop();

  Console* console_;
  int terminal_fd_;
  SignalPipe signals_;
  std::thread thread_;
};

}  // namespace slipway

#endif  // SLIPWAY_CLI_STATUS_REFRESHER_H_
