// A flag that asks running work to stop: set once (Ctrl-C, a canceled
// pipeline or job), polled by whoever runs it (executors, ProcessRunner).
#ifndef SLIPWAY_UTIL_CANCEL_TOKEN_H_
#define SLIPWAY_UTIL_CANCEL_TOKEN_H_

#include <atomic>

namespace slipway {

// Thread-safe; never reset.
class CancelToken {
 public:
  void Cancel() { canceled_.store(true); }
  bool canceled() const { return canceled_.load(); }

 private:
  std::atomic<bool> canceled_{false};
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_CANCEL_TOKEN_H_
