#include "exec/sandbox_network.h"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "util/children.h"
#include "util/spawn.h"

namespace slipway {
namespace {

Status Errno(const std::string& what) { return Status::Error(what + ": " + std::strerror(errno)); }

// Runs on a thread of its own, which alone enters the new namespace (a
// thread's network namespace is its own; the rest of slipway keeps the
// host's) and ends with it.
Status MakeNamespace(UniqueFd* out) {
  if (unshare(CLONE_NEWNET) != 0) {
    return errno == EPERM ? Status::Error(
                                "a network namespace needs slipway to run as root "
                                "(or set SLIPWAY_SANDBOX_NETWORK to none)")
                          : Errno("cannot make a network namespace");
  }
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return Errno("cannot open a socket in the job's network namespace");
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) return Errno("cannot read lo's flags");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) return Errno("cannot bring lo up");
  UniqueFd ns(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return Errno("cannot open the job's network namespace");
  *out = std::move(ns);
  return Status::Ok();
}

}  // namespace

SandboxNetwork::SandboxNetwork(UniqueFd fd)
    : fd_(std::move(fd)),
      path_("/proc/" + std::to_string(getpid()) + "/fd/" + std::to_string(fd_.get())) {}

StatusOr<std::unique_ptr<SandboxNetwork>> SandboxNetwork::Make(const std::string& slirp4netns) {
  UniqueFd fd;
  Status made;
  std::thread([&] { made = MakeNamespace(&fd); }).join();
  if (!made.ok()) return made;
  std::unique_ptr<SandboxNetwork> net(new SandboxNetwork(std::move(fd)));
  if (slirp4netns.empty()) return net;

  // Started with Spawn rather than a ProcessRunner: the session must stop
  // it at once when it ends (a runner notices a cancel only at its next
  // poll), and it is slipway's own tool, which starts nothing to contain.
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Errno("pipe2");
  UniqueFd out_read(out[0]), out_write(out[1]);
  if (pipe2(err, O_CLOEXEC) != 0) return Errno("pipe2");
  UniqueFd err_read(err[0]), err_write(err[1]);
  SpawnRequest request;
  // --ready-fd=1: slirp4netns writes "1" to its stdout once tap0 is
  // configured; its messages ("sent tapfd=5 for tap0") go to stderr.
  request.argv = {slirp4netns,    "--configure",       "--mtu=65520", "--disable-host-loopback",
                  "--ready-fd=1", "--netns-type=path", net->path_,    "tap0"};
  request.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  request.stdout_fd = out_write.get();
  request.stderr_fd = err_write.get();
  request.parent_death_signal = SIGKILL;
  StatusOr<pid_t> pid = Spawn(request);
  if (!pid.ok()) return Status::Error("cannot start the job's network: " + pid.status().message());
  net->slirp_pid_ = *pid;
  out_write.Reset();
  err_write.Reset();

  std::string messages;
  bool ready = false, ended = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ready && !ended) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    char buf[512];
    if (fds[1].revents != 0) {
      ssize_t n = read(err_read.get(), buf, sizeof(buf));
      if (n > 0 && messages.size() < 4096) messages.append(buf, n);
    }
    if (fds[0].revents != 0) {
      ssize_t n = read(out_read.get(), buf, sizeof(buf));
      if (n <= 0) ended = true;  // Exited (or closed its stdout) before it was ready.
      ready = n > 0 && std::string_view(buf, n).find('1') != std::string_view::npos;
    }
  }
  if (ready) {
    // Kept open: a write of slirp4netns's to a closed pipe would kill it.
    net->slirp_out_ = std::move(out_read);
    net->slirp_err_ = std::move(err_read);
    return net;
  }
  while (!messages.empty() && messages.back() == '\n') messages.pop_back();
  return Status::Error(std::string("cannot start the job's network: ") +
                       (ended ? "slirp4netns exited" : "slirp4netns did not configure it in 10s") +
                       (messages.empty() ? "" : " (" + messages + ")"));
}

SandboxNetwork::~SandboxNetwork() {
  if (slirp_pid_ > 0) {
    kill(slirp_pid_, SIGKILL);
    ReapChild(slirp_pid_);
  }
}

}  // namespace slipway
