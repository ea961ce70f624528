#include "exec/scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>

#include "exec/dotenv.h"
#include "exec/file_tree.h"
#include "exec/job_attempt.h"
#include "exec/run_dir.h"
#include "pipeline/predefined.h"
#include "util/duration.h"

namespace slipway {
namespace {

// How a completed job counts in the status its successors see (GitLab's
// Ci::Status::Composite inputs).
enum class Seen { kSuccess, kWarning, kIgnored, kSkipped, kFailed, kCanceled };

// The set of Seen values of a group of completed jobs.
struct Aggregate {
  bool success = false;
  bool warning = false;
  bool ignored = false;
  bool skipped = false;
  bool failed = false;
  bool canceled = false;

  void Add(Seen s) {
    switch (s) {
      case Seen::kSuccess: success = true; break;
      case Seen::kWarning: warning = true; break;
      case Seen::kIgnored: ignored = true; break;
      case Seen::kSkipped: skipped = true; break;
      case Seen::kFailed: failed = true; break;
      case Seen::kCanceled: canceled = true; break;
    }
  }
  void Merge(const Aggregate& o) {
    success |= o.success;
    warning |= o.warning;
    ignored |= o.ignored;
    skipped |= o.skipped;
    failed |= o.failed;
    canceled |= o.canceled;
  }
  bool empty() const { return !(success || warning || ignored || skipped || failed || canceled); }
};

// The composite status of completed jobs: kSuccess, kSkipped, kFailed or kCanceled.
JobStatus StageComposite(const Aggregate& a) {
  if (a.empty()) return JobStatus::kSuccess;
  if (!a.success && !a.warning && !a.failed && !a.canceled) return JobStatus::kSkipped;
  if (!a.failed && !a.canceled) return JobStatus::kSuccess;
  if (!a.failed) return JobStatus::kCanceled;
  return JobStatus::kFailed;
}

JobStatus NeedsComposite(const Aggregate& a) {
  if (a.skipped || a.ignored) return JobStatus::kSkipped;
  return StageComposite(a);
}

bool WhenAccepts(When when, JobStatus previous, bool dag) {
  switch (when) {
    case When::kOnSuccess:
    case When::kManual:
    case When::kDelayed:
      return previous == JobStatus::kSuccess || (!dag && previous == JobStatus::kSkipped);
    case When::kOnFailure:
      return previous == JobStatus::kFailed;
    case When::kAlways:
      return previous != JobStatus::kCanceled;
    case When::kNever:
      return false;
  }
  return false;
}

bool Contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// `start_in` of a delayed job. The builder has validated it; anything
// unreadable counts as no delay.
std::chrono::milliseconds StartInDelay(std::string_view text) {
  StatusOr<int64_t> seconds = ParseDuration(text);
  return std::chrono::seconds(seconds.ok() ? *seconds : 0);
}

double Seconds(Clock::TimePoint::duration d) { return std::chrono::duration<double>(d).count(); }

bool IsFinal(JobStatus s) {
  return s == JobStatus::kSuccess || s == JobStatus::kFailed || s == JobStatus::kCanceled ||
         s == JobStatus::kSkipped;
}

// The dotenv variables a finished job left in <job_dir>/reports/dotenv/.
// Unreadable reports give none: the job was accepted with them before.
VariableList ReadDotenvReports(const std::string& job_dir) {
  VariableList vars;
  std::string dir = JoinPath(job_dir, "reports/dotenv");
  if (!PathExists(dir)) return vars;
  StatusOr<std::vector<TreeEntry>> entries = ListTree(dir);
  if (!entries.ok()) return vars;
  for (const TreeEntry& e : *entries) {
    if (e.type != EntryType::kFile) continue;
    StatusOr<std::string> content = ReadFile(JoinPath(dir, e.path), kDotenvSizeLimit);
    if (content.ok()) (void)ParseDotenv(*content, &vars);
  }
  return vars;
}

}  // namespace

class Scheduler::Impl {
 public:
  Impl(const Pipeline& pipeline, Executor* executor, Clock* clock, LogSink* log,
       RunObserver* observer, SchedulerOptions options)
      : pipeline_(pipeline),
        executor_(executor),
        clock_(clock),
        log_(log),
        observer_(observer),
        options_(std::move(options)) {
    if (options_.max_parallel < 1) options_.max_parallel = 1;
  }

