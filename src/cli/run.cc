#include "cli/run.h"

#include <filesystem>
#include <memory>
#include <thread>

#include "cli/interrupt.h"
#include "cli/run_deliver.h"
#include "cli/status_refresher.h"
#include "exec/child_pipeline.h"
#include "exec/console.h"
#include "exec/file_tree.h"
#include "exec/job_slots.h"
#include "exec/report.h"
#include "exec/run_dir.h"
#include "exec/scheduler.h"
#include "exec/summary.h"

namespace slipway {
namespace {

int ExitCode(CiStatus status) {
  switch (status) {
    case CiStatus::kSuccess:
      return kExitSuccess;
    case CiStatus::kCanceled:
      return kExitCanceled;
    default:
      return kExitFailed;
  }
}

}  // namespace

std::string AbsoluteProjectDir(const std::string& dir) {
  std::error_code ec;
  std::string out = std::filesystem::absolute(dir, ec).lexically_normal();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

int RunPipelineLocally(const Pipeline& pipeline, const PipelineContext& context,
                       const RunFrontOptions& options, Executor* executor, Clock* clock) {
  std::error_code ec;
  std::string project_dir = AbsoluteProjectDir(context.project_dir);
  StatusOr<RunDir> run_dir =
      options.rerun_id > 0
          ? StatusOr<RunDir>(RunDir{options.rerun_id,
                                    RunsDir(project_dir) + "/" + std::to_string(options.rerun_id)})
          : CreateRunDir(project_dir);
  if (!run_dir.ok()) {
    std::fprintf(options.err, "error: %s\n", run_dir.status().message().c_str());
    return kExitFailed;
  }

  SchedulerOptions scheduler_options;
  scheduler_options.max_parallel =
      options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  scheduler_options.selected = options.job_names;
  scheduler_options.project_dir = project_dir;
  scheduler_options.ref = options.ref;
  scheduler_options.run_dir = run_dir->path;
  scheduler_options.cache_dir = project_dir + "/.slipway/cache";
  scheduler_options.predefined = context.predefined;
  scheduler_options.predefined.Set("CI_PIPELINE_ID", std::to_string(run_dir->id));
  scheduler_options.predefined.Set("CI_PIPELINE_IID", std::to_string(run_dir->id));
  scheduler_options.predefined.Set("CI_PIPELINE_NAME", pipeline.name);
  scheduler_options.cli_variables = context.cli_variables;
  scheduler_options.masked_values = options.masked_values;
  scheduler_options.prior = options.prior;

  std::vector<std::string> names;
  for (const Job& job : pipeline.jobs) names.push_back(job.name);
  Console console(options.out, names, clock, options.console);
  // --jobs bounds the jobs running scripts across the pipeline and the
  // downstream pipelines running beside it.
  JobSlots slots(executor, scheduler_options.max_parallel);
  executor = &slots;
  // trigger: jobs: their downstream pipelines run here too, shown under
  // them (docs/child-pipelines.md).
  ChildPipelineOptions child_options;
  child_options.executor = executor;
  child_options.clock = clock;
  child_options.max_parallel = scheduler_options.max_parallel;
  child_options.default_timeout = scheduler_options.default_timeout;
  child_options.context = context;
  child_options.context.project_dir = project_dir;
  child_options.context.predefined = scheduler_options.predefined;
  child_options.cache_dir = scheduler_options.cache_dir;
  child_options.top_run_dir = run_dir->path;
  child_options.make_fetcher = options.make_fetcher;
  child_options.log = &console;
  child_options.observer = &console;
  child_options.on_jobs = [&console](const std::vector<std::string>& jobs) {
    console.AddJobs(jobs);
  };
  child_options.project_dirs = options.project_dirs;
  child_options.masked_values = options.masked_values;
  // Downstream pipelines get ids after the run's own: <run id>001, 002 ...
  child_options.next_pipeline_id =
      std::make_shared<std::atomic<int64_t>>(int64_t{run_dir->id} * 1000 + 1);
  ChildPipelineRunner downstream(std::move(child_options));
  scheduler_options.downstream = &downstream;
  Scheduler scheduler(pipeline, executor, clock, &console, &console, scheduler_options);

  StatusOr<RunResult> result = Status::Error("not run");
  {
    std::unique_ptr<InterruptHandler> interrupts;
    if (options.handle_signals) {
      interrupts = std::make_unique<InterruptHandler>([&scheduler, &downstream] {
        scheduler.Cancel();
        downstream.CancelAll();
      });
    }
    std::unique_ptr<StatusRefresher> refresher;
    if (options.console.status_line) {
      refresher = std::make_unique<StatusRefresher>(&console, options.terminal_fd);
    }
    result = scheduler.Run();
    // Child pipelines of trigger jobs without strategy: depend run on.
    downstream.Wait();
  }
  console.Finish();
  if (!result.ok()) {
    std::fprintf(options.err, "error: %s\n", result.status().message().c_str());
    if (options.rerun_id == 0) std::filesystem::remove_all(run_dir->path, ec);
    return kExitInvalid;
  }

  SummaryOptions summary_options;
  summary_options.color = options.console.color;
  summary_options.project_dir = project_dir;
  summary_options.pipeline_name = pipeline.name;
  std::string summary = FormatSummary(*result, summary_options);
  std::fputs(summary.c_str(), options.out);
  std::fflush(options.out);

  int exit_code = ExitCode(result->status);
  std::vector<LocalRollbackRequest> rollbacks =
      RecordLocalDeployments(pipeline, *result, run_dir->id, project_dir, options.deploy_commit,
                             options.rollback_of, options.err);
  if (options.rollbacks != nullptr) {
    options.rollbacks->insert(options.rollbacks->end(), rollbacks.begin(), rollbacks.end());
  }
  // The run's own record, for `slipway runs` and `slipway show` (report.md).
  SummaryOptions plain = summary_options;
  plain.color = false;
  const ReportContext report_context{run_dir->id, project_dir, pipeline.name};
  Status recorded = WriteReport(run_dir->path + "/" + kRunReportFile, *result, report_context);
  if (recorded.ok()) {
    recorded = WriteFile(run_dir->path + "/" + kRunSummaryFile, FormatSummary(*result, plain));
  }
  if (!recorded.ok()) std::fprintf(options.err, "warning: %s\n", recorded.message().c_str());
  if (!options.report.empty()) {
    Status written = WriteReport(options.report, *result, report_context);
    if (!written.ok()) {
      std::fprintf(options.err, "error: %s\n", written.message().c_str());
      if (exit_code == kExitSuccess) exit_code = kExitFailed;
    }
  }
  return exit_code;
}

}  // namespace slipway
