// Internal to src/server: the PipelineService implementation, shared by
// pipeline_service.cc (creation, queue, running) and service_actions.cc
// (actions, crash recovery, schedules).
#ifndef SLIPWAY_SERVER_SERVICE_IMPL_H_
#define SLIPWAY_SERVER_SERVICE_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exec/scheduler.h"
#include "server/pipeline_service.h"
#include "server/resource_groups.h"
#include "server/run_recorder.h"
#include "server/server_pipeline.h"
#include "store/action_requests.h"
#include "store/pipeline_leases.h"
#include "store/replica_notices.h"
#include "util/cancel_token.h"
#include "util/thread_annotations.h"

namespace slipway {
namespace internal {

class ServerDownstream;

// The top-level group of a project path ("group" of "group/sub/app"): a
// pipeline may include, trigger and read the artifacts of the projects of
// its own (docs/server.md), slipway's model of GitLab's permissions.
inline std::string TopGroup(const std::string& path) { return path.substr(0, path.find('/')); }

// CI Lint's additions to a load (ServerPipelineInput::root_text, sources).
struct LintInput {
  const std::string* root_text = nullptr;
  std::vector<IncludeSource>* sources = nullptr;
};

// A directory under data_dir/runs/tmp for a pipeline being read
// (Service::CheckoutDraft); removed with the object unless path is cleared.
struct DraftDir {
  DraftDir() = default;
  DraftDir(const DraftDir&) = delete;
  DraftDir& operator=(const DraftDir&) = delete;
  ~DraftDir();
  std::string path;
};

class Service : public PipelineService {
 public:
  Service(Store* store, LogHub* hub, ServiceOptions options)
      : store_(store),
        hub_(hub),
        options_(std::move(options)),
        resource_groups_(std::make_unique<ResourceGroups>(store)),
        leases_(LeasesOf(store)),
        notices_(NoticesOf(store)),
        requests_(ActionRequestsOf(store)) {
    shared_ = leases_->SharedByServers();
    if (options_.max_running_pipelines < 1) options_.max_running_pipelines = 1;
    if (options_.lease_timeout_ms < 1000) options_.lease_timeout_ms = 1000;
    timer_period_ms_ = ServerTimerPeriodMs();
    if (!options_.executor_factory) options_.executor_factory = ShellExecutorFactory();
    if (options_.clock == nullptr) options_.clock = MachineClock();
  }
  ~Service() override { Stop(); }

  Status Start() override;
  void Stop() override;
  StatusOr<PipelineRecord> CreatePipeline(const CreatePipelineRequest& request) override;
  Status CancelPipeline(int64_t pipeline_id) override;
  StatusOr<PipelineRecord> RetryPipeline(int64_t pipeline_id) override;
  StatusOr<JobRecord> RetryJob(int64_t job_id) override;
  StatusOr<JobRecord> CancelJob(int64_t job_id) override;
  StatusOr<JobRecord> PlayJob(int64_t job_id) override;
  std::string ArtifactsDir(int64_t job_id) override;
  StatusOr<std::string> FetchMirror(int64_t project_id) override;
  StatusOr<bool> DeleteProject(int64_t project_id) override;
  StatusOr<LintResult> Lint(const LintRequest& request) override;
  StatusOr<EnvironmentRecord> StopEnvironment(int64_t environment_id, bool force) override;
  StatusOr<DeploymentRecord> RollbackTo(int64_t deployment_id) override;
  ServiceStats Stats() override;
  std::string ReportDir(int64_t job_id, const std::string& report_type) override;
  StatusOr<bool> DeleteArtifacts(int64_t job_id) override;

 private:
  friend class ServerDownstream;

  // The top-level group of a project path ("group" of "group/sub/app"): a
  // pipeline may include, trigger and read the artifacts of the projects of
  // its own (docs/server.md), slipway's model of GitLab's permissions.
  inline std::string TopGroup(const std::string& path) { return path.substr(0, path.find('/')); }
  // A pipeline a worker is running.
  struct Active {
    Scheduler* scheduler = nullptr;  // Null until the run starts.
    RunRecorder* recorder = nullptr;
    bool cancel = false;
    bool again = false;  // Run it again once this run ends (an action came too late).
  };

