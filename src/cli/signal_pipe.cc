#include "cli/signal_pipe.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace slipway {
namespace {

// Per signal, the write end of the pipe of the SignalPipe that catches it,
// plus one (0: none; static storage starts at 0).
std::atomic<int> g_write_fd_plus_one[NSIG];

void OnSignal(int signal) {
  int saved_errno = errno;
  int fd = g_write_fd_plus_one[signal].load() - 1;
  if (fd >= 0) {
    char byte = static_cast<char>(signal);
    // Non-blocking: a full pipe already holds a byte that wakes the reader.
    ssize_t ignored = ::write(fd, &byte, 1);
    (void)ignored;
  }
  errno = saved_errno;
}

}  // namespace

SignalPipe::SignalPipe(std::initializer_list<int> signals) : signals_(signals) {
  if (::pipe2(fds_, O_CLOEXEC) != 0) {
    fds_[0] = fds_[1] = -1;
    return;
  }
  ::fcntl(fds_[1], F_SETFL, ::fcntl(fds_[1], F_GETFL) | O_NONBLOCK);
  old_.resize(signals_.size());
  for (size_t i = 0; i < signals_.size(); ++i) {
    g_write_fd_plus_one[signals_[i]].store(fds_[1] + 1);
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(signals_[i], &action, &old_[i]);
  }
}

SignalPipe::~SignalPipe() {
  if (!ok()) return;
  for (size_t i = 0; i < signals_.size(); ++i) {
    sigaction(signals_[i], &old_[i], nullptr);
    g_write_fd_plus_one[signals_[i]].store(0);
  }
  ::close(fds_[0]);
  ::close(fds_[1]);
}

void SignalPipe::Send(char byte) {
  while (::write(fds_[1], &byte, 1) != 1) {
    if (errno != EAGAIN && errno != EINTR) return;
    struct pollfd pfd {
      fds_[1], POLLOUT, 0
    };
    ::poll(&pfd, 1, -1);  // Until the reader has made room.
  }
}

}  // namespace slipway
