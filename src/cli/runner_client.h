// `slipway runner`: a remote runner (docs/runners.md). It keeps one
// connection to the server open, on which the server pushes jobs; it runs
// each with its executor (shell or slurm) in a directory of its own, streams the
// log back, renews the job's lease and reports the end, all over plain
// HTTP requests that name the lease's fence.
#ifndef SLIPWAY_CLI_RUNNER_CLIENT_H_
#define SLIPWAY_CLI_RUNNER_CLIENT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/runner_executors.h"
#include "exec/executor.h"
#include "util/cancel_token.h"
#include "util/http_get.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace slipway {

struct RunnerOptions {
  std::string url;  // The server's base URL, http(s)://host:port.
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

  // Connects and runs what the server pushes until stop is set (checked at
  // every message, the server's pings included), reconnecting after a
  // dropped connection. Returns 0 when stopped, 1 when the server refuses
  // the token (401) or the options (400), with the reason on stderr.
  int Run(const CancelToken& stop);

 private:
  struct ActiveJob {
    int64_t job_id = 0;
    int64_t fence = 0;
    CancelToken cancel;
    std::thread thread;
    bool done = false;
  };

  void OnMessage(const std::string& line);
  void RunJob(std::shared_ptr<ActiveJob> active, std::string message);
  // A request to the server's API with the runner's token, bounded by
  // timeout as a whole.
  StatusOr<HttpFetchResponse> Call(const std::string& method, const std::string& path,
                                   std::string body = "",
                                   std::function<Status(std::string_view)> sink = nullptr,
                                   std::chrono::milliseconds timeout = std::chrono::minutes(10));
  void ReapFinished();
  // Brings commit into the bare repository repo unless it is there: the
  // bundle from path (the job's .../repository?fence=F) through job_dir.
  Status FetchCommit(const std::string& path, const std::string& job_dir, const std::string& commit,
                     const std::string& repo);

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
  std::chrono::milliseconds lease_timeout_ GUARDED_BY(mu_){30000};
  std::map<int64_t, std::shared_ptr<ActiveJob>> jobs_ GUARDED_BY(mu_);  // By job id.
};

}  // namespace slipway

#endif  // SLIPWAY_CLI_RUNNER_CLIENT_H_