  StatusOr<RunResult> Run();
  void Cancel() {
    std::lock_guard<std::mutex> guard(mu_);
    cancel_requested_ = true;
    for (Node& node : nodes_) {
      if (node.token) node.token->Cancel();
    }
    cv_.notify_all();
  }
  Status Play(const std::string& name);
  Status Retry(const std::string& name);
  Status CancelJob(const std::string& name);

 private:
  struct Node {
    const Job* job = nullptr;
    int pipeline_index = 0;
    int stage = 0;
    bool dag = false;
    bool play_manual = false;
    std::vector<int> needs;  // Node indices.
    std::vector<int> dependents;
    int remaining = 0;  // Needs not completed yet.
    Aggregate needs_seen;
    std::optional<Seen> seen;  // Set once completed.
    Clock::TimePoint attempt_start{};
    std::shared_ptr<CancelToken> token;  // Of the running attempt.
  };
  struct Work {
    int node;
    JobContext context;
    std::shared_ptr<CancelToken> token;
  };
  struct Completion {
    int node;
    JobResult result;
    std::vector<JobArtifact> artifacts;  // See JobRun::artifacts.
  };
  struct Timer {
    Clock::TimePoint deadline;
    int node;
    bool operator>(const Timer& o) const { return deadline > o.deadline; }
  };
  struct ResourceGroup {
    bool busy = false;
    std::deque<int> waiting;
  };

  Status Build();
  void ApplyPrior();
  void Rebuild();
  bool Completed(int i) const;
  StatusOr<int> AcceptingNode(const std::string& name);
  void ResetSkippedAfter(int i);
  void SetStatus(int i, JobStatus status);
  void Process(int i);
  void Complete(int i);
  void Propagate();
  void AdvanceStages();
  void Enqueue(int i);
  void ReleaseResourceGroup(int i);
  void Dispatch();
  void Finish(const Completion& c);
  bool RetryAllowed(int i, const JobResult& r) const;
  void ApplyCancel();
  JobContext MakeContext(int i);
  std::vector<int> ArtifactSources(int i) const;
  void WorkerLoop();

  const Pipeline& pipeline_;
  Executor* executor_;
  Clock* clock_;
  LogSink* log_;
  RunObserver* observer_;
  SchedulerOptions options_;

  std::vector<Node> nodes_;
  std::vector<JobRun> runs_;  // Parallel to nodes_.
  std::vector<std::string> dir_names_;
  std::unordered_map<std::string_view, int> node_by_name_;
  std::vector<std::vector<int>> stage_jobs_;  // Stage (non-DAG) jobs per stage.
  std::vector<int> stage_incomplete_;         // All jobs per stage not completed.
  std::vector<Aggregate> stage_seen_;
  Aggregate prefix_seen_;  // Stages before frontier_.
  size_t frontier_ = 0;    // First stage with incomplete jobs.
  size_t evaluated_ = 0;   // Stage jobs of stages < evaluated_ are processed.
  std::deque<int> completed_;  // Completed jobs whose successors await news.