  // Unix milliseconds on the service's clock.
  int64_t NowMs() const;
  std::string RunDir(int64_t pipeline_id) const {
    return options_.data_dir + "/runs/" + std::to_string(pipeline_id);
  }
  std::string ProjectBuildsDir(int64_t project_id) const {
    return options_.builds_dir + "/" + std::to_string(project_id);
  }
  std::string MirrorDir(int64_t project_id) const {
    return options_.data_dir + "/repos/" + std::to_string(project_id) + ".git";
  }
  std::mutex& RepoLock(int64_t project_id);
  // Fetches the project's mirror and checks out sha (or the tip of ref when
  // it is empty) as dir->path/src, dir->path a new directory; returns the
  // commit's full sha.
  StatusOr<std::string> CheckoutDraft(const ProjectRecord& project, const std::string& ref,
                                      bool tag, const std::string& sha, DraftDir* dir);
  StatusOr<ProjectRecord> Project(int64_t id);
  // variables_dir: where file-type variables go; empty: runs/<id>/variables
  // (or beside the checkout before the pipeline has an id).
  // lint: CI Lint's text and list of files read (ServerPipelineInput).
  StatusOr<ServerPipeline> Load(const ProjectRecord& project, const PipelineRecord& pipeline,
                                const std::string& checkout, const std::string& variables_dir = "",
                                LintInput lint = {});
  // The fetcher of a load of including's pipeline, with its include cache
  // in cache_dir (service_includes.cc).
  std::unique_ptr<NetworkFetcher> MakeIncludeFetcher(const ProjectRecord& including,
                                                     const std::string& cache_dir);
  // The mirror of the registered project at path, fetched, when including
  // may read it: the same project, or one of its top-level group.
  StatusOr<std::string> IncludedRepository(const ProjectRecord& including, const std::string& path);
  Status EnsureCheckout(const ProjectRecord& project, const PipelineRecord& pipeline);

  // Downstream pipelines (service_downstream.cc, docs/child-pipelines.md).
  // A child pipeline's configuration: its parent's trigger job's
  // trigger:include at the parent's commit (checkout), with the artifact
  // files saved when it was created. Load calls it for source
  // parent_pipeline.
  StatusOr<ServerPipeline> LoadChild(const ProjectRecord& project, const PipelineRecord& pipeline,
                                     const std::string& checkout, const std::string& variables_dir);
  // Runs the stored pipeline id to its end on the calling thread (a trigger
  // job with strategy: depend waits for it so, and takes no worker: a
  // parent never waits for a child stuck behind it in the queue), or waits
  // for the worker running it. Returns its final status, or kCanceled once
  // cancel is set or the service stops.
  StatusOr<CiStatus> AwaitPipeline(int64_t id, const CancelToken& cancel);
  // Cancels pipeline_id's child pipelines (and theirs), as GitLab cascades a
  // cancel; multi-project pipelines go on.
  Status CancelChildren(int64_t pipeline_id);
  // A trigger job that waits for (strategy: depend or mirror) a
  // downstream pipeline, with its pipeline and strategy
  // (service_bridge_status.cc): the latest attempt of the trigger job that
  // created downstream, when its pipeline is not running (a running one's
  // waiting attempt takes the status itself).
  struct DependentBridge {
    JobRecord job;
    PipelineRecord pipeline;
    std::string strategy;
  };
  std::optional<DependentBridge> DependentBridgeOf(const PipelineRecord& downstream);
  // After a job of pipeline_id was retried: its dependent trigger job, if
  // finished, is running again, its pipeline too, and so on upwards
  // (GitLab's Pipeline#reset_source_bridge!).
  void ReopenDependentBridges(int64_t pipeline_id);
  // Once pipeline_id ended: its dependent trigger job takes its status
  // (DownstreamOutcome) if it has another one, its pipeline's status
  // follows, and so on upwards (GitLab's PipelineBridgeStatusService).
  void FollowDownstream(int64_t pipeline_id);
  // What an interrupted trigger job's log adds about its downstream pipeline.
  std::string InterruptedTriggerNote(const JobRecord& job);
  // The artifacts a job of a child pipeline takes from an upstream pipeline
  // (needs:pipeline with job:): from the latest attempt of that job in one
  // of the pipelines above it, with its dotenv variables.
  std::vector<UpstreamArtifacts> UpstreamArtifactsFor(const Job& job,
                                                      const PipelineContext& context,
                                                      const PipelineRecord& pipeline);
  // Artifacts of stored jobs (service_needs.cc). The job dir of the latest
  // attempt job_id whose artifact of file_type ("archive", "dotenv" ...) is
  // a directory inside its run directory, and that directory in *kept; ""
  // when there is none.
  std::string StoredJobDir(int64_t job_id, const std::string& file_type, std::string* kept);
  // Its artifacts:reports:dotenv variables; none without them.
  VariableList DotenvOf(int64_t job_id);
  // needs:project of a job of project (project, job and ref expanded with
  // the job's variables): the artifacts and dotenv variables of that job in
  // the latest successful pipeline for ref of that project, which must be
  // project itself or one of its top-level group. An error says which need
  // cannot be met and why (the job then fails unrun).
  StatusOr<std::vector<UpstreamArtifacts>> ProjectArtifactsFor(const Job& job,
                                                               const PipelineContext& context,
                                                               const ProjectRecord& project);
  // fresh: a pipeline just created (not downstream): with a shared database
  // and every worker busy, it is left free for an idle replica (notice free).
  void Enqueue(int64_t pipeline_id, bool fresh = false);
  void WorkerLoop();
  void RunOnce(int64_t pipeline_id);
  // Runs pipeline id, taken off the queue, as active (lock held on entry
  // and on return); queues it again when an action asked for that.
  void RunActive(int64_t id, std::unique_lock<std::mutex>& lock);
  Status RunStoredPipeline(const PipelineRecord& record, Active* active);
  void TimerLoop();
  void RunDueSchedules();
  // Stops the environments whose auto_stop_at has passed
  // (service_environments.cc).
  void StopExpiredEnvironments();
  // Removes the artifacts whose expire_at has passed, except those of the
  // pipelines GitLab keeps (ArtifactsLocked), at most once a minute
  // (service_artifacts.cc).
  void RemoveExpiredArtifacts();
  Status Recover();
  // Jobs that were running when their server stopped (now failed): their
  // logs say so, and those whose retry:when allows run again.
  Status FinishInterrupted(const std::vector<JobRecord>& jobs);
  Status RetryInterrupted(const std::vector<JobRecord>& jobs);

