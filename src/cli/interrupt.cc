#include "cli/interrupt.h"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace slipway {
namespace {

// The write end of the active handler's pipe; the signal handler only
// writes one byte to it (async-signal-safe).
std::atomic<int> g_signal_fd{-1};
std::atomic<bool> g_interrupted{false};

void OnSignal(int) {
  int saved_errno = errno;
  g_interrupted.store(true);
  int fd = g_signal_fd.load();
  if (fd >= 0) {
    char byte = 's';
    ssize_t ignored = ::write(fd, &byte, 1);
    (void)ignored;
  }
  errno = saved_errno;
}

}  // namespace

InterruptHandler::InterruptHandler(std::function<void()> on_interrupt)
    : on_interrupt_(std::move(on_interrupt)) {
  g_interrupted.store(false);
  if (::pipe2(pipe_, O_CLOEXEC) != 0) return;  // No handler: signals keep their default.
  g_signal_fd.store(pipe_[1]);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
  thread_ = std::thread([this] {
    bool fired = false;
    char byte = 0;
    while (true) {
      ssize_t n = ::read(pipe_[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 'q') return;
      if (!fired) {
        fired = true;
        on_interrupt_();
      }
    }
  });
}

InterruptHandler::~InterruptHandler() {
  if (pipe_[0] < 0) return;
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  g_signal_fd.store(-1);
  char quit = 'q';
  ssize_t ignored = ::write(pipe_[1], &quit, 1);
  (void)ignored;
  thread_.join();
  ::close(pipe_[0]);
  ::close(pipe_[1]);
}

bool InterruptHandler::interrupted() const { return g_interrupted.load(); }

}  // namespace slipway
