#include "server/executor_factory.h"

#include "exec/sandbox_executor.h"
#include "exec/shell_executor.h"
#include "exec/slurm_executor.h"

namespace slipway {

Status CheckExecutorName(std::string_view name) {
  if (name == "shell" || name == "sandbox" || name == "slurm" || name == "remote") {
    return Status::Ok();
  }
  return Status::Error("executor '" + std::string(name) +
                       "' is not supported: the executors are 'shell', 'sandbox', 'slurm' and "
                       "'remote'");
}

ExecutorFactory ShellExecutorFactory(ImageSource* images) {
  return [images](const ExecutorSetup& setup) -> StatusOr<std::unique_ptr<Executor>> {
    // A project stored by another slipway (or edited in the database) may
    // name an executor this one lacks.
    if (Status known = CheckExecutorName(setup.project->executor); !known.ok()) {
      return Status::Error("project '" + setup.project->path_with_namespace +
                           "': " + known.message());
    }
    ShellExecutor::Options options;
    options.state_dir = setup.state_dir;
    options.identity = setup.identity;
    options.git_objects = setup.git_objects;
    // A root server's jobs run as the project's uid (ShellExecutor switches
    // their processes to it): their workspaces are theirs.
    options.workspace_owner = setup.workspace_owner;
    if (setup.project->executor == "slurm") {
      // The server's builds directory must be shared with the cluster's
      // nodes (docs/slurm.md); image: is ignored there, with a warning.
      return std::unique_ptr<Executor>(std::make_unique<SlurmExecutor>(options));
    }
    if (setup.project->executor == "sandbox" || images != nullptr) {
      SandboxScriptRunner::Options sandbox;
      sandbox.images = images;
      // The builds directory of every project (server_dirs.h): a job sees
      // its own slot only.
      size_t slash = setup.state_dir.find_last_of('/');
      if (slash != std::string::npos && slash > 0) {
        sandbox.hide.push_back(setup.state_dir.substr(0, slash));
      }
      // A shell project's jobs with image: run in their image, in the sandbox.
      bool image_jobs_only = setup.project->executor != "sandbox";
      return std::unique_ptr<Executor>(
          std::make_unique<SandboxExecutor>(options, sandbox, image_jobs_only));
    }
    return std::unique_ptr<Executor>(std::make_unique<ShellExecutor>(options));
  };
}

}  // namespace slipway
