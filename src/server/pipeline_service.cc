// PipelineService: creating pipelines, the queue and the workers that run
// them. Actions, crash recovery and schedules are in service_actions.cc.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "config/variables.h"
#include "exec/beneath_io.h"
#include "exec/file_tree.h"
#include "exec/run_dir.h"
#include "pipeline/pipeline_context.h"
#include "server/cron.h"
#include "server/deploy_freeze.h"
#include "server/deployment_commits.h"
#include "server/repo_mirror.h"
#include "server/server_dirs.h"
#include "server/server_job_gate.h"
#include "server/service_downstream.h"
#include "server/service_impl.h"
#include "server/shared_objects.h"
#include "util/git.h"
#include "util/logger.h"
#include "util/ref_name.h"

namespace slipway {
namespace internal {
namespace {

// Forwards to the recorder and counts the jobs running (for Stats).
class CountingObserver : public RunObserver {
 public:
  CountingObserver(RunObserver* next, std::atomic<int64_t>* running)
      : next_(next), running_(running) {}
  ~CountingObserver() override { *running_ -= static_cast<int64_t>(now_running_.size()); }
  void OnJobUpdate(const JobRun& run) override {
    next_->OnJobUpdate(run);
    bool running = run.status == CiStatus::kRunning;
    bool was = now_running_.count(run.job) > 0;
    if (running && !was) {
      now_running_.insert(run.job);
      ++*running_;
    } else if (!running && was) {
      now_running_.erase(run.job);
      --*running_;
    }
  }

 private:
  RunObserver* next_;
  std::atomic<int64_t>* running_;
  std::set<const Job*> now_running_;  // Guarded by the scheduler's lock.
};

// Jobs get the artifacts of earlier jobs from where the API lists them:
// the store's records, by job id.
class StoredArtifacts : public ArtifactFetcher {
 public:
  explicit StoredArtifacts(PipelineService* service) : service_(service) {}
  StatusOr<std::string> Fetch(const JobSpec::ArtifactSource& source) override {
    return service_->ArtifactsDir(source.job_id);
  }

