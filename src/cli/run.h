// `slipway run`: runs a created pipeline on this machine — run directory,
// scheduler, live console, summary, JSON report, Ctrl-C — and maps the
// outcome to the exit code: 0 success (warnings included), 1 failed,
// 2 invalid (usage, unknown job), 130 canceled.
#ifndef SLIPWAY_CLI_RUN_H_
#define SLIPWAY_CLI_RUN_H_

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/include_fetcher.h"
#include "exec/console.h"
#include "exec/executor.h"
#include "exec/scheduler.h"
#include "pipeline/instantiate.h"
#include "util/clock.h"

namespace slipway {

struct LocalRollbackRequest;  // cli/run_deliver.h

constexpr int kExitSuccess = 0;
constexpr int kExitFailed = 1;
constexpr int kExitInvalid = 2;
constexpr int kExitCanceled = 130;

struct RunFrontOptions {
  int jobs = 0;                        // --jobs N; 0: number of CPUs.
  std::string report;                  // --report FILE; empty: none.
  std::string ref;                     // --ref REV; empty: the working tree.
  std::vector<std::string> job_names;  // Positional JOB...: run only these.
  bool handle_signals = true;          // SIGINT/SIGTERM cancel the run.
  std::FILE* out = stdout;             // Live output and summary.
  std::FILE* err = stderr;             // Errors.
  ConsoleOptions console;              // Colours, status line, terminal width.
  int terminal_fd = -1;                // out's terminal, for its width; -1: none.
  // Fetchers for the template and project includes of child pipelines, one
  // per load (exec/child_pipeline.h); empty: such includes are errors.
  std::function<std::unique_ptr<IncludeFetcher>()> make_fetcher;
  // --project-dir GROUP/NAME=PATH: where trigger:project finds a project.
  std::map<std::string, std::string> project_dirs;
  // The --secret values: masked in every job's log (SchedulerOptions).
  std::vector<std::string> masked_values;

  // Deployments (cli/run_deliver.h). The commit recorded with the run's
  // deployments (empty: not one that can be run again).
  std::string deploy_commit;
  // A local rollback runs again in the run directory .slipway/runs/<id> of
  // the deployment it redeploys, with its jobs' prior outcomes; 0: a new run.
  int rerun_id = 0;
  std::map<std::string, PriorJob> prior;
  std::optional<int64_t> rollback_of;  // Set for a rollback: the deployment it undoes.
  // Receives the failed deployments that ask for an automatic rollback.
  std::vector<LocalRollbackRequest>* rollbacks = nullptr;
};

// dir made absolute and normal, without a trailing '/': where a run's
// .slipway/ goes.
std::string AbsoluteProjectDir(const std::string& dir);

// `slipway run`: runs pipeline (from InstantiatePipeline with context) with
// executor on this machine and returns the process exit code. Creates
// <context.project_dir>/.slipway/runs/<id>/ and sets CI_PIPELINE_ID and
// CI_PIPELINE_IID to the run id, CI_PIPELINE_NAME to the pipeline's
// workflow:name. The report is written whatever the outcome; a failure to
// write it is printed and makes the exit code at least 1.
int RunPipelineLocally(const Pipeline& pipeline, const PipelineContext& context,
                       const RunFrontOptions& options, Executor* executor, Clock* clock);

}  // namespace slipway

#endif  // SLIPWAY_CLI_RUN_H_
