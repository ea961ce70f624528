#include "exec/scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "config/variables.h"
#include "exec/artifacts.h"
#include "exec/dotenv.h"
#include "exec/file_tree.h"
#include "exec/job_attempt.h"
#include "exec/run_dir.h"
#include "pipeline/pipeline_context.h"
#include "pipeline/predefined.h"
#include "pipeline/run_plan.h"
#include "util/thread_annotations.h"

namespace slipway {
namespace {

double Seconds(Clock::TimePoint::duration d) { return std::chrono::duration<double>(d).count(); }

// Whether job takes artifacts from another project's pipeline (needs:project).
bool NeedsOtherProjects(const Job& job) {
  if (!job.needs) return false;
  for (const Need& need : *job.needs) {
    if (!need.project.empty() && need.artifacts) return true;
  }
  return false;
}

// Why a run without SchedulerOptions::project_artifacts cannot give job
// what its needs:project asks: only the server keeps other projects'
// pipelines (docs/child-pipelines.md).
Status ProjectNeedsUnsupported(const Job& job) {
  for (const Need& need : *job.needs) {
    if (need.project.empty() || !need.artifacts) continue;
    return Status::Error(need.mark.ToString() + ": needs:project (job `" + need.job +
                         "` of project `" + need.project + "`" +
                         (need.ref.empty() ? "" : " at `" + need.ref + "`") +
                         ") needs `slipway serve`: only the server keeps other projects' "
                         "pipelines and their artifacts, so this job does not run without them");
  }
  return Status::Ok();
}

}  // namespace

// The threads, timers and job attempts of a run; what runs next is the
// RunPlan's to say. Workers touch only work_ and done_, everything else is
// the Run thread's or an action's (Play, Retry, CancelJob, Cancel), each
// holding mu_.
class Scheduler::Impl : public RunPlan::Listener {
 public:
  Impl(const Pipeline& pipeline, Executor* executor, Clock* clock, LogSink* log,
       RunObserver* observer, SchedulerOptions options)
      : pipeline_(pipeline),
        executor_(executor),
        clock_(clock),
        log_(log),
        observer_(observer),
        options_(std::move(options)),
        masked_(options_.masked_values) {
    if (options_.max_parallel < 1) options_.max_parallel = 1;
  }

  StatusOr<RunResult> Run();
  void Cancel() {
    std::lock_guard<std::mutex> guard(mu_);
    cancel_requested_ = true;
    for (const std::shared_ptr<CancelToken>& token : tokens_) {
      if (token) token->Cancel();
    }
    cv_.notify_all();
  }
  Status Play(const std::string& name);
  Status Retry(const std::string& name);
  Status CancelJob(const std::string& name);
  void Wake() {
    // Under the lock, so that Run cannot miss it between its checks and its
    // wait.
    std::lock_guard<std::mutex> guard(mu_);
    cv_.notify_all();
  }

  // The plan changed job i's status: mirror it and tell the observer.
  void OnStatusChange(int i) override {
    JobRun& run = runs_[i];
    run.status = plan_->status(i);
    run.allow_failure = plan_->allow_failure(i);
    run.retries = plan_->retries(i);
    if (observer_ != nullptr) observer_->OnJobUpdate(run);
  }

 private:
  struct Work {
    int job = 0;
    JobSpec spec;
    JobHost host;
    // The run dirs of the jobs spec.artifacts_from names, as they were when
    // the attempt was dispatched, or, when the options give a fetcher, that
    // fetcher for this run's jobs (host.artifacts points here).
    std::shared_ptr<JobDirArtifacts> job_dirs;
    std::shared_ptr<CancelToken> token;
    // Set: the gate refused the attempt; it fails without running.
    std::optional<JobRefusal> refusal;
  };
  struct Completion {
    int job;
    JobResult result;
    std::vector<JobArtifact> artifacts;  // See JobRun::artifacts.
  };

  Status Build();
  void ApplyPrior();
  StatusOr<int> AcceptingJob(const std::string& name);
  void Dispatch();
  // Starts job i, which NextReady gave or the gate held, unless the gate
  // holds it (again). Returns whether it started.
  bool TryStart(int i);
  void Finish(const Completion& c);
  // Wakes Run after an action, and starts what the action made ready.
  Status AfterAction(Status s);
  Work MakeWork(int i);
  int64_t JobId(int i) const;
  std::vector<int> ArtifactSources(int i) const;
  void WorkerLoop();

