// The self-pipe trick: while a SignalPipe lives, each of its signals only
// writes one byte (the signal's number) to a pipe, which is all a signal
// handler may safely do; a thread of the owner's reads the pipe and does the
// work. The previous dispositions come back on destruction. One SignalPipe
// per signal at a time.
#ifndef SLIPWAY_CLI_SIGNAL_PIPE_H_
#define SLIPWAY_CLI_SIGNAL_PIPE_H_

#include <csignal>
#include <initializer_list>
#include <vector>

namespace slipway {

class SignalPipe {
 public:
  // Catches signals; when the pipe cannot be made they keep their
  // disposition and ok() is false.
  explicit SignalPipe(std::initializer_list<int> signals);
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  bool ok() const { return fds_[0] >= 0; }
  // The read end (close-on-exec, blocking), for read() or poll().
  int read_fd() const { return fds_[0]; }
  // Writes byte to the pipe from ordinary code, e.g. to stop the reader
  // (blocks while the pipe is full).
  void Send(char byte);

 private:
  int fds_[2] = {-1, -1};
  std::vector<int> signals_;
  std::vector<struct sigaction> old_;
};

}  // namespace slipway

#endif  // SLIPWAY_CLI_SIGNAL_PIPE_H_
