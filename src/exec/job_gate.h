// What the scheduler asks before a job starts, beyond the pipeline's own
// rules: the server holds resource groups across a project's pipelines,
// holds deploy jobs during deploy freezes and until their approvals, and
// refuses outdated deployment jobs (docs/deployments.md). `slipway run` has
// no gate.
#ifndef SLIPWAY_EXEC_JOB_GATE_H_
#define SLIPWAY_EXEC_JOB_GATE_H_

#include <optional>
#include <string>

#include "exec/executor.h"
#include "pipeline/job.h"

namespace slipway {

// A job that must fail without running: GitLab's failure reason and the
// line its log gets.
struct JobRefusal {
  std::string failure_reason;
  std::string message;
};

// What Check says of a job about to start.
struct GateVerdict {
  enum class Kind {
    kRun,     // It starts.
    kHold,    // It does not start yet: asked again after Scheduler::Wake.
    kRefuse,  // It fails without running.
  };
  Kind kind = Kind::kRun;
  std::string failure_reason;  // kRefuse: GitLab's failure reason.
  // kRefuse: why, for its log. kHold: why it waits, written to its log
  // (once for each different message).
  std::string message;
};

// Called by the scheduler with its lock held: implementations must not call
// back into the scheduler (they may call Scheduler::Wake, which only takes
// that lock briefly, from another thread or after returning).
class JobGate {
 public:
  virtual ~JobGate() = default;
  // Job (with a resource_group) asks for its group, spec being the attempt
  // it would run (spec.job_id, spec.variables). False: it waits as
  // waiting_for_resource, and the gate calls Scheduler::Wake once it may
  // ask again. Asking again for a group it holds returns true.
  virtual bool AcquireResource(const Job& job, const JobSpec& spec) = 0;
  // Whether job's attempt spec may start now. Asked before it asks for its
  // resource group and again once it got it (a newer deployment may have
  // finished meanwhile); a job held then gives its group back. What a
  // refused job held is released by Release.
  virtual GateVerdict Check(const Job& job, const JobSpec& spec) = 0;
  // The attempt job_id of job ended, or the job stopped waiting (canceled):
  // its group is free for the next job, or it waits no more.
  virtual void Release(const Job& job, int64_t job_id) = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_JOB_GATE_H_
