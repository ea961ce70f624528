// Test helper (header-only, tests only): waiting for another thread or
// process to reach a state, by polling the condition, and whether a process
// is still alive. The condition decides;
// the two-minute bound only ends a test that would otherwise hang.
#ifndef SLIPWAY_UTIL_TEST_WAIT_H_
#define SLIPWAY_UTIL_TEST_WAIT_H_

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
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

// Whether pid is a live process: it exists and is not a zombie (a killed
// grandchild stays a zombie until init reaps it).
inline bool ProcessAlive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Waits, bounded (10 s), for a process that is not our child to exit:
// a pidfd becomes readable when it does. Returns whether it is gone.
inline bool WaitGone(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return !ProcessAlive(pid);
  pollfd p{fd, POLLIN, 0};
  ::poll(&p, 1, 10000);
  ::close(fd);
  return !ProcessAlive(pid);
}

}  // namespace slipway

#endif  // SLIPWAY_UTIL_TEST_WAIT_H_