  std::mutex mu_;
  std::condition_variable cv_;       // Completions and cancel, for Run.
  std::condition_variable work_cv_;  // Work, for workers.
  bool cancel_requested_ = false;    // Guarded by mu_.
  bool accepting_ = false;           // Run's loop is running; guarded by mu_.
  bool cancel_applied_ = false;
  bool shutdown_ = false;            // Guarded by mu_.
  std::deque<Work> work_;            // Guarded by mu_.
  std::deque<Completion> done_;      // Guarded by mu_.
  std::deque<int> ready_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::map<std::string, ResourceGroup> groups_;
  int running_ = 0;
};

Status Scheduler::Impl::Build() {
  const std::vector<Job>& jobs = pipeline_.jobs;
  std::unordered_map<std::string_view, int> by_name;
  for (size_t i = 0; i < jobs.size(); ++i) by_name.emplace(jobs[i].name, static_cast<int>(i));
  std::unordered_map<std::string_view, int> stage_index;
  for (size_t s = 0; s < pipeline_.stages.size(); ++s) {
    stage_index.emplace(pipeline_.stages[s], static_cast<int>(s));
  }
  std::vector<int> stage_of(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto it = stage_index.find(jobs[i].stage);
    if (it == stage_index.end()) {
      return Status::Error("job '" + jobs[i].name + "': stage '" + jobs[i].stage +
                           "' is not one of the pipeline's stages");
    }
    stage_of[i] = it->second;
  }

  // Which jobs run, and which manual jobs are played.
  std::vector<bool> selected(jobs.size(), options_.selected.empty());
  std::vector<bool> play(jobs.size(), false);
  if (!options_.selected.empty()) {
    std::vector<int> stack;
    for (const std::string& name : options_.selected) {
      auto it = by_name.find(name);
      if (it == by_name.end()) return Status::Error("job '" + name + "' is not in the pipeline");
      play[it->second] = true;
      if (!selected[it->second]) stack.push_back(it->second);
      selected[it->second] = true;
    }
    // Stage jobs pull in every earlier stage; remember the deepest stage so
    // that each earlier job is added once.
    int stages_pulled = 0;
    while (!stack.empty()) {
      int i = stack.back();
      stack.pop_back();
      const Job& job = jobs[i];
      if (job.needs) {
        for (const Need& need : *job.needs) {
          auto it = by_name.find(need.job);
          if (it == by_name.end()) continue;
          play[it->second] = true;
          if (!selected[it->second]) {
            selected[it->second] = true;
            stack.push_back(it->second);
          }
        }
      } else if (stage_of[i] > stages_pulled) {
        stages_pulled = stage_of[i];
        for (size_t k = 0; k < jobs.size(); ++k) {
          if (stage_of[k] < stages_pulled && !selected[k]) {
            selected[k] = true;
            stack.push_back(static_cast<int>(k));
          }
        }
      }
    }
  }

  std::vector<int> node_of(jobs.size(), -1);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!selected[i]) continue;
    node_of[i] = static_cast<int>(nodes_.size());
    Node node;
    node.job = &jobs[i];
    node.pipeline_index = static_cast<int>(i);
    node.stage = stage_of[i];
    node.dag = jobs[i].needs.has_value();
    node.play_manual = play[i];
    nodes_.push_back(std::move(node));
  }
  stage_jobs_.assign(pipeline_.stages.size(), {});
  stage_incomplete_.assign(pipeline_.stages.size(), 0);
  stage_seen_.assign(pipeline_.stages.size(), {});
  std::vector<std::string> names;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    Node& node = nodes_[n];
    names.push_back(node.job->name);
    node_by_name_.emplace(node.job->name, static_cast<int>(n));
    ++stage_incomplete_[node.stage];
    if (!node.dag) {
      stage_jobs_[node.stage].push_back(static_cast<int>(n));
      continue;
    }
    for (const Need& need : *node.job->needs) {
      auto it = by_name.find(need.job);
      // Needs of other projects or pipelines are never scheduled here.
      if (it == by_name.end() || node_of[it->second] < 0) continue;
      int dep = node_of[it->second];
      if (Contains(node.needs, dep)) continue;
      node.needs.push_back(dep);
      nodes_[dep].dependents.push_back(static_cast<int>(n));
    }
    node.remaining = static_cast<int>(node.needs.size());
  }
  dir_names_ = UniqueJobDirNames(names);
  runs_.resize(nodes_.size());
  for (size_t n = 0; n < nodes_.size(); ++n) runs_[n].job = nodes_[n].job;
  ApplyPrior();
  return Status::Ok();
}

