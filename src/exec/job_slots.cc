#include "exec/job_slots.h"

#include <algorithm>
#include <chrono>

namespace slipway {

JobSlots::JobSlots(Executor* inner, int slots) : inner_(inner), free_(std::max(1, slots)) {}

JobResult JobSlots::Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                        const CancelToken& cancel) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    // The token is polled, as executors poll it: nothing signals it.
    while (free_ == 0 && !cancel.canceled()) {
      freed_.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (free_ == 0) {
      JobResult canceled;
      canceled.outcome = JobOutcome::kCanceled;
      return canceled;
    }
    --free_;
  }
  JobResult result = inner_->Run(job, spec, host, log, cancel);
  {
    std::lock_guard<std::mutex> guard(mu_);
    ++free_;
  }
  freed_.notify_one();
  return result;
}

}  // namespace slipway
