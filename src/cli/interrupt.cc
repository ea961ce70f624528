#include "cli/interrupt.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace slipway {
namespace {

constexpr char kQuit = 'q';  // Not a signal number (those are below NSIG, 65).

}  // namespace

InterruptHandler::InterruptHandler(std::function<void()> on_interrupt)
    : on_interrupt_(std::move(on_interrupt)), signals_({SIGINT, SIGTERM}) {
  if (!signals_.ok()) return;  // No handler: signals keep their default.
  thread_ = std::thread([this] {
    char byte = 0;
    while (true) {
      ssize_t n = ::read(signals_.read_fd(), &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == kQuit) return;
      if (!interrupted_.exchange(true)) on_interrupt_();
    }
  });
}

InterruptHandler::~InterruptHandler() {
  if (!thread_.joinable()) return;
  signals_.Send(kQuit);
  thread_.join();
}

}  // namespace slipway
