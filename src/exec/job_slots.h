// --jobs N for a whole run: a parent pipeline and the downstream pipelines
// its trigger jobs run alongside it each have a scheduler bounded by N, so
// together they could start several times N jobs. JobSlots bounds the jobs
// that run scripts at once across all of them: every script job takes one
// of N slots for its attempt. Trigger jobs take none (they run no script),
// so a trigger job waiting for its child never keeps the child's jobs from
// a slot.
#ifndef SLIPWAY_EXEC_JOB_SLOTS_H_
#define SLIPWAY_EXEC_JOB_SLOTS_H_

#include <condition_variable>
#include <mutex>

#include "exec/executor.h"
#include "util/thread_annotations.h"

namespace slipway {

// An Executor that runs inner's attempts at most `slots` at a time.
// Thread-safe. An attempt waiting for a slot shows as running; it returns
// kCanceled without starting when cancel is set meanwhile.
class JobSlots : public Executor {
 public:
  JobSlots(Executor* inner, int slots);  // inner not owned; slots >= 1.
  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel) override;

 private:
  Executor* const inner_;
  std::mutex mu_;
  std::condition_variable freed_;
  int free_ GUARDED_BY(mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_JOB_SLOTS_H_