  // Leases of pipelines among servers (service_leases.cc, docs/replicas.md).
  // Each is a no-op (true) for a store without leases.
  int64_t LeaseEnd(int64_t now_ms) const { return now_ms + options_.lease_timeout_ms; }
  int64_t LeaseEnd() const { return LeaseEnd(NowMs()); }
  // Takes pipeline id for this server unless another one holds it.
  bool ClaimLocked(int64_t id) REQUIRES(mu_);
  // Whether ClaimLocked(id) could succeed now: the pipeline is free or this
  // server's (a read, not a write; true when the read fails). Without mu_.
  bool MayClaim(int64_t id);
  void ReleaseLocked(int64_t id) REQUIRES(mu_);
  // Claims free pipelines into the queue: as many as workers are idle with
  // a shared database, every one without (a single server starting).
  void ClaimFreeLocked() REQUIRES(mu_);
  // Fails the running jobs of the pipelines left by servers whose leases
  // ended (at start: also this replica id's, or all without a shared
  // database) and frees those pipelines. now_ms: the time the caller
  // renewed this server's leases at, so that none of them counts as ended.
  Status RecoverLeases(bool starting, int64_t now_ms);
  // The timer's pass with a shared database: renews this server's leases,
  // stops running what another server took over, recovers what dead
  // servers left and claims free pipelines.
  void Heartbeat();
  // For an action on a pipeline no worker of this server holds: claims it
  // (an error naming the replica's rule when another server owns it).
  // *claimed says whether ReleaseUnlessQueued must follow.
  Status ClaimForAction(int64_t pipeline_id, bool* claimed);
  void ReleaseUnlessQueued(int64_t pipeline_id, bool claimed);
  // ReleaseUnlessQueued when it goes out of scope.
  struct ReleaseAfter {
    Service* service;
    int64_t id;
    bool claimed;
    ~ReleaseAfter() { service->ReleaseUnlessQueued(id, claimed); }
  };
  // A job action: `live` on the pipeline's running scheduler when it has
  // one and accepts it; else `stored` changes the store and the pipeline is
  // queued to run (again). Returns the job's row afterwards.
  // action: its name in action_requests, for a pipeline another replica
  // owns (Forward); *forwarded (if given) says whether that replica did it.
  StatusOr<JobRecord> JobAction(int64_t job_id, const char* action,
                                const std::function<Status(Scheduler*, const JobRecord&)>& live,
                                const std::function<Status(const JobRecord&)>& stored,
                                bool* forwarded = nullptr);