 private:
  PipelineService* service_;
};

// A merge-request pipeline's target tip and diff base (the merge base of
// sha and the target branch's tip) in the fetched mirror.
Status FindDiffBase(const RepoMirror& mirror, const std::string& sha, MergeRequest* mr) {
  StatusOr<std::string> target = mirror.Resolve(mr->target_branch, false);
  if (!target.ok()) {
    return Status::Error("merge request !" + std::to_string(mr->iid) + ": target branch '" +
                         mr->target_branch + "': " + target.status().message());
  }
  mr->target_sha = *target;
  StatusOr<std::string> base =
      GitOutput(mirror.git_dir(), {"merge-base", "--end-of-options", *target, sha});
  if (!base.ok()) {
    return Status::Error("merge request !" + std::to_string(mr->iid) + ": no merge base of " +
                         mr->source_branch + " and " + mr->target_branch + ": " +
                         base.status().message());
  }
  mr->diff_base_sha = *base;
  return Status::Ok();
}

}  // namespace

int64_t Service::NowMs() const { return UnixMillis(options_.clock->WallNow()); }

std::mutex& Service::RepoLock(int64_t project_id) {
  std::lock_guard<std::mutex> lock(repo_mu_);
  std::unique_ptr<std::mutex>& m = repo_locks_[project_id];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

StatusOr<ProjectRecord> Service::Project(int64_t id) {
  auto project = store_->GetProject(id);
  if (!project.ok()) return project.status();
  if (!*project) return Status::Error("project " + std::to_string(id) + " not found");
  return **project;
}

StatusOr<ServerPipeline> Service::Load(const ProjectRecord& project, const PipelineRecord& pipeline,
                                       const std::string& checkout,
                                       const std::string& variables_dir, LintInput lint) {
  if (pipeline.source == "parent_pipeline" && pipeline.upstream_job_id) {
    return LoadChild(project, pipeline, checkout, variables_dir);
  }
  ServerPipelineInput input;
  input.project = project;
  input.checkout_dir = checkout;
  input.ref = pipeline.ref;
  input.tag = pipeline.tag;
  input.sha = pipeline.sha;
  input.before_sha = pipeline.before_sha;
  input.source = pipeline.source;
  input.pipeline_id = pipeline.id;
  input.pipeline_iid = pipeline.iid;
  input.created_at_ms = pipeline.created_at;
  input.variables = pipeline.variables;
  input.merge_request = pipeline.merge_request;
  input.open_merge_requests = pipeline.open_merge_requests;
  auto project_variables = store_->ListProjectVariables(project.id);
  if (!project_variables.ok()) return project_variables.status();
  input.project_variables = std::move(*project_variables);
  // GitLab's CI_DEPLOY_FREEZE: the pipeline was created during a freeze
  // (before it is stored: now). A freeze that cannot be read sets nothing.
  StatusOr<std::vector<FreezePeriodRecord>> periods = store_->ListFreezePeriods(project.id);
  StatusOr<std::optional<ActiveFreeze>> freeze =
      periods.ok()
          ? ActiveFreezeAt(*periods, pipeline.created_at > 0 ? pipeline.created_at : NowMs())
          : StatusOr<std::optional<ActiveFreeze>>(periods.status());
  if (!freeze.ok()) {
    LogLine(LogLevel::kError, "deploy_freeze_error")
        .Int("project_id", project.id)
        .Str("error", freeze.status().message());
  }
  input.deploy_freeze = freeze.ok() && freeze->has_value();
  std::string pipeline_dir = pipeline.id > 0 ? RunDir(pipeline.id) : checkout + "/..";
  input.file_variables_dir = !variables_dir.empty() ? variables_dir : pipeline_dir + "/variables";
  // What the pipeline's creation fetched is what its run reads: the cache
  // moves with the checkout into the run directory (CreatePipeline).
  std::unique_ptr<NetworkFetcher> fetcher = MakeIncludeFetcher(project, pipeline_dir + "/includes");
  input.fetcher = fetcher.get();
  input.root_text = lint.root_text;
  input.sources = lint.sources;
  return LoadServerPipeline(input);
}

StatusOr<PipelineRecord> Service::CreatePipeline(const CreatePipelineRequest& request) {
  StatusOr<ProjectRecord> project = Project(request.project_id);
  if (!project.ok()) return project.status();
  PipelineRecord draft;
  draft.project_id = project->id;
  draft.ref = request.ref.empty() ? project->default_branch : request.ref;
  draft.tag = request.tag;
  draft.before_sha = request.before_sha;
  draft.source = request.source.empty() ? "api" : request.source;
  draft.variables = request.variables;
  if (request.user_token_id != 0) draft.user_token_id = request.user_token_id;
  if (request.upstream_job_id != 0) {
    draft.upstream_pipeline_id = request.upstream_pipeline_id;
    draft.upstream_job_id = request.upstream_job_id;
  }
  if (request.merge_request) {
    draft.merge_request = request.merge_request;
    draft.ref = request.merge_request->source_branch;
    draft.tag = false;
    draft.source = kMergeRequestSource;
    const std::string& target = request.merge_request->target_branch;
    if (Status valid = CheckBranchOrTagName(target, false); !valid.ok()) return valid;
  }
  // Every way in (API, webhook, schedule) passes here before git sees the ref.
  if (Status valid = CheckBranchOrTagName(draft.ref, draft.tag); !valid.ok()) return valid;

  // The checkout goes to a temporary directory until the pipeline has its id.
  DraftDir tmp;
  StatusOr<std::string> sha = CheckoutDraft(*project, draft.ref, draft.tag, request.sha, &tmp);
  if (!sha.ok()) return sha.status();
  draft.sha = *sha;
  if (draft.merge_request) {
    std::lock_guard<std::mutex> repo_lock(RepoLock(project->id));
    RepoMirror mirror(MirrorDir(project->id), project->repo_url);
    if (Status s = FindDiffBase(mirror, draft.sha, &*draft.merge_request); !s.ok()) return s;
  }
  const std::string& tmp_dir = tmp.path;
  std::error_code ec;

  for (const CreatePipelineRequest::ArtifactFile& file : request.trigger_artifacts) {
    if (!IsPlainRelativePath(file.path)) continue;  // Read beneath its job's artifacts.
    std::string path = tmp_dir + "/trigger-artifacts/" + JobDirName(file.job) + "/" + file.path;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    if (Status written = WriteFile(path, file.text); !written.ok()) return written;
  }
  // GitLab's CI_OPEN_MERGE_REQUESTS, in branch and merge-request pipelines:
  // what workflow:rules use to avoid a branch pipeline beside a merge
  // request's. Kept with the pipeline, so that its run sees what its
  // creation saw.
  if (!draft.tag && request.upstream_job_id == 0) {
    StatusOr<std::vector<int64_t>> open = store_->OpenMergeRequestIids(project->id, draft.ref);
    if (!open.ok()) return open.status();
    draft.open_merge_requests = OpenMergeRequestsValue(project->path_with_namespace, *open);
  }
  StatusOr<ServerPipeline> loaded = Load(*project, draft, tmp_dir + "/src");
  if (!loaded.ok()) return loaded.status();
  if (request.upstream_job_id != 0 && !loaded->pipeline) return Status::Error(loaded->errors);
  if (loaded->pipeline && !loaded->pipeline->created) {
    return Status::Error("no pipeline: " + loaded->pipeline->not_created_reason);
  }
  if (!loaded->pipeline) {
    draft.yaml_errors = loaded->errors;
    StatusOr<PipelineRecord> stored = store_->CreatePipeline(draft, {});
    if (!stored.ok()) return stored;
    // Sets finished_at like any finished pipeline.
    return store_->UpdatePipelineStatus(stored->id, CiStatus::kFailed);
  }
  draft.name = loaded->pipeline->name;
  std::vector<JobRecord> job_records = JobRecordsFor(*loaded->pipeline);
  // Resource groups are the project's (resource_groups.h): each job's key,
  // with its variables expanded as GitLab does, and a row per key for the
  // API and the process mode.
  std::vector<std::string> group_keys;
  for (size_t i = 0; i < job_records.size(); ++i) {
    std::string& key = job_records[i].resource_group;
    if (key.find('$') != std::string::npos) {
      key = ExpandVariables(
          key, JobVariables(loaded->pipeline->jobs[i], 0, loaded->context.predefined, {},
                            loaded->context.cli_variables));
    }
    if (!key.empty()) group_keys.push_back(key);
  }
  if (Status s = store_->EnsureResourceGroups(project->id, group_keys); !s.ok()) return s;
  StatusOr<PipelineRecord> stored = store_->CreatePipeline(draft, job_records);
  if (!stored.ok()) return stored;
  std::string run_dir = RunDir(stored->id);
  std::filesystem::remove_all(run_dir, ec);
  std::filesystem::create_directories(run_dir, ec);
  std::filesystem::rename(tmp_dir + "/src", run_dir + "/src", ec);
  // A failed rename only costs a second checkout when the pipeline runs
  // (and, for includes, a second fetch).
  std::filesystem::rename(tmp_dir + "/includes", run_dir + "/includes", ec);
  std::filesystem::rename(tmp_dir + "/trigger-artifacts", run_dir + "/trigger-artifacts", ec);
  Enqueue(stored->id, request.upstream_pipeline_id == 0);
  return stored;
}

void Service::Enqueue(int64_t pipeline_id, bool fresh) {
  std::lock_guard<std::mutex> lock(mu_);
  auto active = active_.find(pipeline_id);
  if (active != active_.end()) {
    active->second->again = true;
    return;
  }
  if (std::find(queue_.begin(), queue_.end(), pipeline_id) != queue_.end()) return;
  // Every worker busy: an idle replica takes it at once (a downstream
  // pipeline stays here: its trigger job may hold a worker waiting for it).
  if (fresh && shared_ && notices_ != nullptr &&
      static_cast<int>(queue_.size() + active_.size()) >= options_.max_running_pipelines) {
    Status told = notices_->Notify({ReplicaNotice::Kind::kFree, pipeline_id});
    if (told.ok()) return;
    LogLine(LogLevel::kError, "notice_error").Str("error", told.message());
  }
  // Held by another server sharing the database: that one runs it (and
  // frees it when its run ends, for any server to claim).
  if (!ClaimLocked(pipeline_id)) return;
  queue_.push_back(pipeline_id);
  cv_.notify_one();
  await_cv_.notify_all();
}

DraftDir::~DraftDir() {
  std::error_code ec;
  if (!path.empty()) std::filesystem::remove_all(path, ec);
}

StatusOr<std::string> Service::CheckoutDraft(const ProjectRecord& project, const std::string& ref,
                                             bool tag, const std::string& sha, DraftDir* dir) {
  std::string tmp_root = options_.data_dir + "/runs/tmp";
  std::error_code ec;
  std::filesystem::create_directories(tmp_root, ec);
  std::string tmpl = tmp_root + "/new-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return Status::Error("cannot create a directory in " + tmp_root);
  }
  dir->path = tmpl;
  std::lock_guard<std::mutex> repo_lock(RepoLock(project.id));
  RepoMirror mirror(MirrorDir(project.id), project.repo_url);
  if (Status fetched = mirror.Fetch(); !fetched.ok()) return fetched;
  StatusOr<std::string> commit = sha.empty() ? mirror.Resolve(ref, tag) : mirror.EnsureCommit(sha);
  if (!commit.ok()) return commit.status();
  if (Status checked = mirror.Checkout(*commit, dir->path + "/src"); !checked.ok()) return checked;
  return *commit;
}

StatusOr<std::string> Service::FetchMirror(int64_t project_id) {
  StatusOr<ProjectRecord> project = Project(project_id);
  if (!project.ok()) return project.status();
  std::lock_guard<std::mutex> repo_lock(RepoLock(project->id));
  RepoMirror mirror(MirrorDir(project->id), project->repo_url);
  if (Status fetched = mirror.Fetch(); !fetched.ok()) return fetched;
  return mirror.git_dir();
}

Status Service::EnsureCheckout(const ProjectRecord& project, const PipelineRecord& pipeline) {
  std::string src = RunDir(pipeline.id) + "/src";
  std::error_code ec;
  if (std::filesystem::exists(src + "/.git", ec)) {
    StatusOr<GitResult> head = RunGit(src, {"rev-parse", "HEAD"});
    if (head.ok() && head->exit_code == 0 && head->out.starts_with(pipeline.sha)) {
      return Status::Ok();
    }
  }
  std::filesystem::remove_all(src, ec);
  std::lock_guard<std::mutex> repo_lock(RepoLock(project.id));
  RepoMirror mirror(MirrorDir(project.id), project.repo_url);
  StatusOr<std::string> sha = mirror.EnsureCommit(pipeline.sha);
  if (!sha.ok()) {
    Status fetched = mirror.Fetch();
    if (!fetched.ok()) return fetched;
    sha = mirror.EnsureCommit(pipeline.sha);
    if (!sha.ok()) return sha.status();
  }
  return mirror.Checkout(*sha, src);
}

Status Service::Start() {
  PinTimeZoneVariable();  // Before the threads below: see cron.h.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return Status::Error("the pipeline service is already started");
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir + "/runs", ec);
  if (ec) return Status::Error("cannot create '" + options_.data_dir + "/runs': " + ec.message());
  std::vector<std::string> notes;
  Status builds = PrepareBuildsDir(options_.builds_dir, &notes);
  for (const std::string& note : notes) LogLine(LogLevel::kInfo, "builds_dir").Str("message", note);
  if (!builds.ok()) return builds;
  if (options_.job_users->switches_user()) {
    Status reachable = CheckJobsCanReach(options_.builds_dir);
    if (!reachable.ok()) return reachable;
  }
  StatusOr<UniqueFd> builds_lock = LockBuildsDir(options_.builds_dir);
  if (!builds_lock.ok()) return builds_lock.status();
  builds_lock_ = std::move(*builds_lock);
  if (shared_) {
    LogLine(LogLevel::kInfo, "replica")
        .Str("replica_id", options_.replica_id)
        .Int("lease_timeout_ms", options_.lease_timeout_ms);
  }
  // Pipelines being read by another server sharing the data directory stay.
  if (!shared_) std::filesystem::remove_all(options_.data_dir + "/runs/tmp", ec);
  Status recovered = Recover();
  if (!recovered.ok()) {
    builds_lock_.Reset();
    return recovered;
  }
  // Workspaces of an older layout, where jobs ran inside the data directory
  // (their processes were killed by Recover).
  std::uintmax_t removed = std::filesystem::remove_all(options_.data_dir + "/workspaces", ec);
  if (!ec && removed > 0) {
    LogLine(LogLevel::kInfo, "builds_dir")
        .Str("message", "removed " + options_.data_dir + "/workspaces: jobs now run in " +
                            options_.builds_dir);
  }
  // Before the threads that read listener_, and without mu_, which the
  // listener's thread takes to deliver a notice.
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;  // The notice thread ends when it is set.
  }
  if (Status listening = StartNotices(); !listening.ok()) {
    // The timer still claims and recovers, a second later than a notice.
    LogLine(LogLevel::kWarn, "notice_listen_error").Str("error", listening.message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
  stopping_ = false;
  for (int i = 0; i < options_.max_running_pipelines; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  timer_ = std::thread([this] { TimerLoop(); });
  return Status::Ok();
}

void Service::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) return;
    stopping_ = true;
    for (auto& [id, active] : active_) {
      active->cancel = true;
      if (active->scheduler != nullptr) {
        active->recorder->Detach();
        active->scheduler->Cancel();
      }
    }
    cv_.notify_all();
    timer_cv_.notify_all();
    await_cv_.notify_all();
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  if (timer_.joinable()) timer_.join();
  StopNotices();
  std::lock_guard<std::mutex> lock(mu_);
  started_ = false;
  builds_lock_.Reset();
}

void Service::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    int64_t id = queue_.front();
    queue_.pop_front();
    RunActive(id, lock);
  }
}