  const Pipeline& pipeline_;
  Executor* executor_;
  Clock* clock_;
  LogSink* log_;
  RunObserver* observer_;
  SchedulerOptions options_;
  const MaskPatterns masked_;  // From options_.masked_values.

  std::mutex mu_;
  std::optional<RunPlan> plan_ GUARDED_BY(mu_);
  std::vector<JobRun> runs_ GUARDED_BY(mu_);  // By plan job.
  std::vector<std::string> dir_names_ GUARDED_BY(mu_);
  std::vector<int64_t> job_ids_
      GUARDED_BY(mu_);  // CI_JOB_ID of each job's last attempt; 0: none yet.
  std::vector<Clock::TimePoint> attempt_start_ GUARDED_BY(mu_);
  std::vector<std::shared_ptr<CancelToken>> tokens_ GUARDED_BY(mu_);  // Of each running attempt.
  // What the gate last said of each job it holds, so that its log says it once.
  std::vector<std::string> held_said_ GUARDED_BY(mu_);
  std::condition_variable cv_;       // Completions and cancel, for Run.
  std::condition_variable work_cv_;  // Work, for workers.
  bool cancel_requested_ GUARDED_BY(mu_) = false;
  bool accepting_ GUARDED_BY(mu_) = false;  // Run's loop is running.
  bool shutdown_ GUARDED_BY(mu_) = false;
  std::deque<Work> work_ GUARDED_BY(mu_);
  std::deque<Completion> done_ GUARDED_BY(mu_);
  int running_ GUARDED_BY(mu_) = 0;
};

Status Scheduler::Impl::Build() {
  StatusOr<RunPlan> plan = RunPlan::Create(pipeline_, options_.selected);
  if (!plan.ok()) return plan.status();
  plan_.emplace(std::move(*plan));
  if (options_.gate != nullptr) plan_->GateResourceGroups();
  size_t jobs = static_cast<size_t>(plan_->size());
  std::vector<std::string> names;
  runs_.resize(jobs);
  for (size_t i = 0; i < jobs; ++i) {
    runs_[i].job = &plan_->job(static_cast<int>(i));
    names.push_back(runs_[i].job->name);
  }
  dir_names_ = UniqueJobDirNames(names);
  attempt_start_.resize(jobs);
  job_ids_.resize(jobs);
  tokens_.resize(jobs);
  held_said_.resize(jobs);
  ApplyPrior();
  plan_->set_listener(this);
  return Status::Ok();
}

void Scheduler::Impl::ApplyPrior() {
  for (size_t n = 0; n < runs_.size(); ++n) {
    JobRun& run = runs_[n];
    auto it = options_.prior.find(run.job->name);
    if (it == options_.prior.end()) continue;
    const PriorJob& prior = it->second;
    int i = static_cast<int>(n);
    bool kept = plan_->Resume(i, prior.status, prior.allow_failure, prior.retries, prior.play);
    run.retries = plan_->retries(i);
    if (!kept) continue;
    run.status = plan_->status(i);
    run.allow_failure = plan_->allow_failure(i);
    run.exit_code = prior.exit_code;
    run.failure_reason = prior.failure_reason;
    if (prior.status == CiStatus::kSkipped || options_.run_dir.empty()) continue;
    std::string job_dir = options_.run_dir + "/jobs/" + dir_names_[n];
    if (!PathExists(job_dir)) continue;
    run.job_dir = job_dir;
    run.log_path = job_dir + "/log";
    job_ids_[n] = JobId(i);
    run.dotenv = ReadDotenvReports(job_dir);
  }
}

StatusOr<int> Scheduler::Impl::AcceptingJob(const std::string& name) {
  if (!accepting_) return Status::Error("the pipeline is not running");
  int i = plan_->graph().Find(name);
  if (i < 0) return Status::Error("job '" + name + "' is not in the run");
  return i;
}

Status Scheduler::Impl::AfterAction(Status s) {
  if (!s.ok()) return s;
  Dispatch();
  cv_.notify_all();
  return Status::Ok();
}

Status Scheduler::Impl::Play(const std::string& name) {
  std::lock_guard<std::mutex> guard(mu_);
  StatusOr<int> i = AcceptingJob(name);
  if (!i.ok()) return i.status();
  return AfterAction(plan_->Play(*i, clock_->Now()));
}

Status Scheduler::Impl::Retry(const std::string& name) {
  std::lock_guard<std::mutex> guard(mu_);
  StatusOr<int> i = AcceptingJob(name);
  if (!i.ok()) return i.status();
  if (!plan_->canceled() && JobRetryable(plan_->status(*i))) {
    // The new attempt starts with nothing of the last one.
    JobRun& run = runs_[*i];
    run.exit_code.reset();
    run.failure_reason.clear();
    run.failure_message.clear();
    run.dotenv = VariableList();
    run.summary.clear();
    run.artifacts.clear();
    run.downstream.reset();
    run.job_dir.clear();
    run.log_path.clear();
  }
  return AfterAction(plan_->Retry(*i, clock_->Now()));
}

Status Scheduler::Impl::CancelJob(const std::string& name) {
  std::lock_guard<std::mutex> guard(mu_);
  StatusOr<int> i = AcceptingJob(name);
  if (!i.ok()) return i.status();
  bool waiting = plan_->status(*i) == CiStatus::kWaitingForResource;
  StatusOr<bool> stop = plan_->CancelJob(*i, clock_->Now());
  if (!stop.ok()) return stop.status();
  if (waiting && options_.gate != nullptr && job_ids_[*i] != 0) {
    options_.gate->Release(plan_->job(*i), job_ids_[*i]);
  }
  if (*stop) {
    if (tokens_[*i]) tokens_[*i]->Cancel();
    return Status::Ok();
  }
  return AfterAction(Status::Ok());
}

// The jobs whose artifacts (and dotenv variables) job i receives, in order:
// its `dependencies`, else its `needs` with artifacts, else every job of the
// earlier stages. Only jobs that ran have any.
std::vector<int> Scheduler::Impl::ArtifactSources(int i) const {
  const Job& job = plan_->job(i);
  const JobGraph& graph = plan_->graph();
  std::vector<int> sources;
  auto add = [&](std::string_view name) {
    int n = graph.Find(name);
    if (n >= 0 && !runs_[n].job_dir.empty()) sources.push_back(n);
  };
  if (job.dependencies) {
    for (const std::string& name : *job.dependencies) add(name);
  } else if (job.needs) {
    for (const Need& need : *job.needs) {
      if (need.artifacts) add(need.job);
    }
  } else {
    for (int n = 0; n < graph.size(); ++n) {
      if (graph.stage(n) < graph.stage(i) && !runs_[n].job_dir.empty()) sources.push_back(n);
    }
  }
  return sources;
}

int64_t Scheduler::Impl::JobId(int i) const {
  return options_.job_id ? options_.job_id(plan_->job(i)) : plan_->pipeline_index(i) + 1;
}

Scheduler::Impl::Work Scheduler::Impl::MakeWork(int i) {
  const Job& job = plan_->job(i);
  Work work;
  work.job = i;
  work.job_dirs = std::make_shared<JobDirArtifacts>();
  work.token = std::make_shared<CancelToken>();
  JobSpec& spec = work.spec;
  spec.repository = options_.project_dir;
  spec.commit = options_.ref;
  spec.job_id = JobId(i);
  job_ids_[i] = spec.job_id;
  std::vector<const VariableList*> dotenv;
  std::vector<UpstreamArtifacts> upstream;
  if (options_.upstream_artifacts) upstream = options_.upstream_artifacts(job);
  if (NeedsOtherProjects(job)) {
    StatusOr<std::vector<UpstreamArtifacts>> theirs =
        options_.project_artifacts ? options_.project_artifacts(job) : ProjectNeedsUnsupported(job);
    if (theirs.ok()) {
      upstream.insert(upstream.end(), theirs->begin(), theirs->end());
    } else {
      work.refusal = JobRefusal{kMissingDependencyReason, theirs.status().message()};
    }
  }
  // Upstream jobs have no id in this run: they are numbered -1, -2 ...
  for (size_t k = 0; k < upstream.size(); ++k) {
    const UpstreamArtifacts& u = upstream[k];
    int64_t id = -static_cast<int64_t>(k) - 1;
    dotenv.push_back(&u.dotenv);
    spec.artifacts_from.push_back({id, u.job_name});
    work.job_dirs->AddArtifactsDir(id, u.artifacts_dir, u.dotenv);
  }
  for (int n : ArtifactSources(i)) {
    dotenv.push_back(&runs_[n].dotenv);
    spec.artifacts_from.push_back({job_ids_[n], runs_[n].job->name});
    if (options_.artifacts == nullptr) work.job_dirs->Add(job_ids_[n], runs_[n].job_dir);
  }
  spec.variables =
      JobVariables(job, spec.job_id, options_.predefined, dotenv, options_.cli_variables);
  if (job.timeout_seconds) {
    spec.timeout = std::chrono::seconds(*job.timeout_seconds);
  } else {
    spec.timeout = options_.default_timeout;
  }
  spec.attempt = runs_[i].retries + 1;
  spec.checks = DeploymentChecks(pipeline_.slipway, spec.variables);

  JobHost& host = work.host;
  host.run_dir = options_.run_dir;
  host.cache_dir = options_.cache_dir;
  if (!options_.run_dir.empty()) host.job_dir = options_.run_dir + "/jobs/" + dir_names_[i];
  // This run's jobs from the options' fetcher when they give one; upstream
  // pipelines' jobs from their directories.
  work.job_dirs->set_fallback(options_.artifacts);
  host.artifacts = work.job_dirs.get();
  return work;
}

void Scheduler::Impl::Dispatch() {
  // Jobs the gate held first: they were ready before the plan's next ones.
  if (options_.gate != nullptr) {
    std::vector<int> held = plan_->held();
    for (int i : held) {
      if (running_ >= options_.max_parallel) break;
      TryStart(i);
    }
  }
  while (running_ < options_.max_parallel) {
    std::optional<int> next = plan_->NextReady();
    if (!next) break;
    TryStart(*next);
  }
}

bool Scheduler::Impl::TryStart(int i) {
  JobRun& run = runs_[i];
  Work work = MakeWork(i);
  // Before the gate: a job it holds and that is then canceled still names
  // its environment (its blocked deployment ends canceled).
  if (const std::string* name = work.spec.variables.Get("CI_ENVIRONMENT_NAME")) {
    auto value = [&work](const char* key) {
      const std::string* v = work.spec.variables.Get(key);
      return v != nullptr ? *v : std::string();
    };
    run.environment = {};
    run.environment.name = *name;
    run.environment.url = value("CI_ENVIRONMENT_URL");
    run.environment.tier = value("CI_ENVIRONMENT_TIER");
    run.environment.action = value("CI_ENVIRONMENT_ACTION");
    if (run.job->environment) {
      run.environment.on_stop = run.job->environment->on_stop;
      run.environment.auto_stop_in =
          ExpandVariables(run.job->environment->auto_stop_in, work.spec.variables);
    }
  }
  if (options_.gate != nullptr) {
    using Kind = GateVerdict::Kind;
    const Job& job = plan_->job(i);
    bool waiting = plan_->status(i) == CiStatus::kWaitingForResource;
    GateVerdict verdict = options_.gate->Check(job, work.spec);
    if (verdict.kind == Kind::kRun && waiting) {
      if (!options_.gate->AcquireResource(job, work.spec)) {
        plan_->Hold(i);
        return false;
      }
      // What changed while it waited (a newer deployment, a freeze).
      verdict = options_.gate->Check(job, work.spec);
      if (verdict.kind == Kind::kHold) options_.gate->Release(job, work.spec.job_id);
    }
    if (verdict.kind == Kind::kHold) {
      if (log_ != nullptr && held_said_[i] != verdict.message) {
        log_->Write(job.name, verdict.message + "\n");
      }
      held_said_[i] = verdict.message;
      plan_->Hold(i);
      return false;
    }
    if (waiting) plan_->Grant(i);
    if (verdict.kind == Kind::kRefuse) {
      work.refusal = JobRefusal{verdict.failure_reason, verdict.message};
    }
  }
  if (cancel_requested_) work.token->Cancel();
  tokens_[i] = work.token;
  run.job_dir = work.host.job_dir;
  if (!run.job_dir.empty()) run.log_path = run.job_dir + "/log";
  if (!run.started_at) run.started_at = clock_->WallNow();
  attempt_start_[i] = clock_->Now();
  ++running_;
  plan_->Running(i);
  work_.push_back(std::move(work));
  work_cv_.notify_one();
  return true;
}

void Scheduler::Impl::Finish(const Completion& c) {
  int i = c.job;
  JobRun& run = runs_[i];
  const JobResult& r = c.result;
  const Job& job = plan_->job(i);
  --running_;
  tokens_[i].reset();
  if (options_.gate != nullptr) options_.gate->Release(job, job_ids_[i]);
  run.duration_s += Seconds(clock_->Now() - attempt_start_[i]);
  run.finished_at = clock_->WallNow();
  // A trigger: job starts no process, so it has no exit code.
  if (!job.trigger) run.exit_code = r.exit_code;
  run.dotenv = r.dotenv;
  run.summary = r.summary;
  run.artifacts = c.artifacts;
  run.downstream = r.downstream;
  run.image = r.image;
  run.image_digest = r.image_digest;
  run.checks = r.checks;
  // With a run dir the scheduler keeps the whole log (all attempts) itself.
  if (run.log_path.empty()) run.log_path = r.log_path;
  CiStatus outcome = CiStatus::kFailed;
  switch (r.outcome) {
    case JobOutcome::kSuccess:
      outcome = CiStatus::kSuccess;
      break;
    case JobOutcome::kCanceled:
      outcome = CiStatus::kCanceled;
      break;
    case JobOutcome::kFailed:
      run.failure_reason = r.failure_reason.empty() ? "unknown_failure" : r.failure_reason;
      run.failure_message = r.failure_message;
      break;
  }
  if (outcome != CiStatus::kFailed) {
    run.failure_reason.clear();
    run.failure_message.clear();
  }
  plan_->Finished(i, outcome, r.exit_code, run.failure_reason, !cancel_requested_, clock_->Now());
}

void Scheduler::Impl::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return shutdown_ || !work_.empty(); });
    if (work_.empty()) return;
    Work work = std::move(work_.front());
    work_.pop_front();
    const Job& job = plan_->job(work.job);
    lock.unlock();
    AttemptOutcome attempt = work.refusal
                                 ? RefuseJobAttempt(job, work.host, log_, *work.refusal)
                                 : RunJobAttempt(job, work.spec, work.host, executor_,
                                                 options_.downstream, &masked_, log_, *work.token);
    lock.lock();
    done_.push_back(Completion{work.job, std::move(attempt.result), std::move(attempt.artifacts)});
    cv_.notify_all();
  }
}

