#include "cli/status_refresher.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>

#include "cli/terminal.h"

namespace slipway {
namespace {

constexpr char kQuit = 'q';  // Not a signal number.
constexpr auto kTickPeriod = std::chrono::seconds(1);

}  // namespace

StatusRefresher::StatusRefresher(Console* console, int terminal_fd)
    : console_(console), terminal_fd_(terminal_fd), signals_({SIGWINCH}) {
  if (!signals_.ok()) return;  // Not refreshed: still redrawn as jobs print.
  // The terminal may have changed between the console's creation and now.
  if (std::optional<size_t> columns = TerminalColumns(terminal_fd_)) console_->Resize(*columns);
  thread_ = std::thread([this] { Loop(); });
}

StatusRefresher::~StatusRefresher() {
  if (!thread_.joinable()) return;
  signals_.Send(kQuit);
  thread_.join();
}

void StatusRefresher::Loop() {
  // The machine's clock, not a slipway::Clock: this only repaints the
  // terminal's status line, and poll() below waits in real time.
  using Clock = std::chrono::steady_clock;
  Clock::time_point next_tick = Clock::now() + kTickPeriod;
  while (true) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now());
    struct pollfd pfd {
      signals_.read_fd(), POLLIN, 0
    };
    int ready = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(0, wait.count())));
    if (ready < 0 && errno != EINTR) return;
    if (ready > 0) {
      char byte = 0;
      if (::read(signals_.read_fd(), &byte, 1) != 1 || byte == kQuit) return;
      // SIGWINCH: several pending resizes are each answered; the last wins.
      if (std::optional<size_t> columns = TerminalColumns(terminal_fd_)) {
        console_->Resize(*columns);
      }
    }
    if (Clock::now() >= next_tick) {
      console_->Tick();
      next_tick = Clock::now() + kTickPeriod;
    }
  }
}

}  // namespace slipway