void Service::RunActive(int64_t id, std::unique_lock<std::mutex>& lock) {
  Active active;
  active_[id] = &active;
  lock.unlock();
  RunOnce(id);
  lock.lock();
  active_.erase(id);
  if (active.again && !stopping_) {
    queue_.push_front(id);
  } else if (!stopping_) {
    // A stopping server keeps its pipelines, as a crash would (Stop).
    ReleaseLocked(id);
    if (shared_) ClaimFreeLocked();
  }
  await_cv_.notify_all();
}

void Service::RunOnce(int64_t pipeline_id) {
  Active* active;
  {
    std::lock_guard<std::mutex> lock(mu_);
    active = active_[pipeline_id];
  }
  auto record = store_->GetPipeline(pipeline_id);
  if (!record.ok() || !*record) return;
  Status s = RunStoredPipeline(**record, active);
  if (!s.ok()) {
    // The pipeline cannot run (repository gone, file changed meaning): its
    // unfinished jobs fail so that it does not stay running forever.
    auto jobs = LatestJobRecords(store_, pipeline_id);
    if (jobs.ok()) {
      for (const JobRecord& job : *jobs) {
        if (!IsActive(job.status) && job.status != CiStatus::kManual &&
            job.status != CiStatus::kScheduled) {
          continue;
        }
        JobUpdate update;
        update.status = JobTransitionAllowed(job.status, CiStatus::kFailed) ? CiStatus::kFailed
                                                                            : CiStatus::kCanceled;
        update.failure_reason = "runner_system_failure";
        (void)store_->UpdateJob(job.id, update);
        (void)store_->AppendLog(
            job.id, "ERROR: the server could not run this pipeline: " + s.message() + "\n");
        hub_->Finish(job.id);
      }
    }
    (void)store_->UpdatePipelineStatus(pipeline_id, CiStatus::kFailed);
  }
  FollowDownstream(pipeline_id);
}

