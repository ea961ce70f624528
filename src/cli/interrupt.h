// Ctrl-C and SIGTERM during `slipway run`: while an InterruptHandler lives,
// SIGINT and SIGTERM call its callback (once, from a thread of its own, never
// from the signal handler) instead of killing the process. One at a time.
#ifndef SLIPWAY_CLI_INTERRUPT_H_
#define SLIPWAY_CLI_INTERRUPT_H_

#include <atomic>
#include <functional>
#include <thread>

#include "cli/signal_pipe.h"

namespace slipway {

class InterruptHandler {
 public:
  // on_interrupt runs on the handler's thread after the first SIGINT/SIGTERM.
  explicit InterruptHandler(std::function<void()> on_interrupt);
  // Restores the previous signal dispositions.
  ~InterruptHandler();
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;

  // Whether a signal arrived.
  bool interrupted() const { return interrupted_.load(); }

 private:
  std::function<void()> on_interrupt_;
  std::atomic<bool> interrupted_{false};
  SignalPipe signals_;
  std::thread thread_;
};

}  // namespace slipway

#endif  // SLIPWAY_CLI_INTERRUPT_H_
