// How a downstream pipeline's jobs show in the output of the run that
// started it: under their trigger job, each job named
// "<trigger job> > <job>" (and "<a> > <b> > <job>" a level deeper), so that
// the live output, whose lines start with the job's name, keeps them apart
// from the parent's jobs of the same name.
#ifndef SLIPWAY_EXEC_NESTED_OUTPUT_H_
#define SLIPWAY_EXEC_NESTED_OUTPUT_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "exec/executor.h"
#include "exec/scheduler.h"
#include "util/thread_annotations.h"

namespace slipway {

// "<trigger> > <job>": the name a child pipeline's job is shown with.
std::string NestedJobName(std::string_view trigger_job, std::string_view job);

// Forwards a child pipeline's output and status changes to the parent's
// sink and observer (either may be null) with the jobs renamed. Thread-safe
// as its targets are.
class NestedOutput : public LogSink, public RunObserver {
 public:
  NestedOutput(LogSink* log, RunObserver* observer, std::string trigger_job);

  void Write(std::string_view job_name, std::string_view bytes) override;
  void OnJobUpdate(const JobRun& run) override;
  // The name a job of the child is shown with.
  std::string Name(std::string_view job_name) const;

 private:
  LogSink* log_;
  RunObserver* observer_;
  const std::string trigger_job_;
  std::mutex mu_;
  // Copies of the child's jobs under their shown names, by the original.
  std::map<const Job*, std::unique_ptr<Job>> renamed_ GUARDED_BY(mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_NESTED_OUTPUT_H_
