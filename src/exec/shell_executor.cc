#include "exec/shell_executor.h"

namespace slipway {
namespace {

JobLifecycle::Options LifecycleOptions(const ShellExecutor::Options& options) {
  JobLifecycle::Options out;
  out.bash = options.bash;
  out.kill_grace = options.kill_grace;
  out.after_script_timeout = options.after_script_timeout;
  out.identity = options.identity;
  out.workspace_owner = options.workspace_owner;
  return out;
}

}  // namespace

ShellExecutor::ShellExecutor(Options options, ProcessRunner* runner)
    : owned_runner_(runner == nullptr ? std::make_unique<PosixProcessRunner>() : nullptr),
      runner_(runner == nullptr ? owned_runner_.get() : runner),
      workspaces_(runner_, options.state_dir, options.workspace_owner, options.git_objects),
      host_scripts_(runner_),
      lifecycle_(LifecycleOptions(options), &workspaces_,
                 options.scripts != nullptr ? options.scripts : &host_scripts_) {}

}  // namespace slipway