  // Notices and forwarded actions (service_notices.cc, docs/replicas.md).
  // Starts listening and the notice thread (shared database only).
  Status StartNotices();
  void StopNotices();
  // From the listener's thread: queued for the notice thread (answers wake
  // the waiting Forward at once).
  void OnNotice(const ReplicaNotice& notice);
  void NoticeLoop();
  // Takes action request id if this replica owns its pipeline, performs it
  // as if asked here and writes the answer.
  void PerformRequest(int64_t id);
  // Whether an action refused by ClaimForAction may go to the owner.
  bool CanForward() const;
  // Asks the pipeline's owner to do action and waits (bounded) for its
  // answer: the id of the job or pipeline the action left, or the error it
  // gave, or an error saying that nobody answered (nothing was done).
  StatusOr<int64_t> Forward(int64_t pipeline_id, std::optional<int64_t> job_id, const char* action);
  // Skipped jobs waiting for `job` (its dependents through needs,
  // transitively, and later stages' jobs: JobGraph::WaitingFor) become
  // created so that a new run processes them again (GitLab's
  // ResetSkippedJobsService, after a retry or a play).
  Status ResetSkippedWaitingFor(const JobRecord& job);
  // The pipeline's status from its jobs (after an action on a pipeline that
  // is not running).
  Status UpdateComposite(int64_t pipeline_id);

  // Rollbacks (service_rollback.cc). A deployment that failed in a run,
  // with what its environment's `.slipway:` settings say about rollback.
  struct FailedDeployment {
    DeploymentRecord deployment;
    RollbackSettings rollback;
    bool checks_failed = false;  // Its checks failed (else its script did).
  };
  // Remembers, from the recorder's deployment listener, the deployments of
  // a run that want an automatic rollback.
  static void NoteFailedDeployment(const Pipeline& pipeline, const DeploymentRecord& deployment,
                                   const JobRun& run, std::vector<FailedDeployment>* out);
  // Once the run that failed them ended: rolls each back if its settings
  // ask for it and nothing forbids it, saying why not in its job's log.
  void AutoRollback(const FailedDeployment& failed);
  // Retries target's job as a deployment with rollback_of.
  StatusOr<DeploymentRecord> Redeploy(const DeploymentRecord& target,
                                      std::optional<int64_t> rollback_of);

  Store* store_;
  LogHub* hub_;
  ServiceOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;        // Queue and stop, for workers.
  std::condition_variable timer_cv_;  // Stop, for the timer.
  // A run ended or a pipeline was queued, for AwaitPipeline.
  std::condition_variable await_cv_;
  bool started_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::deque<int64_t> queue_ GUARDED_BY(mu_);
  std::map<int64_t, Active*> active_ GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
  std::thread timer_;
  std::atomic<int64_t> running_jobs_{0};
  // Resource groups across this server's pipelines (resource_groups.h).
  std::unique_ptr<ResourceGroups> resource_groups_;

  std::mutex repo_mu_;
  std::map<int64_t, std::unique_ptr<std::mutex>> repo_locks_ GUARDED_BY(repo_mu_);

  UniqueFd builds_lock_;                      // LockBuildsDir's, from Start to Stop.
  PipelineLeases* const leases_;              // The store's; never null (Create checks).
  bool shared_ = false;                       // Other servers may share the database.
  ReplicaNotices* notices_;                   // The store's (SqlStore has them on both backends).
  ActionRequests* requests_;                  // Likewise.
  std::unique_ptr<NoticeListener> listener_;  // From StartNotices to StopNotices.
  std::thread notice_thread_;
  std::condition_variable notice_cv_;  // notices_queue_ and stop, for the notice thread.
  std::deque<ReplicaNotice> notices_queue_ GUARDED_BY(mu_);
  // An action request was answered (or notices were missed), for Forward.
  std::condition_variable answer_cv_;
  int64_t timer_period_ms_ = 1000;  // ServerTimerPeriodMs().

  // When RemoveExpiredArtifacts last looked (Unix ms); only the timer uses it.
  int64_t artifacts_checked_ms_ = 0;
};

}  // namespace internal
}  // namespace slipway

#endif  // SLIPWAY_SERVER_SERVICE_IMPL_H_
