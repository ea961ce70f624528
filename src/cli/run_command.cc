// `slipway run [JOB...]`: load, instantiate and run the pipeline on this
// machine with the shell executor, or under bubblewrap with the sandbox
// executor (--executor sandbox, docs/sandbox.md), or as Slurm batch jobs
// (--executor slurm, docs/slurm.md).
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/run.h"
#include "cli/run_deliver.h"
#include "cli/terminal.h"
#include "exec/file_tree.h"
#include "exec/run_dir.h"
#include "exec/sandbox.h"
#include "exec/shell_executor.h"
#include "exec/slurm.h"
#include "image/image_puller.h"
#include "util/clock.h"
#include "util/containment.h"

namespace slipway {

void AddRunCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<PipelineOptions>();
  auto front = std::make_shared<RunFrontOptions>();
  CLI::App* cmd =
      app->add_subcommand("run", "Run the pipeline, or the named jobs, on this machine");
  AddPipelineOptions(cmd, options.get());
  cmd->add_option("--jobs,-j", front->jobs, "Jobs run at once (default: number of CPUs)")
      ->type_name("N");
  cmd->add_option("--report", front->report, "Write the JSON report to FILE")->type_name("FILE");
  auto color = std::make_shared<std::string>("auto");
  cmd->add_option("--color", *color,
                  "Colour the output: auto (on a terminal, unless NO_COLOR is set), always or "
                  "never")
      ->type_name("WHEN")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  auto project_dirs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--project-dir", *project_dirs,
                  "Where trigger:project finds a project's repository: GROUP/NAME=PATH "
                  "(repeatable)")
      ->type_name("PROJECT=PATH");
  auto executor_name = std::make_shared<std::string>("shell");
  cmd->add_option("--executor", *executor_name,
                  "Where jobs run: shell (this machine's bash), sandbox (bubblewrap: "
                  "namespaces, the host read-only or the job's image) or slurm (each script a "
                  "Slurm batch job of this machine's cluster)")
      ->type_name("NAME")
      ->check(CLI::IsMember({"shell", "sandbox", "slurm"}))
      ->capture_default_str();
  auto network = std::make_shared<std::string>("slirp");
  cmd->add_option("--sandbox-network", *network,
                  "Sandboxed jobs' network: slirp (outbound only, not the host's loopback) or "
                  "none; a job's SLIPWAY_SANDBOX_NETWORK wins")
      ->type_name("MODE")
      ->check(CLI::IsMember({"slirp", "none"}))
      ->capture_default_str();
  auto memory = std::make_shared<std::string>();
  cmd->add_option("--sandbox-memory", *memory,
                  "Sandboxed jobs: memory, e.g. 2G: the whole job's (cgroup v2 memory.max) where "
                  "the host delegates the memory controller, else each process's address space "
                  "(rlimit); the job's log says which")
      ->type_name("SIZE");
  auto cpus = std::make_shared<double>(0);
  cmd->add_option("--sandbox-cpus", *cpus,
                  "Sandboxed jobs: CPUs for the whole job, e.g. 1.5 (cgroup v2 cpu.max; a "
                  "warning in the job's log where the host has no cpu controller for slipway)")
      ->type_name("N")
      ->check(CLI::Range(0.001, 1024.0));
  auto cpu_time = std::make_shared<uint64_t>(0);
  cmd->add_option("--sandbox-cpu-time", *cpu_time,
                  "Sandboxed jobs: CPU seconds per process (rlimit)")
      ->type_name("SECONDS");
  cmd->add_option("job", front->job_names, "Run only these jobs and what they need")
      ->type_name("JOB");
  cmd->callback([options, front, color, project_dirs, executor_name, network, memory, cpu_time,
                 cpus, exit_code] {
    std::string project_dir = AbsoluteProjectDir(options->project_dir);
    for (const std::string& mapping : *project_dirs) {
      size_t eq = mapping.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == mapping.size()) {
        std::fprintf(stderr, "error: --project-dir: expected GROUP/NAME=PATH, got '%s'\n",
                     mapping.c_str());
        *exit_code = kExitInvalid;
        return;
      }
      front->project_dirs[mapping.substr(0, eq)] = AbsoluteProjectDir(mapping.substr(eq + 1));
    }
    front->make_fetcher = [options] { return MakeIncludeFetcher(*options); };
    // Jobs of an earlier slipway killed with SIGKILL ran on in their cgroups.
    if (int left = KillLeftoverJobProcesses(); left > 0) {
      std::fprintf(stderr, "slipway: killed %d job processes left by a slipway that was killed\n",
                   left);
    }
    ShellExecutor::Options executor_options;
    executor_options.state_dir = project_dir + "/.slipway";
    PosixProcessRunner runner;
    SandboxScriptRunner::Options sandbox_options;
    sandbox_options.network = *network;
    sandbox_options.cpu_seconds = *cpu_time;
    sandbox_options.cpu_millis = static_cast<uint64_t>(*cpus * 1000 + 0.5);
    if (!memory->empty()) {
      StatusOr<uint64_t> bytes = ParseByteSize(*memory);
      if (!bytes.ok()) {
        std::fprintf(stderr, "slipway: --sandbox-memory: %s\n", bytes.status().message().c_str());
        *exit_code = kExitInvalid;
        return;
      }
      sandbox_options.memory_bytes = *bytes;
    }
    // Images come from the CLI's image store (docs/images.md), opened by the
    // first job with image:.
    StoreImageSource images(ImageStore::DefaultDir());
    sandbox_options.images = &images;
    std::unique_ptr<SandboxScriptRunner> sandbox;
    std::unique_ptr<ImageJobsScriptRunner> image_jobs;
    HostScriptRunner host_scripts(&runner);
    std::unique_ptr<SlurmScriptRunner> slurm;
    if (*executor_name == "slurm") {
      SlurmScriptRunner::Options slurm_options;
      if (Status usable = SlurmScriptRunner::Check(slurm_options, &runner); !usable.ok()) {
        std::fprintf(stderr, "slipway: %s\n", usable.message().c_str());
        *exit_code = kExitInvalid;
        return;
      }
      slurm = std::make_unique<SlurmScriptRunner>(slurm_options, &runner);
      executor_options.scripts = slurm.get();
    } else if (*executor_name == "sandbox") {
      if (Status usable = SandboxScriptRunner::Check(sandbox_options, &runner); !usable.ok()) {
        std::fprintf(stderr, "slipway: %s\n", usable.message().c_str());
        *exit_code = kExitInvalid;
        return;
      }
      sandbox = std::make_unique<SandboxScriptRunner>(sandbox_options, &runner);
      executor_options.scripts = sandbox.get();
    } else if (sandbox_options.images != nullptr) {
      // Jobs with image: always run in their image, the others on the host.
      // Not checked here (a bwrap start on every run): where bwrap cannot
      // make a sandbox, an image job fails saying why.
      sandbox = std::make_unique<SandboxScriptRunner>(sandbox_options, &runner);
      image_jobs = std::make_unique<ImageJobsScriptRunner>(sandbox.get(), &host_scripts);
      executor_options.scripts = image_jobs.get();
    }
    ShellExecutor executor(executor_options, &runner);
    // The working tree's snapshot is made while the pipeline loads (both
    // mostly wait for git), when there is a pipeline file to load. It goes
    // into .slipway/, which must be git-ignored even if the pipeline turns
    // out invalid; if it cannot be made, the run directory reports why.
    if (options->ref.empty() && PathExists(JoinPath(project_dir, options->file)) &&
        MakeStateDir(project_dir).ok()) {
      executor.Prefetch(project_dir);
    }
    Diagnostics diags;
    std::optional<LoadedPipeline> loaded = LoadPipelineFromOptions(*options, &diags);
    std::optional<Pipeline> pipeline;
    if (loaded) pipeline = InstantiatePipeline(loaded->config, loaded->context, &diags);
    PrintDiagnostics(diags);
    if (!pipeline) {
      *exit_code = kExitInvalid;
      return;
    }
    if (!pipeline->created) {
      std::printf("no pipeline: %s\n", pipeline->not_created_reason.c_str());
      *exit_code = kExitSuccess;
      return;
    }
    // The workspaces get the very commit the pipeline was read from and its
    // variables describe, even if the branch moves meanwhile.
    front->ref = loaded->context.commit;
    Diagnostics checked;  // LoadPipelineFromOptions reported these already.
    VariableList secrets = SecretVariables(*options, &checked);
    for (const Variable& secret : secrets.items()) {
      front->masked_values.push_back(secret.value);
    }
    bool terminal = isatty(STDOUT_FILENO) == 1;
    front->console.color = UseColor(*ParseColorMode(*color), terminal);
    front->console.status_line = UseStatusLine(terminal);
    front->console.columns = TerminalColumns(STDOUT_FILENO).value_or(80);
    if (front->console.status_line) {
      front->console.current_columns = [] { return TerminalColumns(STDOUT_FILENO).value_or(0); };
    }
    front->console.unicode = LocaleIsUtf8();
    front->terminal_fd = terminal ? STDOUT_FILENO : -1;
    RealClock clock;
    // Deployments are recorded with the commit they can be run again from.
    front->deploy_commit = !front->ref.empty() ? front->ref : CleanWorkTreeCommit(project_dir);
    std::vector<LocalRollbackRequest> rollbacks;
    front->rollbacks = &rollbacks;
    *exit_code = RunPipelineLocally(*pipeline, loaded->context, *front, &executor, &clock);
    // The failed run stays failed (its exit code) whatever the rollback does.
    for (const LocalRollbackRequest& rollback : rollbacks) {
      RollBackLocally(rollback, *options, *front, &executor, &clock);
    }
  });
}

}  // namespace slipway