void Scheduler::Impl::ApplyPrior() {
  for (size_t n = 0; n < nodes_.size(); ++n) {
    auto it = options_.prior.find(nodes_[n].job->name);
    if (it == options_.prior.end()) continue;
    const PriorJob& prior = it->second;
    JobRun& run = runs_[n];
    run.retries = prior.retries;
    nodes_[n].play_manual |= prior.play;
    if (!IsFinal(prior.status)) continue;
    run.status = prior.status;
    run.allow_failure = prior.allow_failure;
    run.exit_code = prior.exit_code;
    run.failure_reason = prior.failure_reason;
    if (prior.status == JobStatus::kSkipped || options_.run_dir.empty()) continue;
    std::string job_dir = options_.run_dir + "/jobs/" + dir_names_[n];
    if (!PathExists(job_dir)) continue;
    run.job_dir = job_dir;
    run.log_path = job_dir + "/log";
    run.dotenv = ReadDotenvReports(job_dir);
  }
}

bool Scheduler::Impl::Completed(int i) const {
  JobStatus s = runs_[i].status;
  return IsFinal(s) || (s == JobStatus::kManual && runs_[i].allow_failure);
}

// Derives the processing state (stage counters, needs counters) from the
// jobs' statuses, then processes whatever is ready. Linear in jobs + needs;
// used at the start of a run and after an action changes a job.
void Scheduler::Impl::Rebuild() {
  std::fill(stage_incomplete_.begin(), stage_incomplete_.end(), 0);
  std::fill(stage_seen_.begin(), stage_seen_.end(), Aggregate{});
  prefix_seen_ = Aggregate{};
  frontier_ = 0;
  evaluated_ = 0;
  completed_.clear();
  for (Node& node : nodes_) {
    ++stage_incomplete_[node.stage];
    node.needs_seen = Aggregate{};
    node.remaining = static_cast<int>(node.needs.size());
    node.seen.reset();
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (Completed(static_cast<int>(i))) Complete(static_cast<int>(i));
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].dag && nodes_[i].remaining == 0) Process(static_cast<int>(i));
  }
  AdvanceStages();
  Propagate();
}

StatusOr<int> Scheduler::Impl::AcceptingNode(const std::string& name) {
  if (!accepting_) return Status::Error("the pipeline is not running");
  auto it = node_by_name_.find(name);
  if (it == node_by_name_.end()) return Status::Error("job '" + name + "' is not in the run");
  if (cancel_applied_) return Status::Error("the pipeline is being canceled");
  return it->second;
}

// GitLab's ResetSkippedJobsService: skipped jobs after i (later stages, or
// needing i directly or not) are processed again.
void Scheduler::Impl::ResetSkippedAfter(int i) {
  std::vector<bool> after(nodes_.size(), false);
  std::vector<int> stack = {i};
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    for (int d : nodes_[n].dependents) {
      if (!after[d]) {
        after[d] = true;
        stack.push_back(d);
      }
    }
  }
  for (size_t n = 0; n < nodes_.size(); ++n) {
    if ((after[n] || nodes_[n].stage > nodes_[i].stage) && runs_[n].status == JobStatus::kSkipped) {
      SetStatus(static_cast<int>(n), JobStatus::kCreated);
    }
  }
}

Status Scheduler::Impl::Play(const std::string& name) {
  std::lock_guard<std::mutex> guard(mu_);
  StatusOr<int> i = AcceptingNode(name);
  if (!i.ok()) return i.status();
  if (runs_[*i].status != JobStatus::kManual) {
    return Status::Error("job '" + name + "' is not a manual job waiting to be played");
  }
  nodes_[*i].play_manual = true;
  SetStatus(*i, JobStatus::kCreated);
  Rebuild();
  Dispatch();
  cv_.notify_all();
  return Status::Ok();
}

