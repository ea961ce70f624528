// The server's side of remote runners (docs/runners.md): which runners are
// connected, which jobs wait for one, and the lease each running job is
// held under. RemoteExecutor (runner_executor.h) hands a job in and blocks;
// the API's runner routes (api_runners.cc) connect runners and take their
// reports. Nothing here touches a socket: a connection is a queue of
// messages the HTTP server drains (PushChannel).
#ifndef SLIPWAY_SERVER_RUNNER_HUB_H_
#define SLIPWAY_SERVER_RUNNER_HUB_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "image/tree_archive.h"
#include "server/http_message.h"
#include "server/runner_bundle.h"
#include "util/clock.h"
#include "util/thread_annotations.h"

namespace slipway {

// What a runner says of itself when it connects.
struct RunnerInfo {
  int64_t id = 0;           // Its token's id.
  std::string description;  // Its token's name.
  std::vector<std::string> tags;
  int concurrency = 1;
  std::string executor = "shell";
};

struct RunnerStatus {
  RunnerInfo info;
  bool online = false;
  int running = 0;
  std::optional<int64_t> contacted_at;  // Unix milliseconds, wall clock.
};

// How a runner ended a job (the finish report).
struct RemoteOutcome {
  JobResult result;
};

// Why an update from a runner was refused.
enum class LeaseError { kNone, kUnknownJob, kStaleFence };

// Where a remote job's files are on the server's side.
struct RemoteJobFiles {
  std::string repository;  // The bare repository the runner's bundle is made from.
  std::string job_dir;     // Where the artifacts and reports the runner sends are unpacked.
  // The artifacts the job gets (JobSpec::artifacts_from), by job id: the
  // directory holding each one's tree (ArtifactFetcher::Fetch).
  std::map<int64_t, std::string> artifacts_from;
};

class RunnerHub {
 public:
  struct Options {
    Clock* clock = nullptr;  // Null: the machine's. Must outlive the hub.
    // A job whose runner has not been heard of (heartbeat, log chunk) for
    // this long loses its lease and fails with runner_system_failure.
    std::chrono::milliseconds lease_timeout{30000};
    // Where the bundles of jobs' commits are kept (runner_bundle.h: in
    // commits/, linked per lease), and the archives of the artifacts going to
    // and coming from runners; a lease's are removed when it ends.
    std::string bundle_dir;
    // The largest artifacts archive a runner may send for one job (413
    // beyond); it also bounds what the archive unpacks to.
    uint64_t max_artifacts_bytes = uint64_t{1} << 30;
  };

  explicit RunnerHub(Options options);
  ~RunnerHub();

  // One runner's live connection: the messages the server pushes to it, one
  // JSON object a line. Thread-safe.
  class Connection : public PushChannel {
   public:
    explicit Connection(RunnerHub* hub, RunnerInfo info) : hub_(hub), info_(std::move(info)) {}
    void SetWaker(std::function<void()> waker) override;
    std::string Take(bool* closed) override;
    std::string Keepalive() override { return "{\"type\":\"ping\"}\n"; }
    void Closed() override;

    const RunnerInfo& info() const { return info_; }
    void Push(std::string line);
    void Close();

   private:
    RunnerHub* hub_;
    const RunnerInfo info_;
    std::mutex mu_;
    std::string queued_ GUARDED_BY(mu_);
    bool closed_ GUARDED_BY(mu_) = false;
    std::function<void()> waker_ GUARDED_BY(mu_);
  };

  // Registers a connected runner (replacing an earlier connection of the
  // same runner, which is closed) and offers it the waiting jobs.
  std::shared_ptr<Connection> Connect(RunnerInfo info);
  // Sets the concurrency of runner_id's live connection (a runner of
  // several replicas whose other servers' jobs took or freed slots) and
  // offers it the waiting jobs at once. False when it is not connected.
  bool SetConcurrency(int64_t runner_id, int concurrency);

  // Runs one job on a runner: queues it until a connected runner with all
  // of job.tags has a free slot, pushes it there under a new lease, and
  // blocks until the runner reports the end, the lease expires
  // (runner_system_failure), or cancel is set (the runner is told to cancel
  // and its report is awaited as long as the lease holds). Log chunks the
  // runner sends are written to log meanwhile; the artifacts it sends are
  // checked against the digest its finish report gives and unpacked into
  // files.job_dir before Run returns (a mismatch fails the job as a
  // runner_system_failure).
  // on_leased (optional) is called, without the hub's lock, once a runner
  // was chosen and before the job is pushed to it (so the lease is recorded
  // before the job can run anywhere).
  JobResult Run(const Job& job, const JobSpec& spec, RemoteJobFiles files, LogSink* log,
                const CancelToken& cancel,
                const std::function<void(const RunnerInfo&)>& on_leased = nullptr);

