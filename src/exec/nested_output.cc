#include "exec/nested_output.h"

namespace slipway {

std::string NestedJobName(std::string_view trigger_job, std::string_view job) {
  return std::string(trigger_job) + " > " + std::string(job);
}

NestedOutput::NestedOutput(LogSink* log, RunObserver* observer, std::string trigger_job)
    : log_(log), observer_(observer), trigger_job_(std::move(trigger_job)) {}

std::string NestedOutput::Name(std::string_view job_name) const {
  return NestedJobName(trigger_job_, job_name);
}

void NestedOutput::Write(std::string_view job_name, std::string_view bytes) {
  if (log_ != nullptr) log_->Write(Name(job_name), bytes);
}

void NestedOutput::OnJobUpdate(const JobRun& run) {
  if (observer_ == nullptr) return;
  JobRun shown = run;
  {
    std::lock_guard<std::mutex> guard(mu_);
    std::unique_ptr<Job>& copy = renamed_[run.job];
    if (!copy) {
      copy = std::make_unique<Job>(*run.job);
      copy->name = Name(run.job->name);
    }
    shown.job = copy.get();
  }
  observer_->OnJobUpdate(shown);
}

}  // namespace slipway
