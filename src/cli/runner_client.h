// `slipway runner`: a remote runner (docs/runners.md). It keeps one
// connection open to each server it is given (the replicas of one
// installation, docs/replicas.md), on which that server pushes jobs; it runs
// each with its executor (shell or slurm) in a directory of its own, streams the
// log back, renews the job's lease and reports the end, all over plain
// HTTP requests to the server that pushed the job, naming the lease's fence.
// Its concurrency is shared: each server is told (as the connection's
// concurrency) the runner's concurrency less the jobs of the other servers
// it holds, and told again (POST /api/v4/runners/slots) whenever that figure
// changes; a server that does not take it gets a new connection with the
// new figure instead.
#ifndef SLIPWAY_CLI_RUNNER_CLIENT_H_
#define SLIPWAY_CLI_RUNNER_CLIENT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli/runner_executors.h"
#include "exec/executor.h"
#include "util/cancel_token.h"
#include "util/http_get.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace slipway {

struct RunnerOptions {
  // The servers' base URLs, http(s)://host:port: one, or the replicas of
  // one installation (one database).
  std::vector<std::string> urls;
  std::string token;
  std::vector<std::string> tags;
  int concurrency = 1;
  std::string executor = "shell";  // or "slurm" (exec/slurm_executor.h).
  std::string dir;  // Where workspaces, jobs' directories and fetched repositories live.
  // PEM file of the CAs an https:// server's certificate is checked
  // against. Empty: $SSL_CERT_FILE, else the system's store.
  std::string ca_file;
};

class RunnerClient {
 public:
  explicit RunnerClient(RunnerOptions options);
  ~RunnerClient();  // Cancels and joins the jobs still running.

  // Connects to every server and runs what they push until stop is set
  // (checked at every message, the servers' pings included), reconnecting
  // after a dropped connection (1 s, doubling up to 30 s while the server
  // cannot be reached). Returns 0 when stopped, 1 when a server refuses the
  // token (401, 403) or the options (400), with the reason on stderr.
  int Run(const CancelToken& stop);

 private:
  struct Attempt;
  struct ActiveJob {
    size_t server = 0;  // Index in options_.urls: where the job came from.
    int64_t job_id = 0;
    int64_t fence = 0;
    CancelToken cancel;
    std::thread thread;
    bool done = false;
  };

  // Keeps a connection to one server until stop (or a refusal).
  void Serve(size_t server, const CancelToken& stop);
  // Opens a connection announcing concurrency, in a thread of its own.
  std::shared_ptr<Attempt> Connect(size_t server, int concurrency, const CancelToken& stop);
  // The concurrency a server is told: the runner's, less the jobs of the
  // other servers it holds.
  int WantedLocked(size_t server) REQUIRES(mu_);
  // Tells a server its connection's new concurrency; false when it did not
  // take it (no connection of this runner there, an error, no answer).
  bool TellSlots(size_t server, int concurrency);
  void OnMessage(size_t server, const std::string& line);
  void RunJob(std::shared_ptr<ActiveJob> active, std::string message);
  // A request to a server's API with the runner's token, bounded by
  // timeout as a whole.
  StatusOr<HttpFetchResponse> Call(size_t server, const std::string& method,
                                   const std::string& path, std::string body = "",
                                   std::function<Status(std::string_view)> sink = nullptr,
                                   std::chrono::milliseconds timeout = std::chrono::minutes(10));
  void ReapFinished();
  // Brings commit into the bare repository repo unless it is there: the
  // bundle from path (the job's .../repository?fence=F) through job_dir.
  Status FetchCommit(size_t server, const std::string& path, const std::string& job_dir,
                     const std::string& commit, const std::string& repo);

  RunnerOptions options_;
  RunnerExecutors executors_;  // Per project and commit.
  // Held while a commit is fetched: one bundle download and git fetch into
  // the runner's repositories at a time.
  std::mutex fetch_mu_;
  std::mutex fetched_mu_;
  // "<repo> <commit>" of the commits fetched into the runner's repositories
  // since it started: a later job of the same commit fetches nothing (the
  // repositories only grow).
  std::set<std::string> fetched_ GUARDED_BY(fetched_mu_);
  std::mutex mu_;
  std::condition_variable changed_;  // A job came or ended, a slot freed, a refusal.
  // By server, from its hello.
  std::vector<std::chrono::milliseconds> lease_timeouts_ GUARDED_BY(mu_);
  // By server and job id.
  std::map<std::pair<size_t, int64_t>, std::shared_ptr<ActiveJob>> jobs_ GUARDED_BY(mu_);
  // Jobs running now (at most options_.concurrency): two servers may push
  // into the same free slot before hearing of the other's job; the later
  // job waits here for a slot, its lease renewed meanwhile.
  int running_ GUARDED_BY(mu_) = 0;
  std::deque<const ActiveJob*> slot_queue_ GUARDED_BY(mu_);  // Waiting for a slot, in order.
  bool refused_ GUARDED_BY(mu_) = false;
};

}  // namespace slipway

#endif  // SLIPWAY_CLI_RUNNER_CLIENT_H_
