// Test helper (header-only, tests only): waiting for another thread or
// process to reach a state, by polling the condition. The condition decides;
// the two-minute bound only ends a test that would otherwise hang.
#ifndef SLIPWAY_UTIL_TEST_WAIT_H_
#define SLIPWAY_UTIL_TEST_WAIT_H_

#include <chrono>
#include <functional>
#include <thread>

namespace slipway {

// Polls cond every 20 ms until it holds (true) or two minutes passed (false).
inline bool WaitFor(const std::function<bool()>& cond) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace slipway

#endif  // SLIPWAY_UTIL_TEST_WAIT_H_
