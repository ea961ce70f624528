// The command line that runs one process in a sandbox: nsenter into the
// attempt's network namespace, setpriv to the job's user, bwrap with the
// mounts docs/sandbox.md lists. Shared by the scripts and the services of
// an attempt (sandbox.cc).
#ifndef SLIPWAY_EXEC_SANDBOX_COMMAND_H_
#define SLIPWAY_EXEC_SANDBOX_COMMAND_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "exec/sandbox_image.h"
#include "util/status.h"

namespace slipway {

struct SandboxTools {
  std::string bwrap, nsenter, setpriv, prlimit;  // Resolved paths.
};

// Resource limits on every process of a sandbox, as rlimits (prlimit
// before bwrap; every process started inside inherits them). 0: none.
struct SandboxLimits {
  uint64_t memory_bytes = 0;  // RLIMIT_AS: address space per process.
  uint64_t cpu_seconds = 0;   // RLIMIT_CPU: CPU time per process.
  uint64_t processes = 0;     // RLIMIT_NPROC: processes of the job's user.
};

struct SandboxCommand {
  // The network namespace to join (SandboxNetwork::path); empty: a new,
  // empty one of the process's own.
  std::string netns;
  // Switch to uid/gid (setpriv, before bwrap, which then works without
  // privileges); else root keeps only the capabilities below.
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  // The image's root with the attempt's layer; null: the host's system
  // read-only, with home, state and hide covered by empty tmpfs.
  const SandboxLayer* layer = nullptr;
  std::string home;
  std::vector<std::string> hide;
  // Bound writable at slot (from slot_source); empty: no slot (services).
  std::string slot;
  std::string slot_source;
  // Host directories bound read-only (source, path in the sandbox).
  std::vector<std::pair<std::string, std::string>> read_only_dirs;
  // Host files bound read-only on paths of the sandbox (/etc/hosts ...).
  std::vector<std::pair<std::string, std::string>> files;
  SandboxLimits limits;
  std::string cwd;  // Empty: bwrap's default.
  std::vector<std::string> command;
};

// The argv; an error when a mount point cannot be made in the layer.
StatusOr<std::vector<std::string>> SandboxArgv(const SandboxTools& tools,
                                               const SandboxCommand& command);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SANDBOX_COMMAND_H_