Status Scheduler::Impl::Retry(const std::string& name) {
  std::lock_guard<std::mutex> guard(mu_);
  StatusOr<int> i = AcceptingNode(name);
  if (!i.ok()) return i.status();
  JobRun& run = runs_[*i];
  if (run.status != JobStatus::kSuccess && run.status != JobStatus::kFailed &&
      run.status != JobStatus::kCanceled) {
    return Status::Error("job '" + name + "' has not finished");
  }
  ++run.retries;
  run.allow_failure = nodes_[*i].job->allow_failure.value;
  run.exit_code.reset();
  run.failure_reason.clear();
  run.failure_message.clear();
  run.dotenv = VariableList();
  run.summary.clear();
  run.artifacts.clear();
  run.job_dir.clear();
  run.log_path.clear();
  // A retried manual job runs without being played again.
  nodes_[*i].play_manual = true;
  SetStatus(*i, JobStatus::kCreated);
  ResetSkippedAfter(*i);
  Rebuild();
  Dispatch();
  cv_.notify_all();
  return Status::Ok();
}

Status Scheduler::Impl::CancelJob(const std::string& name) {
  std::lock_guard<std::mutex> guard(mu_);
  StatusOr<int> found = AcceptingNode(name);
  if (!found.ok()) return found.status();
  int i = *found;
  JobStatus s = runs_[i].status;
  if (s == JobStatus::kRunning) {
    if (nodes_[i].token) nodes_[i].token->Cancel();
    return Status::Ok();
  }
  if (s != JobStatus::kCreated && s != JobStatus::kPending && s != JobStatus::kScheduled) {
    return Status::Error("job '" + name + "' cannot be canceled: it is " + JobStatusName(s));
  }
  if (s == JobStatus::kPending) {
    auto queued = std::find(ready_.begin(), ready_.end(), i);
    if (queued != ready_.end()) {
      ready_.erase(queued);
      ReleaseResourceGroup(i);
    } else if (!nodes_[i].job->resource_group.empty()) {
      std::deque<int>& waiting = groups_[nodes_[i].job->resource_group].waiting;
      waiting.erase(std::remove(waiting.begin(), waiting.end(), i), waiting.end());
    }
  }
  // A scheduled job's timer finds it canceled and is dropped.
  SetStatus(i, JobStatus::kCanceled);
  Complete(i);
  Propagate();
  Dispatch();
  cv_.notify_all();
  return Status::Ok();
}

void Scheduler::Impl::SetStatus(int i, JobStatus status) {
  runs_[i].status = status;
  if (observer_ != nullptr) observer_->OnJobUpdate(runs_[i]);
}

// Called once the job's predecessors have completed.
void Scheduler::Impl::Process(int i) {
  Node& node = nodes_[i];
  if (cancel_applied_ || runs_[i].status != JobStatus::kCreated) return;
  const Job& job = *node.job;
  JobStatus previous = node.dag ? NeedsComposite(node.needs_seen) : StageComposite(prefix_seen_);
  if (!WhenAccepts(job.when, previous, node.dag)) {
    SetStatus(i, JobStatus::kSkipped);
    Complete(i);
    return;
  }
  runs_[i].allow_failure = job.allow_failure.value;
  if (job.when == When::kManual && !node.play_manual) {
    SetStatus(i, JobStatus::kManual);
    // An optional manual job does not hold the pipeline up; a blocking one
    // leaves what follows it waiting.
    if (job.allow_failure.value) Complete(i);
    return;
  }
  if (job.when == When::kDelayed) {
    std::chrono::milliseconds delay = StartInDelay(job.start_in);
    SetStatus(i, JobStatus::kScheduled);
    timers_.push(Timer{clock_->Now() + delay, i});
    return;
  }
  Enqueue(i);
}

