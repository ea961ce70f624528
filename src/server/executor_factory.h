// Which Executor runs a project's jobs on the server. PipelineService asks
// its ServiceOptions::executor_factory for one each time it runs a pipeline,
// so that the choice is the project's (ProjectRecord::executor) and tests
// can hand the service a FakeExecutor. `slipway serve` passes
// ShellExecutorFactory().
#ifndef SLIPWAY_SERVER_EXECUTOR_FACTORY_H_
#define SLIPWAY_SERVER_EXECUTOR_FACTORY_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "exec/beneath_io.h"
#include "exec/executor.h"
#include "exec/image_source.h"
#include "exec/job_identity.h"
#include "store/store.h"
#include "util/status.h"

namespace slipway {

// What the server has prepared for one pipeline's jobs (server_dirs.h,
// shared_objects.h); an executor uses what applies to it. The pointers are
// valid during the factory's call only: copy what the executor keeps.
struct ExecutorSetup {
  const ProjectRecord* project = nullptr;
  const PipelineRecord* pipeline = nullptr;
  // The project's directory under the builds directory: snapshot and
  // reusable workspaces.
  std::string state_dir;
  JobIdentity identity;           // Who the project's jobs run as.
  OptionalOwner workspace_owner;  // Set when that is not the server's user.
  std::string git_objects;        // What workspaces' .git borrow objects from.
  // Called by an executor whose jobs wait for a runner (remote) once one
  // took the job of row job_id. May be empty. Valid while the run lasts.
  std::function<void(int64_t job_id, const JobRunner& runner)> on_leased;
};

// Returns the executor for a pipeline's jobs (called once per run of a
// pipeline, from a worker thread; the executor lives until the run ends and
// its Run is called for each job, which it is given). An error fails the
// pipeline's unfinished jobs with runner_system_failure and the message in
// their logs. Must be thread-safe: workers run pipelines at once.
using ExecutorFactory =
    std::function<StatusOr<std::unique_ptr<Executor>>(const ExecutorSetup& setup)>;

// The executors a project may name: "shell", "sandbox", "slurm" (each script
// a Slurm batch job of the server's cluster: exec/slurm_executor.h) and
// "remote" (its jobs go to `slipway runner`s: RemoteExecutorFactory,
// runner_executor.h).
Status CheckExecutorName(std::string_view name);

// ShellExecutor for projects whose executor is "shell", SandboxExecutor
// (exec/sandbox_executor.h: slirp networking, the server's builds directory
// hidden) for "sandbox", SlurmExecutor for "slurm", in setup's directories as setup's identity; an
// error naming the project for any other executor.
// With images (which must outlive the factory's executors), jobs with
// image: run in their image in the sandbox, also in shell projects.
ExecutorFactory ShellExecutorFactory(ImageSource* images = nullptr);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_EXECUTOR_FACTORY_H_
