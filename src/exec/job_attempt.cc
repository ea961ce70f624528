#include "exec/job_attempt.h"

#include <filesystem>

#include "exec/artifacts.h"
#include "exec/file_tree.h"
#include "exec/job_log.h"

namespace slipway {
namespace {

// A trigger: job would start a downstream pipeline, which slipway cannot do
// yet: it fails, saying so, rather than pass without having done anything.
JobResult FailUnsupportedTrigger(const Job& job, LogSink* log) {
  if (log != nullptr) {
    log->Write(job.name, std::string("ERROR: Job failed: ") + kTriggerNotSupported + "\n");
  }
  JobResult failed;
  failed.outcome = JobOutcome::kFailed;
  failed.failure_reason = kTriggerFailureReason;
  failed.failure_message = kTriggerNotSupported;
  return failed;
}

JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, Executor* executor,
              DownstreamRunner* downstream, LogSink* log, const CancelToken& cancel) {
  if (!job.trigger) return executor->Run(job, spec, host, log, cancel);
  if (downstream == nullptr) return FailUnsupportedTrigger(job, log);
  return downstream->Run(job, spec, host, log, cancel);
}

// Run with what the attempt prints passed through a MaskingLogSink when
// there are values to hide.
JobResult RunMasked(const Job& job, const JobSpec& spec, const JobHost& host, Executor* executor,
                    DownstreamRunner* downstream, const MaskPatterns* masked, LogSink* log,
                    const CancelToken& cancel) {
  if (masked == nullptr || masked->empty()) {
    return Run(job, spec, host, executor, downstream, log, cancel);
  }
  MaskingLogSink masking(masked, log);
  JobResult result = Run(job, spec, host, executor, downstream, &masking, cancel);
  masking.Flush();
  result.failure_message = masked->Mask(result.failure_message);
  return result;
}

}  // namespace

AttemptOutcome RunJobAttempt(const Job& job, const JobSpec& spec, const JobHost& host,
                             Executor* executor, DownstreamRunner* downstream,
                             const MaskPatterns* masked, LogSink* log, const CancelToken& cancel) {
  AttemptOutcome out;
  if (host.job_dir.empty()) {
    out.result = RunMasked(job, spec, host, executor, downstream, masked, log, cancel);
    return out;
  }
  std::error_code ec;
  std::filesystem::create_directories(host.job_dir, ec);
  // What an earlier attempt collected is not this attempt's: a retry that
  // collects nothing (artifacts:when: on_failure, then success) has none.
  Status cleared = RemoveTree(ArtifactsDirIn(host.job_dir));
  if (cleared.ok()) cleared = RemoveTree(ReportsDirIn(host.job_dir));
  JobLogFile file(log);
  Status opened = ec ? Status::Error("cannot create '" + host.job_dir + "': " + ec.message())
                  : !cleared.ok() ? cleared
                                  : file.Open(host.job_dir + "/log");
  if (!opened.ok()) {
    out.result.outcome = JobOutcome::kFailed;
    out.result.exit_code = 1;
    out.result.failure_reason = "runner_system_failure";
    if (log != nullptr) log->Write(job.name, "ERROR: " + opened.message() + "\n");
    return out;
  }
  out.result = RunMasked(job, spec, host, executor, downstream, masked, &file, cancel);
  if (out.result.outcome == JobOutcome::kCanceled) return out;
  std::string archive_name = job.artifacts.name.empty()
                                 ? "artifacts"
                                 : ExpandVariables(job.artifacts.name, spec.variables);
  out.artifacts = IndexJobArtifacts(host.job_dir, archive_name);
  // The job dir lies in the run dir (SchedulerOptions::run_dir).
  std::string prefix =
      std::filesystem::path(host.job_dir).lexically_relative(host.run_dir).string();
  for (JobArtifact& a : out.artifacts) a.path = prefix + "/" + a.path;
  return out;
}

AttemptOutcome RefuseJobAttempt(const Job& job, const JobHost& host, LogSink* log,
                                const JobRefusal& refusal) {
  AttemptOutcome out;
  out.result.outcome = JobOutcome::kFailed;
  out.result.failure_reason = refusal.failure_reason;
  out.result.failure_message = refusal.message;
  // Without a log file the line still reaches log (JobLogFile forwards it).
  JobLogFile file(log);
  if (!host.job_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(host.job_dir, ec);
    if (!ec) (void)file.Open(host.job_dir + "/log");
  }
  file.Write(job.name, "ERROR: Job failed: " + refusal.message + "\n");
  return out;
}

}  // namespace slipway