// Records that job i reached a completed state; successors learn of it in
// Propagate, so that long chains of skipped jobs do not recurse.
void Scheduler::Impl::Complete(int i) {
  const JobRun& run = runs_[i];
  Seen seen = Seen::kSuccess;
  switch (run.status) {
    case JobStatus::kFailed:
      seen = run.allow_failure ? Seen::kWarning : Seen::kFailed;
      break;
    case JobStatus::kCanceled:
      seen = run.allow_failure ? Seen::kWarning : Seen::kCanceled;
      break;
    case JobStatus::kSkipped:
      seen = Seen::kSkipped;
      break;
    case JobStatus::kManual:
      seen = Seen::kIgnored;
      break;
    default:
      seen = Seen::kSuccess;
      break;
  }
  nodes_[i].seen = seen;
  completed_.push_back(i);
}

void Scheduler::Impl::Propagate() {
  while (!completed_.empty()) {
    int i = completed_.front();
    completed_.pop_front();
    Node& node = nodes_[i];
    stage_seen_[node.stage].Add(*node.seen);
    --stage_incomplete_[node.stage];
    for (int d : node.dependents) {
      nodes_[d].needs_seen.Add(*node.seen);
      if (--nodes_[d].remaining == 0) Process(d);
    }
    AdvanceStages();
  }
}

void Scheduler::Impl::AdvanceStages() {
  size_t stages = stage_jobs_.size();
  while (frontier_ < stages && stage_incomplete_[frontier_] == 0) {
    prefix_seen_.Merge(stage_seen_[frontier_]);
    ++frontier_;
  }
  // Stage jobs of a stage are processed once all earlier stages completed;
  // they keep that stage incomplete, so frontier_ cannot pass them first.
  while (evaluated_ < stages && evaluated_ <= frontier_) {
    for (int j : stage_jobs_[evaluated_]) Process(j);
    ++evaluated_;
  }
}

void Scheduler::Impl::Enqueue(int i) {
  SetStatus(i, JobStatus::kPending);
  const std::string& group_name = nodes_[i].job->resource_group;
  if (!group_name.empty()) {
    ResourceGroup& group = groups_[group_name];
    if (group.busy) {
      group.waiting.push_back(i);
      return;
    }
    group.busy = true;
  }
  ready_.push_back(i);
}

void Scheduler::Impl::ReleaseResourceGroup(int i) {
  const std::string& group_name = nodes_[i].job->resource_group;
  if (group_name.empty()) return;
  ResourceGroup& group = groups_[group_name];
  if (group.waiting.empty()) {
    group.busy = false;
    return;
  }
  ready_.push_back(group.waiting.front());
  group.waiting.pop_front();
}

// The jobs whose artifacts (and dotenv variables) job i receives, in order:
// its `dependencies`, else its `needs` with artifacts, else every job of the
// earlier stages. Only jobs that ran have any.
std::vector<int> Scheduler::Impl::ArtifactSources(int i) const {
  const Node& node = nodes_[i];
  const Job& job = *node.job;
  std::vector<int> sources;
  auto add = [&](std::string_view name) {
    auto it = node_by_name_.find(name);
    if (it != node_by_name_.end() && !runs_[it->second].job_dir.empty()) {
      sources.push_back(it->second);
    }
  };
  if (job.dependencies) {
    for (const std::string& name : *job.dependencies) add(name);
  } else if (job.needs) {
    for (const Need& need : *job.needs) {
      if (need.artifacts) add(need.job);
    }
  } else {
    for (size_t n = 0; n < nodes_.size(); ++n) {
      if (nodes_[n].stage < node.stage && !runs_[n].job_dir.empty()) {
        sources.push_back(static_cast<int>(n));
      }
    }
  }
  return sources;
}