Status Service::RunStoredPipeline(const PipelineRecord& record, Active* active) {
  StatusOr<ProjectRecord> project = Project(record.project_id);
  if (!project.ok()) return project.status();
  // Who the project's jobs run as, and the directories they may enter.
  StatusOr<JobIdentity> identity = options_.job_users->ForProject(record.project_id);
  if (!identity.ok()) return identity.status();
  StatusOr<ProjectDirs> dirs =
      PrepareProjectDirs(options_.builds_dir, record.project_id, *identity);
  if (!dirs.ok()) return dirs.status();
  StatusOr<std::string> variables_dir = PrepareVariablesDir(dirs->root, record.id, *identity);
  if (!variables_dir.ok()) return variables_dir.status();
  // The file-type variables hold request values (secrets, often): they stay
  // on disk only while the pipeline runs.
  struct RemoveVariables {
    std::string dir;
    ~RemoveVariables() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } remove_variables{*variables_dir};

  Status checked = EnsureCheckout(*project, record);
  if (!checked.ok()) return checked;
  // What the workspaces' .git borrow their objects from, where the jobs can
  // read them (shared_objects.h); after the fetches, under the same lock.
  std::string git_objects = dirs->root + "/git-objects";
  {
    std::lock_guard<std::mutex> repo_lock(RepoLock(record.project_id));
    Status shared =
        ShareGitObjects(MirrorDir(record.project_id) + "/objects", git_objects, *identity);
    if (!shared.ok()) return shared;
  }
  std::string run_dir = RunDir(record.id);
  StatusOr<ServerPipeline> loaded = Load(*project, record, run_dir + "/src", *variables_dir);
  if (!loaded.ok()) return loaded.status();
  Status shared = ShareFilesWithProject(*variables_dir, *identity);
  if (!shared.ok()) return shared;
  if (!loaded->pipeline) return Status::Error(loaded->errors);
  const Pipeline& pipeline = *loaded->pipeline;

  StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store_, record.id);
  if (!jobs.ok()) return jobs.status();
  SchedulerOptions options;
  ServerJobGate gate(resource_groups_.get(), store_, *project, record, [this] { return NowMs(); });
  options.gate = &gate;
  for (const JobRecord& job : *jobs) {
    PriorJob prior;
    prior.retries = job.retry_count;
    prior.allow_failure = job.allow_failure;
    prior.exit_code = job.exit_code;
    prior.failure_reason = job.failure_reason;
    prior.status = job.status;  // Only completed outcomes are kept (PriorJob).
    // A manual job that was played (pending) or retried runs without waiting.
    prior.play = job.when == "manual" && (job.status == CiStatus::kPending || job.retry_count > 0);
    options.prior[job.name] = prior;
  }
  RunRecorder recorder(store_, record, *jobs, nullptr);
  recorder.set_log_listener([this](int64_t job_id, int64_t offset, std::string_view bytes) {
    hub_->Publish(job_id, offset, bytes);
  });
  recorder.set_finished_listener([this](int64_t job_id) {
    hub_->Finish(job_id);
    // The other replicas' watchers of the job end now too (log_follower.h).
    if (shared_ && notices_ != nullptr) (void)notices_->Notify({ReplicaNotice::Kind::kLog, job_id});
  });
  std::mutex failed_mu;
  std::vector<FailedDeployment> failed;  // GUARDED_BY(failed_mu)
  recorder.set_deployment_listener([&](const DeploymentRecord& d, const JobRun& run) {
    {
      std::lock_guard<std::mutex> lock(failed_mu);
      NoteFailedDeployment(pipeline, d, run, &failed);
    }
    // What it shipped, for DORA's lead time (docs/dora.md). A failure here
    // costs that figure only, never the deployment.
    if (d.status != "success") return;
    std::lock_guard<std::mutex> repo_lock(RepoLock(d.project_id));
    Status recorded = RecordShippedCommits(store_, MirrorDir(d.project_id), d);
    if (!recorded.ok()) {
      LogLine(LogLevel::kError, "deployment_commits_error")
          .Int("deployment_id", d.id)
          .Str("error", recorded.message());
    }
  });
  CountingObserver observer(&recorder, &running_jobs_);

  options.max_parallel = options_.jobs_per_pipeline > 0
                             ? options_.jobs_per_pipeline
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.project_dir = run_dir + "/src";
  options.ref = record.sha;
  options.run_dir = run_dir;
  options.cache_dir = options_.data_dir + "/cache/" + std::to_string(record.project_id);
  options.predefined = loaded->context.predefined;
  // The name the pipeline was created with (GitLab keeps it in the
  // pipeline's metadata), not one expanded again now.
  options.predefined.Set("CI_PIPELINE_NAME", record.name);
  options.cli_variables = loaded->context.cli_variables;
  options.masked_values = loaded->masked_values;
  options.job_id = [&recorder](const Job& job) { return recorder.JobId(job.name); };
  StoredArtifacts artifacts(this);
  options.artifacts = &artifacts;
  ServerDownstream downstream(this, record, *project, loaded->context);
  options.downstream = &downstream;
  if (record.upstream_pipeline_id) {
    options.upstream_artifacts = [this, &record, &loaded](const Job& job) {
      return UpstreamArtifactsFor(job, loaded->context, record);
    };
  }
  options.project_artifacts = [this, &project, &loaded](const Job& job) {
    return ProjectArtifactsFor(job, loaded->context, *project);
  };

  ExecutorSetup setup;
  setup.project = &*project;
  setup.pipeline = &record;
  setup.state_dir = dirs->root;
  setup.identity = *identity;
  setup.git_objects = git_objects;
  if (options_.job_users->switches_user()) {
    setup.workspace_owner = FileOwner{identity->uid, identity->gid};
  }
  if (project->executor == "remote") {
    recorder.set_start_on_lease(true);
    setup.on_leased = [&recorder](int64_t job_id, const JobRunner& runner) {
      recorder.Leased(job_id, runner);
    };
  }
  StatusOr<std::unique_ptr<Executor>> executor = options_.executor_factory(setup);
  if (!executor.ok()) return executor.status();
  Scheduler scheduler(pipeline, executor->get(), options_.clock, &recorder, &observer, options);
  gate.Bind(&scheduler);
  {
    std::lock_guard<std::mutex> lock(mu_);
    active->scheduler = &scheduler;
    active->recorder = &recorder;
    if (stopping_) recorder.Detach();
    if (active->cancel || stopping_) scheduler.Cancel();
  }
  StatusOr<RunResult> result = scheduler.Run();
  gate.Close();
  {
    std::lock_guard<std::mutex> lock(mu_);
    active->scheduler = nullptr;
    active->recorder = nullptr;
  }
  if (!result.ok()) return result.status();
  StatusOr<CiStatus> final_status = recorder.FinishComposite();
  // Rollbacks start once the failed pipeline has ended (failed).
  for (const FailedDeployment& f : failed) AutoRollback(f);
  return final_status.status();
}

