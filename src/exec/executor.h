// The boundary between the scheduler and whatever runs a job. The scheduler
// decides *when* a job runs (DAG, stages, when:, retries, resource groups) and
// knows nothing of processes; an Executor runs one job attempt from start to
// end: workspace, caches and artifacts in, script, after_script, artifacts and
// caches out. Shell first; sandboxed and remote executors later.
#ifndef SLIPWAY_EXEC_EXECUTOR_H_
#define SLIPWAY_EXEC_EXECUTOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/variables.h"
#include "exec/deploy_verifier.h"
#include "pipeline/job.h"
#include "util/cancel_token.h"
#include "util/status.h"

namespace slipway {

// Receives a job's output as it is produced. Implementations must be
// thread-safe: several jobs write at once.
class LogSink {
 public:
  virtual ~LogSink() = default;
  // Raw bytes from the job (stdout and stderr interleaved as produced), or
  // lines the executor writes itself ("$ command", section headers).
  virtual void Write(std::string_view job_name, std::string_view bytes) = 0;
  // As Write, and says whether the bytes were kept, for a writer that must
  // not acknowledge what was lost (a remote runner's log chunk): a sink that
  // stores them returns the store's error, one that passes them on returns
  // its next sink's answer. On an error nothing of bytes was kept, so the
  // writer may send the same bytes again. By default: Write, then Ok.
  virtual Status WriteChecked(std::string_view job_name, std::string_view bytes) {
    Write(job_name, bytes);
    return Status::Ok();
  }
};

struct DownstreamRun;

// One attempt of a job as any executor can carry it out, here or on another
// machine: nothing in it names a place on the machine that schedules it.
// The job's definition itself is the Job passed beside it.
struct JobSpec {
  // CI_JOB_ID of the attempt (also in variables).
  int64_t job_id = 0;
  // What to check out: a repository git can fetch from (for `slipway run`
  // the project's own directory; for the server its mirror) and a commit.
  // An empty commit means the working tree of repository as it is, which
  // only an executor on the same machine can take.
  std::string repository;
  std::string commit;
  // Final variables for the job with every precedence level applied.
  VariableList variables;
  // The jobs whose artifacts are restored into the workspace, in order
  // (from dependencies: / needs:artifacts), by their attempt's job id: an
  // executor gets them through JobHost::artifacts.
  struct ArtifactSource {
    int64_t job_id = 0;
    std::string job_name;
  };
  std::vector<ArtifactSource> artifacts_from;
  std::optional<std::chrono::milliseconds> timeout;
  int attempt = 1;  // 1 for the first run, 2.. for retries.
  // The deployment checks of the job's environment (`.slipway:`), for a
  // job with environment:action start; run once its script succeeded
  // (exec/deploy_verifier.h). Empty: none.
  std::vector<CheckDefinition> checks;
};

// Finds the artifacts an earlier job left, by its job id. The scheduler's
// own finds them in the run directory; the server's asks its store; a
// remote runner would download them.
class ArtifactFetcher {
 public:
  virtual ~ArtifactFetcher() = default;
  // A directory holding the job's artifacts as a tree of files (the layout
  // of <job_dir>/artifacts, docs/artifacts.md), or "" when it has none.
  virtual StatusOr<std::string> Fetch(const JobSpec::ArtifactSource& source) = 0;
  // The job's artifacts:reports:dotenv variables (a child pipeline's
  // needs:pipeline passes them on); this default: none.
  virtual VariableList Dotenv(const JobSpec::ArtifactSource& source) { return VariableList(); }
};

// Where, on the machine that carries out a JobSpec, the attempt keeps what it
// makes and finds what it needs.
struct JobHost {
  std::string run_dir;    // The run's own directory (the snapshot goes here without a state dir).
  std::string job_dir;    // run_dir/jobs/<job dir name>; log, artifacts and reports go here.
  std::string cache_dir;  // Shared cache root for the project; empty: no caches.
  ArtifactFetcher* artifacts = nullptr;  // Null: the job gets no artifacts.
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
  // The image the scripts ran in (ResolvedImage::reference and ::digest);
  // empty when they ran on the host.
  std::string image, image_digest;
  // The deployment checks' results, in the order they ran; empty when the
  // job had none or its script did not succeed.
  std::vector<CheckResult> checks;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs one attempt of job. Blocking; called from a scheduler worker thread,
  // several at once. Must return promptly (after killing what it started)
  // once cancel is set, with JobOutcome::kCanceled.
  virtual JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                        const CancelToken& cancel) = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_EXECUTOR_H_