JobContext Scheduler::Impl::MakeContext(int i) {
  const Node& node = nodes_[i];
  const Job& job = *node.job;
  JobContext context;
  context.project_dir = options_.project_dir;
  context.ref = options_.ref;
  context.run_dir = options_.run_dir;
  context.cache_dir = options_.cache_dir;
  if (!options_.run_dir.empty()) {
    context.job_dir = options_.run_dir + "/jobs/" + dir_names_[i];
  }
  // predefined < global/job/rules variables < dotenv of artifact sources < --variable.
  context.variables = options_.predefined;
  int64_t job_id = options_.job_id ? options_.job_id(job) : node.pipeline_index + 1;
  context.variables.Merge(
      JobPredefinedVariables(job, job_id, options_.predefined, job.variables));
  context.variables.Merge(job.variables);
  for (int n : ArtifactSources(i)) {
    context.variables.Merge(runs_[n].dotenv);
    context.artifact_job_dirs.push_back(runs_[n].job_dir);
  }
  context.variables.Merge(options_.cli_variables);
  if (job.timeout_seconds) {
    context.timeout = std::chrono::seconds(*job.timeout_seconds);
  } else {
    context.timeout = options_.default_timeout;
  }
  context.attempt = runs_[i].retries + 1;
  return context;
}

void Scheduler::Impl::Dispatch() {
  while (!cancel_applied_ && running_ < options_.max_parallel && !ready_.empty()) {
    int i = ready_.front();
    ready_.pop_front();
    JobRun& run = runs_[i];
    Work work{i, MakeContext(i), std::make_shared<CancelToken>()};
    if (cancel_requested_) work.token->Cancel();
    nodes_[i].token = work.token;
    run.job_dir = work.context.job_dir;
    if (!run.job_dir.empty()) run.log_path = run.job_dir + "/log";
    if (!run.started_at) run.started_at = clock_->WallNow();
    nodes_[i].attempt_start = clock_->Now();
    ++running_;
    SetStatus(i, JobStatus::kRunning);
    work_.push_back(std::move(work));
    work_cv_.notify_one();
  }
}

bool Scheduler::Impl::RetryAllowed(int i, const JobResult& r) const {
  const slipway::Retry& retry = nodes_[i].job->retry;
  if (runs_[i].retries >= retry.max) return false;
  bool reason_ok = retry.when.empty();
  for (const std::string& w : retry.when) reason_ok |= w == "always" || w == r.failure_reason;
  bool code_ok = retry.exit_codes.empty() ||
                 std::find(retry.exit_codes.begin(), retry.exit_codes.end(), r.exit_code) !=
                     retry.exit_codes.end();
  return reason_ok && code_ok;
}

void Scheduler::Impl::Finish(const Completion& c) {
  int i = c.node;
  JobRun& run = runs_[i];
  const JobResult& r = c.result;
  --running_;
  run.duration_s += Seconds(clock_->Now() - nodes_[i].attempt_start);
  run.finished_at = clock_->WallNow();
  // A trigger: job starts no process, so it has no exit code.
  if (!nodes_[i].job->trigger) run.exit_code = r.exit_code;
  run.dotenv = r.dotenv;
  run.summary = r.summary;
  run.artifacts = c.artifacts;
  // With a run dir the scheduler keeps the whole log (all attempts) itself.
  if (run.log_path.empty()) run.log_path = r.log_path;
  ReleaseResourceGroup(i);
  switch (r.outcome) {
    case JobOutcome::kSuccess:
      run.failure_reason.clear();
      run.failure_message.clear();
      SetStatus(i, JobStatus::kSuccess);
      break;
    case JobOutcome::kCanceled:
      run.failure_reason.clear();
      run.failure_message.clear();
      SetStatus(i, JobStatus::kCanceled);
      break;
    case JobOutcome::kFailed: {
      run.failure_reason = r.failure_reason.empty() ? "unknown_failure" : r.failure_reason;
      if (nodes_[i].job->trigger) run.failure_message = kTriggerNotSupported;
      if (!cancel_requested_ && RetryAllowed(i, r)) {
        ++run.retries;
        Enqueue(i);
        return;
      }
      const std::vector<int>& codes = nodes_[i].job->allow_failure.exit_codes;
      run.allow_failure = nodes_[i].job->allow_failure.value ||
                          std::find(codes.begin(), codes.end(), r.exit_code) != codes.end();
      SetStatus(i, JobStatus::kFailed);
      break;
    }
  }
  Complete(i);
}

