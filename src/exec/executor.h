// The boundary between the scheduler and whatever runs a job. The scheduler
// decides *when* a job runs (DAG, stages, when:, retries, resource groups) and
// knows nothing of processes; an Executor runs one job attempt from start to
// end: workspace, caches and artifacts in, script, after_script, artifacts and
// caches out. Shell first; sandboxed and remote executors later.
#ifndef SLIPWAY_EXEC_EXECUTOR_H_
#define SLIPWAY_EXEC_EXECUTOR_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/job.h"
#include "config/variables.h"
#include "util/cancel_token.h"

namespace slipway {

// Receives a job's output as it is produced. Implementations must be
// thread-safe: several jobs write at once.
class LogSink {
 public:
  virtual ~LogSink() = default;
  // Raw bytes from the job (stdout and stderr interleaved as produced), or
  // lines the executor writes itself ("$ command", section headers).
  virtual void Write(std::string_view job_name, std::string_view bytes) = 0;
};

struct DownstreamRun;

struct JobContext {
  std::string project_dir;  // The repository being run.
  std::string ref;          // --ref REV, or empty: the working tree as it is.
  std::string run_dir;      // .slipway/runs/<id>; holds every job's dir.
  std::string job_dir;      // run_dir/jobs/<job dir name>; log and artifacts go here.
  std::string cache_dir;    // Shared cache root for the project.
  // Final variables for the job with every precedence level applied.
  VariableList variables;
  // Jobs whose artifacts are restored into the workspace, in order
  // (from dependencies: / needs:artifacts), as their job_dir paths.
  std::vector<std::string> artifact_job_dirs;
  // The names of those jobs, in the same order (a dynamic child pipeline's
  // trigger:include:artifact names its job).
  std::vector<std::string> artifact_job_names;
  std::optional<std::chrono::milliseconds> timeout;
  int attempt = 1;  // 1 for the first run, 2.. for retries.
};

enum class JobOutcome { kSuccess, kFailed, kCanceled };

struct JobResult {
  JobOutcome outcome = JobOutcome::kFailed;
  int exit_code = 0;
  // GitLab's failure_reason values: "script_failure", "job_execution_timeout",
  // "runner_system_failure", "unknown_failure"; empty on success.
  std::string failure_reason;
  VariableList dotenv;   // From artifacts:reports:dotenv.
  std::string log_path;  // The attempt's full log.
  std::string summary;   // One line for the final report (e.g. JUnit counts).
  // slipway's own words for a failure where failure_reason alone would
  // mislead (JobRun::failure_message); usually empty.
  std::string failure_message;
  // The pipeline a trigger: job started (exec/downstream.h); null otherwise.
  std::shared_ptr<const DownstreamRun> downstream;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs one attempt of job. Blocking; called from a scheduler worker thread,
  // several at once. Must return promptly (after killing what it started)
  // once cancel is set, with JobOutcome::kCanceled.
  virtual JobResult Run(const Job& job, const JobContext& context, LogSink* log,
                        const CancelToken& cancel) = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_EXECUTOR_H_
