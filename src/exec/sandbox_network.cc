#include "exec/sandbox_network.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

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

StatusOr<std::unique_ptr<SandboxNetwork>> SandboxNetwork::Make(const std::string& slirp4netns,
                                                               ProcessRunner* runner) {
  UniqueFd fd;
  Status made;
  std::thread([&] { made = MakeNamespace(&fd); }).join();
  if (!made.ok()) return made;
  std::unique_ptr<SandboxNetwork> net(new SandboxNetwork(std::move(fd)));
  if (slirp4netns.empty()) return net;

  struct Ready {
    std::mutex mu;
    std::condition_variable cv;
    bool ready = false;  // GUARDED_BY(mu)
    bool ended = false;  // GUARDED_BY(mu)
    Status status;       // GUARDED_BY(mu)
    std::string messages;  // GUARDED_BY(mu)
  };
  auto ready = std::make_shared<Ready>();
  ProcessSpec spec;
  // --ready-fd=1: slirp4netns writes "1" to its stdout once tap0 is
  // configured; its messages go to stderr.
  spec.argv = {slirp4netns,    "--configure",       "--mtu=65520", "--disable-host-loopback",
               "--ready-fd=1", "--netns-type=path", net->path_,    "tap0"};
  // Its messages ("sent tapfd=5 for tap0") explain a failure only.
  spec.stderr_output = [ready](std::string_view chunk) {
    std::lock_guard<std::mutex> lock(ready->mu);
    if (ready->messages.size() < 4096) ready->messages.append(chunk);
  };
  net->slirp_ = std::thread([spec, runner, ready, stop = &net->stop_] {
    StatusOr<ProcessResult> ran = runner->Run(
        spec,
        [&](std::string_view chunk) {
          if (chunk.find('1') == std::string_view::npos) return;
          std::lock_guard<std::mutex> lock(ready->mu);
          ready->ready = true;
          ready->cv.notify_all();
        },
        stop);
    std::lock_guard<std::mutex> lock(ready->mu);
    ready->ended = true;
    if (!ran.ok()) {
      ready->status = ran.status();
    } else if (!stop->canceled()) {
      ready->status =
          Status::Error("slirp4netns exited with status " + std::to_string(ran->exit_code));
    }
    ready->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(ready->mu);
  bool done = ready->cv.wait_for(lock, std::chrono::seconds(10),
                                 [&] { return ready->ready || ready->ended; });
  if (ready->ready && !ready->ended) return net;
  Status why =
      !done ? Status::Error("slirp4netns did not configure the network in 10s") : ready->status;
  lock.unlock();
  return Status::Error("cannot start the job's network: " + why.message());
}

SandboxNetwork::~SandboxNetwork() {
  stop_.Cancel();
  if (slirp_.joinable()) slirp_.join();
}

}  // namespace slipway