void Scheduler::Impl::ApplyCancel() {
  cancel_applied_ = true;
  ready_.clear();
  groups_.clear();
  while (!timers_.empty()) timers_.pop();
  for (size_t i = 0; i < runs_.size(); ++i) {
    JobStatus s = runs_[i].status;
    if (s == JobStatus::kCreated || s == JobStatus::kPending || s == JobStatus::kScheduled) {
      SetStatus(static_cast<int>(i), JobStatus::kCanceled);
    }
  }
}

void Scheduler::Impl::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return shutdown_ || !work_.empty(); });
    if (work_.empty()) return;
    Work work = std::move(work_.front());
    work_.pop_front();
    const Job& job = *nodes_[work.node].job;
    lock.unlock();
    AttemptOutcome attempt = RunJobAttempt(job, work.context, executor_, log_, *work.token);
    lock.lock();
    done_.push_back(
        Completion{work.node, std::move(attempt.result), std::move(attempt.artifacts)});
    cv_.notify_all();
  }
}

StatusOr<RunResult> Scheduler::Impl::Run() {
  Status built = Build();
  if (!built.ok()) return built;
  RunResult result;
  result.started_at = clock_->WallNow();
  Clock::TimePoint start = clock_->Now();

  size_t workers = std::min(static_cast<size_t>(options_.max_parallel), nodes_.size());
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) threads.emplace_back([this] { WorkerLoop(); });

  {
    std::unique_lock<std::mutex> lock(mu_);
    accepting_ = true;
    Rebuild();
    while (true) {
      while (!done_.empty()) {
        Completion c = std::move(done_.front());
        done_.pop_front();
        Finish(c);
      }
      if (cancel_requested_ && !cancel_applied_) ApplyCancel();
      Propagate();
      while (!timers_.empty() && timers_.top().deadline <= clock_->Now()) {
        int i = timers_.top().node;
        timers_.pop();
        if (runs_[i].status == JobStatus::kScheduled) Enqueue(i);
      }
      Dispatch();
      if (!done_.empty() || !completed_.empty()) continue;
      if (running_ == 0 && timers_.empty() && (ready_.empty() || cancel_applied_)) break;
      if (cancel_requested_ && !cancel_applied_) continue;
      if (!timers_.empty()) {
        clock_->WaitUntil(lock, cv_, timers_.top().deadline);
      } else {
        cv_.wait(lock);
      }
    }
    accepting_ = false;
    shutdown_ = true;
    work_cv_.notify_all();
  }
  for (std::thread& t : threads) t.join();

  result.finished_at = clock_->WallNow();
  result.duration_s = Seconds(clock_->Now() - start);
  bool failed = false;
  bool canceled = false;
  for (const JobRun& run : runs_) {
    failed |= run.status == JobStatus::kFailed && !run.allow_failure;
    canceled |= run.status == JobStatus::kCanceled && !run.allow_failure;
  }
  if (cancel_requested_) {
    result.status = PipelineStatus::kCanceled;
  } else if (failed) {
    result.status = PipelineStatus::kFailed;
  } else if (canceled) {
    result.status = PipelineStatus::kCanceled;
  } else {
    result.status = PipelineStatus::kSuccess;
  }
  result.jobs = std::move(runs_);
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

}  // namespace slipway