ServiceStats Service::Stats() {
  ServiceStats stats;
  std::lock_guard<std::mutex> lock(mu_);
  stats.queued_pipelines = static_cast<int64_t>(queue_.size());
  stats.running_pipelines = static_cast<int64_t>(active_.size());
  stats.running_jobs = running_jobs_.load();
  return stats;
}

}  // namespace internal

StatusOr<std::unique_ptr<PipelineService>> PipelineService::Create(Store* store, LogHub* hub,
                                                                   ServiceOptions options) {
  if (store == nullptr || hub == nullptr)
    return Status::Error("PipelineService needs a store and a log hub");
  if (options.data_dir.empty()) return Status::Error("PipelineService needs a data directory");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Status::Error("cannot create '" + options.data_dir + "': " + ec.message());
  auto absolute = [&ec](std::string* dir) {
    *dir = std::filesystem::absolute(*dir, ec).lexically_normal().string();
    while (dir->size() > 1 && dir->back() == '/') dir->pop_back();
  };
  absolute(&options.data_dir);
  if (options.builds_dir.empty()) options.builds_dir = DefaultBuildsDir(options.data_dir);
  absolute(&options.builds_dir);
  if (options.builds_dir == options.data_dir ||
      options.builds_dir.starts_with(options.data_dir + "/")) {
    return Status::Error("the builds directory '" + options.builds_dir +
                         "' must be outside the data directory, which jobs cannot enter");
  }
  if (options.replica_id.empty()) {
    // Unique among running servers (the builds directory is one server's
    // alone, LockBuildsDir) and the same after a restart, which then
    // recovers its own pipelines at once (docs/replicas.md).
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
    options.replica_id = std::string(host) + ":" + options.builds_dir;
  }
  if (LeasesOf(store) == nullptr) {
    return Status::Error("the store keeps no pipeline leases (store/pipeline_leases.h)");
  }
  if (!options.job_users) {
    StatusOr<JobUsers> self = JobUsers::Self();
    if (!self.ok()) return self.status();
    options.job_users = std::move(*self);
  }
  return std::unique_ptr<PipelineService>(new internal::Service(store, hub, std::move(options)));
}

}  // namespace slipway