StatusOr<RunResult> Scheduler::Impl::Run() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    Status built = Build();
    if (!built.ok()) return built;
  }
  RunResult result;
  result.started_at = clock_->WallNow();
  Clock::TimePoint start = clock_->Now();

  size_t workers = std::min(static_cast<size_t>(options_.max_parallel), runs_.size());
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) threads.emplace_back([this] { WorkerLoop(); });

  {
    std::unique_lock<std::mutex> lock(mu_);
    accepting_ = true;
    plan_->Start(clock_->Now());
    while (true) {
      // A cancel first, so that no completion below starts anything new.
      if (cancel_requested_) plan_->Cancel();
      while (!done_.empty()) {
        Completion c = std::move(done_.front());
        done_.pop_front();
        Finish(c);
      }
      plan_->AdvanceTime(clock_->Now());
      Dispatch();
      if (!done_.empty()) continue;
      if (running_ == 0 && plan_->Idle()) break;
      if (cancel_requested_ && !plan_->canceled()) continue;
      if (std::optional<Clock::TimePoint> wake = plan_->NextWakeup()) {
        clock_->WaitUntil(lock, cv_, *wake);
      } else {
        cv_.wait(lock);
      }
    }
    accepting_ = false;
    shutdown_ = true;
    work_cv_.notify_all();
  }
  for (std::thread& t : threads) t.join();

  std::lock_guard<std::mutex> guard(mu_);
  result.finished_at = clock_->WallNow();
  result.duration_s = Seconds(clock_->Now() - start);
  result.status = plan_->Outcome();
  result.jobs = std::move(runs_);
  runs_.clear();
  return result;
}

Scheduler::Scheduler(const Pipeline& pipeline, Executor* executor, Clock* clock, LogSink* log,
                     RunObserver* observer, SchedulerOptions options)
    : impl_(std::make_unique<Impl>(pipeline, executor, clock, log, observer, std::move(options))) {}

Scheduler::~Scheduler() = default;

StatusOr<RunResult> Scheduler::Run() { return impl_->Run(); }

void Scheduler::Cancel() { impl_->Cancel(); }

Status Scheduler::Play(const std::string& job_name) { return impl_->Play(job_name); }

Status Scheduler::Retry(const std::string& job_name) { return impl_->Retry(job_name); }

Status Scheduler::CancelJob(const std::string& job_name) { return impl_->CancelJob(job_name); }

void Scheduler::Wake() { impl_->Wake(); }

}  // namespace slipway
