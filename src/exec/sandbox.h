// The sandbox executor's ScriptRunner: each of a job's scripts runs under
// bubblewrap (bwrap) in new mount, PID, IPC, UTS, cgroup and network
// namespaces, seeing only what docs/sandbox.md lists:
//   /                 the host's system read-only (a job without image:), or
//                     the image's root file system (ImageSource) under a
//                     writable layer of the job's own (sandbox_layer.h);
//   the job's slot    <builds>/<n> (the workspace and the script files beside
//                     it) writable, at the same path as on the host, so
//                     CI_PROJECT_DIR and CI_BUILDS_DIR stay valid; the
//                     directory that holds <builds> (the run's or server's
//                     state: snapshot, other slots, runs) is an empty tmpfs;
//   /tmp, /var/tmp, /run, /dev/shm and the job's HOME: empty tmpfs;
//   /proc of its own PID namespace, a minimal /dev.
// Networking (sandbox_network.h) is per attempt: "slirp" (default) gives the
// job's scripts one network namespace of their own with outbound access
// through slirp4netns and no way to the host's loopback; "none" gives each
// script an empty one (loopback only). The job variable
// SLIPWAY_SANDBOX_NETWORK (none|slirp) overrides Options::network.
//
// The scripts' processes are contained as the host's are (the
// ProcessRunner's cgroup or reaper); bwrap's --die-with-parent and the PID
// namespace make sure nothing started inside outlives the script.
#ifndef SLIPWAY_EXEC_SANDBOX_H_
#define SLIPWAY_EXEC_SANDBOX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exec/image_source.h"
#include "exec/job_lifecycle.h"
#include "util/subprocess.h"

namespace slipway {

class SandboxScriptRunner : public ScriptRunner {
 public:
  struct Options {
    // The tools, resolved through slipway's PATH once.
    std::string bwrap = "bwrap";
    std::string slirp4netns = "slirp4netns";
    std::string nsenter = "nsenter";
    std::string setpriv = "setpriv";
    std::string prlimit = "prlimit";
    // Where jobs with image: get their root file systems; null: such a job
    // fails ("image: needs an image source").
    ImageSource* images = nullptr;
    // "slirp" or "none" (see above); a job's SLIPWAY_SANDBOX_NETWORK wins.
    std::string network = "slirp";
    // More host paths the sandbox covers with an empty tmpfs (the server's
    // data directory when the builds are elsewhere).
    std::vector<std::string> hide;
    // Limits (docs/sandbox.md, "Limits"); 0: none. memory_bytes is the
    // whole job's (cgroup v2 memory.max) where slipway's cgroup delegates
    // the memory controller, else each process's address space (RLIMIT_AS);
    // cpu_millis is the whole job's CPU bandwidth in thousandths of a CPU
    // (cgroup v2 cpu.max; not applied, with a warning in the job's log,
    // without the cpu controller); cpu_seconds is each process's CPU time
    // (RLIMIT_CPU).
    uint64_t memory_bytes = 0;
    uint64_t cpu_millis = 0;
    uint64_t cpu_seconds = 0;
    // Where per-attempt state lives (the writable layer of image jobs,
    // generated /etc files); empty: $TMPDIR or /tmp.
    std::string work_dir;
  };

  // runner must outlive the runner; it runs bwrap and slirp4netns.
  SandboxScriptRunner(Options options, ProcessRunner* runner);
  ~SandboxScriptRunner() override;

  // Fails when the job's network setting or image: is invalid, its image
  // cannot be resolved or the per-attempt state cannot be made. The wait
  // for services to listen ends once limits have Ended().
  StatusOr<std::unique_ptr<ScriptSession>> Open(const Job& job, const std::string& workspace,
                                                const std::function<void(const std::string&)>& log,
                                                const OpenLimits& limits) override;

  // Whether bwrap can make a sandbox here (it runs `bwrap ... true`) and,
  // with network slirp, slipway runs as root; the error says why not. For
  // front ends, before they pick the executor.
  static Status Check(const Options& options, ProcessRunner* runner);

  // What the limits are and how they are applied, for the job's log
  // ("memory 512 MiB for the whole job (cgroup v2 memory.max)"); empty
  // without limits.
  const std::string& limits_note() const { return limits_note_; }

 private:
  Options options_;
  ProcessRunner* runner_;
  // Set when some limit is a cgroup's: runs bwrap under a containment
  // whose job cgroups carry it.
  std::unique_ptr<ProcessRunner> limited_runner_;
  // What sessions get (they keep a reference): options_ less the limits
  // the job cgroup carries.
  Options session_options_;
  std::string limits_note_;
};

// Sends jobs with image: to one runner (the sandbox), the others to
// another (the host): what the shell executor does when an image source is
// available. Both must outlive it.
class ImageJobsScriptRunner : public ScriptRunner {
 public:
  ImageJobsScriptRunner(ScriptRunner* image_jobs, ScriptRunner* others)
      : image_jobs_(image_jobs), others_(others) {}
  StatusOr<std::unique_ptr<ScriptSession>> Open(const Job& job, const std::string& workspace,
                                                const std::function<void(const std::string&)>& log,
                                                const OpenLimits& limits) override {
    return (job.image ? image_jobs_ : others_)->Open(job, workspace, log, limits);
  }

 private:
  ScriptRunner* image_jobs_;
  ScriptRunner* others_;
};

// "512M", "2G", "1048576": a byte count with an optional K, M, G or T
// suffix (powers of 1024); an error names the text.
StatusOr<uint64_t> ParseByteSize(const std::string& text);

// The value of SLIPWAY_SANDBOX_NETWORK or --sandbox-network, checked:
// "none" or "slirp"; anything else is an error naming the value.
Status CheckSandboxNetwork(const std::string& value);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SANDBOX_H_