  // A runner's reports about job_id under the lease fence. Each renews the
  // lease. kUnknownJob when the job is not leased to runner_id; kStaleFence
  // when it is leased under another fence (given to another runner, or to
  // this one again later).
  LeaseError Heartbeat(int64_t runner_id, int64_t job_id, int64_t fence);
  // Appends bytes to the job's log. offset (when the runner sends one) is
  // where bytes start among the log bytes of this lease: the part already
  // received is skipped, so a chunk sent again after a lost answer is
  // stored once. With kNone, *refused_status is 0 once the bytes are stored
  // (the store has them), or 503 when the store failed (nothing of them was
  // kept: the runner sends them again) or 416 when offset is past what was
  // received; *why says why.
  LeaseError AppendLog(int64_t runner_id, int64_t job_id, int64_t fence,
                       std::optional<uint64_t> offset, std::string_view bytes, int* refused_status,
                       std::string* why);
  // artifacts: the archive the runner uploaded (AppendArtifacts), if any.
  LeaseError Finish(int64_t runner_id, int64_t job_id, int64_t fence, JobResult result,
                    std::optional<ArchiveFile> artifacts = std::nullopt);
  // Appends bytes at offset to the job's artifacts upload. With kNone,
  // *refused_status is 0, or the HTTP status the upload is refused with
  // (416: offset is not where the upload ends; 413: past
  // max_artifacts_bytes) and *why says why.
  LeaseError AppendArtifacts(int64_t runner_id, int64_t job_id, int64_t fence, uint64_t offset,
                             std::string_view bytes, int* refused_status, std::string* why);
  // The archive of from_job's artifacts for a leased job that gets them
  // (JobSpec::artifacts_from): packed on the first ask of any lease, the
  // same file for every live lease that gets from_job's artifacts (they do
  // not change once from_job ended), removed when the last of those leases
  // ends. *path is "" when the job gets none from from_job or it left none;
  // *error says why packing failed (then *path is "" too).
  LeaseError ArtifactsArchive(int64_t runner_id, int64_t job_id, int64_t fence, int64_t from_job,
                              std::string* path, ArchiveFile* archive, Status* error);
  // The repository and commit of a leased job (for its bundle).
  LeaseError Source(int64_t runner_id, int64_t job_id, int64_t fence, std::string* repository,
                    std::string* commit);

  // Where the bundle of job_id's commit under fence is kept, and the
  // archive of the artifacts its runner uploads.
  std::string BundlePath(int64_t job_id, int64_t fence) const;
  std::string UploadPath(int64_t job_id, int64_t fence) const;
  std::chrono::milliseconds lease_timeout() const { return options_.lease_timeout; }
  // The commits' bundles (in bundle_dir/commits), one per commit: a job
  // waiting for a runner starts its commit's.
  CommitBundles& bundles() { return bundles_; }

  // Makes every Run return now (kCanceled) and every later one at once: the
  // server is stopping and no runner can report any more.
  void Shutdown();

  // Runners seen since the server started (connected or not), by id.
  std::vector<RunnerStatus> Runners();
  // Whether runner_id is connected now.
  bool Online(int64_t runner_id);
  // Why job_id, waiting for a runner, cannot get one (GitLab's stuck job):
  // no runner is connected, or none of those connected has all its tags.
  // nullopt when it is not waiting, or when one that could take it is
  // connected (busy: it takes the job once it has a free slot).
  std::optional<std::string> StuckReason(int64_t job_id);
  // Notes a runner's contact (any authenticated request).
  void Contacted(int64_t runner_id);

 private:
  struct Lease;
  struct Packed;
  // Each live lease holds the archives of the jobs it gets artifacts from;
  // Release returns those it held last, to be removed (without mu_).
  void HoldArchivesLocked(const Lease& lease) REQUIRES(mu_);
  std::vector<std::shared_ptr<Packed>> ReleaseArchivesLocked(const Lease& lease) REQUIRES(mu_);
  static void RemoveArchive(Packed* packed);
  // Pushes waiting jobs to runners with free slots, in arrival order.
  void DispatchLocked() REQUIRES(mu_);
  // Whether the runner has every one of the job's tags.
  static bool HasTags(const RunnerInfo& runner, const Job& job);
  // Tells the lease's runner, if connected, to cancel the job.
  void PushCancelLocked(const Lease& lease) REQUIRES(mu_);
  void Disconnected(Connection* connection);
  LeaseError Find(int64_t runner_id, int64_t job_id, int64_t fence, std::shared_ptr<Lease>* out)
      REQUIRES(mu_);
  int64_t WallMillis() const;
  // Unpacks what the runner uploaded (if its report named an archive) into
  // the job dir, failing result where that is impossible, and removes the
  // lease's files. Without mu_.
  void Collect(Lease* lease, const Job& job, JobResult* result);

  Options options_;
  Clock* clock_;
  CommitBundles bundles_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t next_fence_ GUARDED_BY(mu_);
  bool shutdown_ GUARDED_BY(mu_) = false;
  std::map<int64_t, std::shared_ptr<Connection>> connections_ GUARDED_BY(mu_);  // By runner id.
  std::map<int64_t, RunnerStatus> seen_ GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Lease>> waiting_ GUARDED_BY(mu_);
  std::map<int64_t, std::shared_ptr<Lease>> leases_ GUARDED_BY(mu_);  // By job id.
  // The archives of artifacts going to runners, by the job that left them.
  std::map<int64_t, std::shared_ptr<Packed>> packed_ GUARDED_BY(mu_);
  int64_t next_packed_ GUARDED_BY(mu_) = 0;  // Names each one's file apart.
  // Names this server's archives apart from another replica's in a shared
  // data directory: the first fence it handed out.
  int64_t instance_ = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_RUNNER_HUB_H_
