// One network namespace for all of an attempt's sandboxed processes (its
// scripts and its services), held by a descriptor of slipway's rather than a
// process, so nothing but the attempt can keep it alive. With outbound
// access, slirp4netns (user-mode TCP/IP: no bridge, no NAT rules on the host)
// runs for the attempt with --disable-host-loopback, so the job cannot reach
// services listening on the host's 127.0.0.1. docs/sandbox.md, "Network".
#ifndef SLIPWAY_EXEC_SANDBOX_NETWORK_H_
#define SLIPWAY_EXEC_SANDBOX_NETWORK_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "util/status.h"
#include "util/unique_fd.h"

namespace slipway {

class SandboxNetwork {
 public:
  // Makes the namespace, its loopback up; with slirp4netns (a path) not
  // empty, starts it on the namespace and waits (at most 10 s) until it has
  // configured tap0 (10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3). Needs
  // CAP_SYS_ADMIN (slipway as root); the error says so, with slirp4netns's
  // messages. slirp4netns is killed when this object goes.
  static StatusOr<std::unique_ptr<SandboxNetwork>> Make(const std::string& slirp4netns);
  // Stops slirp4netns and lets go of the namespace.
  ~SandboxNetwork();
  SandboxNetwork(const SandboxNetwork&) = delete;
  SandboxNetwork& operator=(const SandboxNetwork&) = delete;

  // A path that opens the namespace (for nsenter --net=) while this object
  // lives: /proc/<slipway's pid>/fd/<n>.
  const std::string& path() const { return path_; }

 private:
  explicit SandboxNetwork(UniqueFd fd);

  UniqueFd fd_;
  std::string path_;
  pid_t slirp_pid_ = -1;  // slirp4netns, killed and reaped on destruction.
  UniqueFd slirp_out_, slirp_err_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SANDBOX_NETWORK_H_
