#include "exec/run_result.h"

namespace slipway {

const char* JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kCreated:
      return "created";
    case JobStatus::kPending:
      return "pending";
    case JobStatus::kScheduled:
      return "scheduled";
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kSuccess:
      return "success";
    case JobStatus::kFailed:
      return "failed";
    case JobStatus::kCanceled:
      return "canceled";
    case JobStatus::kSkipped:
      return "skipped";
    case JobStatus::kManual:
      return "manual";
  }
  return "created";
}

const char* PipelineStatusName(PipelineStatus status) {
  switch (status) {
    case PipelineStatus::kSuccess:
      return "success";
    case PipelineStatus::kFailed:
      return "failed";
    case PipelineStatus::kCanceled:
      return "canceled";
  }
  return "failed";
}

}  // namespace slipway
