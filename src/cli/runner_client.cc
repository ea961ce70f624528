#include "cli/runner_client.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/runner_artifacts.h"
#include "exec/file_tree.h"
#include "exec/remote_job.h"
#include "exec/shell_executor.h"
#include "exec/slurm_executor.h"
#include "server/runner_bundle.h"
#include "util/bounded_json.h"
#include "util/percent_encode.h"

namespace slipway {

namespace {

using nlohmann::json;

// A pushed message longer than this ends the connection (a job's message
// carries its variables and scripts: far less).
constexpr size_t kMaxMessageBytes = 16 << 20;
// Log bytes go up in chunks of at most this size (below the server's
// request body limit), at most every kLogFlushPeriod.
constexpr size_t kMaxLogChunk = 256 << 10;
constexpr auto kLogFlushPeriod = std::chrono::milliseconds(100);

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

const char* OutcomeName(JobOutcome outcome) {
  switch (outcome) {
    case JobOutcome::kSuccess:
      return "success";
    case JobOutcome::kFailed:
      return "failed";
    case JobOutcome::kCanceled:
      return "canceled";
  }
  return "failed";
}

}  // namespace

// Sends a job's log to the server as it is written, and renews the lease:
// a log chunk renews it, and a heartbeat goes when nothing else did for a
// third of the lease timeout. When the server answers 409 (the lease was
// lost: expired, or the job is someone else's now) it cancels the job and
// sends nothing more. So it does too when no report got through for two
// thirds of the lease timeout (counted from when the last accepted one was
// sent, which is before the server renewed the lease): the server is about
// to give the job to another runner, and this copy must be gone by then,
// whether or not the server can still tell it so (a partition).
class RemoteLog : public LogSink {
 public:
  // Sends body to path within timeout.
  using Post = std::function<StatusOr<HttpFetchResponse>(const std::string& path, std::string,
                                                         std::chrono::milliseconds timeout)>;

  RemoteLog(int64_t job_id, int64_t fence, std::chrono::milliseconds lease_timeout, Post post,
            CancelToken* cancel)
      : base_("/api/v4/runners/jobs/" + std::to_string(job_id)),
        fence_("?fence=" + std::to_string(fence)),
        heartbeat_every_(std::max(lease_timeout / 3, std::chrono::milliseconds(10))),
        give_up_after_(std::max(lease_timeout * 2 / 3, std::chrono::milliseconds(20))),
        post_(std::move(post)),
        cancel_(cancel),
        thread_([this] { Loop(); }) {}

  ~RemoteLog() override { Stop(); }

  void Write(std::string_view, std::string_view bytes) override {
    if (lost_) return;  // Nothing more is sent.
    std::lock_guard<std::mutex> lock(mu_);
    pending_.append(bytes);
    if (pending_.size() >= kMaxLogChunk) cv_.notify_all();
  }

  // Sends what is left and stops. Returns false when the lease was lost.
  bool Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    return !lost_;
  }

 private:
  void Loop() {
    // When the last accepted report was sent (the lease was made before).
    auto last_sent = std::chrono::steady_clock::now();
    bool refused = false;  // The last report was not accepted.
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      // After a refusal, a full period before trying again (a refused full
      // chunk would otherwise be sent again at once).
      cv_.wait_for(lock, kLogFlushPeriod, [this, refused] {
        return !refused && (stopping_ || pending_.size() >= kMaxLogChunk);
      });
      refused = false;
      bool stopping = stopping_;
      std::string chunk = pending_.substr(0, kMaxLogChunk);
      pending_.erase(0, chunk.size());
      lock.unlock();
      auto now = std::chrono::steady_clock::now();
      if (!lost_ && (!chunk.empty() || now - last_sent >= heartbeat_every_)) {
        // offset: a chunk sent again after a lost answer is stored once.
        std::string path =
            chunk.empty() ? base_ + "/heartbeat" + fence_
                          : base_ + "/trace" + fence_ + "&offset=" + std::to_string(log_accepted_);
        // A request through a silent network must not outlast the lease.
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(last_sent + give_up_after_ - now);
        StatusOr<HttpFetchResponse> sent = post_(path, chunk, std::max(left, heartbeat_every_ / 2));
        refused = !sent.ok() || sent->status >= 300;
        if (sent.ok() && sent->status == 409) {
          std::fprintf(stderr, "slipway runner: %s: the server took the job back (%s)\n",
                       base_.c_str(), sent->body.c_str());
          lost_ = true;
          cancel_->Cancel();
        } else if (sent.ok() && sent->status < 300) {
          last_sent = now;
          log_accepted_ += chunk.size();
        } else if (std::chrono::steady_clock::now() - last_sent >= give_up_after_) {
          std::fprintf(stderr,
                       "slipway runner: %s: no report reached the server for %lld ms (%s); "
                       "giving the job up before its lease expires\n",
                       base_.c_str(), static_cast<long long>(give_up_after_.count()),
                       sent.ok() ? ("status " + std::to_string(sent->status)).c_str()
                                 : sent.status().message().c_str());
          lost_ = true;
          cancel_->Cancel();
        }
        // Other failures (the server could not store the chunk: 503, or the
        // request failed): the next round sends the same bytes again, ahead
        // of those written since.
      }
      lock.lock();
      if (refused && !lost_) pending_.insert(0, chunk);
      if (lost_ || (stopping && pending_.empty())) return;
    }
  }

  const std::string base_, fence_;
  const std::chrono::milliseconds heartbeat_every_, give_up_after_;
  Post post_;
  CancelToken* cancel_;
  std::atomic<bool> lost_{false};
  uint64_t log_accepted_ = 0;  // Log bytes the server took (Loop's only).
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: starts once the members above exist.
};

RunnerClient::RunnerClient(RunnerOptions options)
    : options_(std::move(options)),
      executors_(options_.dir, [slurm = options_.executor == "slurm"](const std::string& state) {
        ShellExecutor::Options shell;
        shell.state_dir = state;
        return slurm ? std::unique_ptr<Executor>(std::make_unique<SlurmExecutor>(shell))
                     : std::make_unique<ShellExecutor>(shell);
      }) {}

RunnerClient::~RunnerClient() {
  decltype(jobs_) jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs.swap(jobs_);
  }
  for (auto& [id, job] : jobs) job->cancel.Cancel();
  for (auto& [id, job] : jobs) {
    if (job->thread.joinable()) job->thread.join();
  }
}

StatusOr<HttpFetchResponse> RunnerClient::Call(size_t server, const std::string& method,
                                               const std::string& path, std::string body,
                                               std::function<Status(std::string_view)> sink,
                                               std::chrono::milliseconds timeout) {
  HttpFetchRequest request;
  request.url = options_.urls[server] + path;
  request.method = method;
  request.body = std::move(body);
  request.headers = {{"PRIVATE-TOKEN", options_.token}};
  request.sink = std::move(sink);
  HttpGetOptions http;
  http.allow_http = true;
  http.ca_file = options_.ca_file;
  http.max_redirects = 0;
  http.max_bytes = size_t{4} << 30;
  http.timeout = timeout;
  return HttpFetch(request, http);
}

// One connection to a server: the long exchange runs in a thread of its own
// so that a newer connection can replace it meanwhile (when the server did
// not take a change of its concurrency, TellSlots); the server closes the
// older one when the newer one connects.
struct RunnerClient::Attempt {
  int concurrency = 0;
  std::thread thread;
  std::atomic<bool> hello{false};  // The server answered: it is connected.
  std::atomic<bool> done{false};
  int refused = 0;    // The HTTP status of a refusal (401, 403, 400); set before done.
  std::string ended;  // Why the exchange ended; set before done.
};

int RunnerClient::WantedLocked(size_t server) {
  // Not "its jobs here plus the free slots": the server counts its jobs
  // itself, and one that ended there may still be finishing here.
  int others = 0;
  for (const auto& [key, job] : jobs_) others += !job->done && key.first != server;
  return std::clamp(options_.concurrency - others, 0, 256);
}

std::shared_ptr<RunnerClient::Attempt> RunnerClient::Connect(size_t server, int concurrency,
                                                             const CancelToken& stop) {
  auto attempt = std::make_shared<Attempt>();
  attempt->concurrency = concurrency;
  std::string path = "/api/v4/runners/connect?concurrency=" + std::to_string(concurrency) +
                     "&executor=" + options_.executor +
                     "&tags=" + PercentEncode(Join(options_.tags));
  attempt->thread = std::thread([this, server, path, attempt, &stop] {
    std::string partial;
    StatusOr<HttpFetchResponse> response =
        Call(server, "GET", path, "", [&](std::string_view chunk) -> Status {
          if (stop.canceled()) return Status::Error("stopping");
          partial.append(chunk);
          for (size_t nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n')) {
            std::string line = partial.substr(0, nl);
            partial.erase(0, nl + 1);
            // Connected: not before the server's hello (an error's body is none).
            if (line.find("\"type\":\"hello\"") != std::string::npos) attempt->hello = true;
            if (!line.empty()) OnMessage(server, line);
          }
          if (partial.size() > kMaxMessageBytes) {
            return Status::Error("a message from the server is too long");
          }
          return Status::Ok();
        });
    if (response.ok() &&
        (response->status == 401 || response->status == 403 || response->status == 400)) {
      attempt->refused = response->status;
      attempt->ended = std::to_string(response->status) + " " + response->body;
    } else {
      attempt->ended = response.ok() ? "status " + std::to_string(response->status)
                                     : response.status().message();
    }
    attempt->done = true;
    std::lock_guard<std::mutex> lock(mu_);
    changed_.notify_all();
  });
  return attempt;
}

bool RunnerClient::TellSlots(size_t server, int concurrency) {
  // Bounded: a server that does not answer soon is replaced by a new
  // connection, as before the route existed.
  StatusOr<HttpFetchResponse> told =
      Call(server, "POST", "/api/v4/runners/slots", json({{"concurrency", concurrency}}).dump(),
           nullptr, std::chrono::seconds(10));
  if (told.ok() && told->status == 200) return true;
  std::fprintf(stderr, "slipway runner: cannot change the free slots on %s (%s); reconnecting\n",
               options_.urls[server].c_str(),
               told.ok() ? ("status " + std::to_string(told->status)).c_str()
                         : told.status().message().c_str());
  return false;
}

void RunnerClient::Serve(size_t server, const CancelToken& stop) {
  const std::string& url = options_.urls[server];
  auto backoff = std::chrono::seconds(1);
  bool announced = false;
  std::shared_ptr<Attempt> current;
  std::vector<std::shared_ptr<Attempt>> replaced;
  for (;;) {
    int wanted;
    bool tell = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (refused_ || stop.canceled()) break;
      wanted = WantedLocked(server);
      if (current == nullptr) {
        current = Connect(server, wanted, stop);
      } else if (current->hello && !current->done && wanted != current->concurrency) {
        // Another server took a slot, or one freed: this one's figure changed.
        tell = true;
      }
      if (!tell) changed_.wait_for(lock, std::chrono::milliseconds(100));
    }
    if (tell && !TellSlots(server, wanted)) {
      // The server does not know this connection any more (or has no such
      // route): a new connection announces the figure, replacing the old.
      replaced.push_back(std::move(current));
      current = Connect(server, wanted, stop);
    } else if (tell) {
      current->concurrency = wanted;
    }
    ReapFinished();
    for (auto it = replaced.begin(); it != replaced.end();) {
      if ((*it)->done) {
        (*it)->thread.join();
        it = replaced.erase(it);
      } else {
        ++it;
      }
    }
    if (current->hello && !announced) {
      std::fprintf(stderr, "slipway runner: connected to %s\n", url.c_str());
      announced = true;
      backoff = std::chrono::seconds(1);
    }
    if (!current->done) continue;
    current->thread.join();
    if (current->refused != 0) {
      std::fprintf(stderr, "slipway runner: the server refused the connection: %s (%s)\n",
                   current->ended.c_str(), url.c_str());
      std::lock_guard<std::mutex> lock(mu_);
      refused_ = true;
      changed_.notify_all();
      break;
    }
    if (stop.canceled()) break;
    std::fprintf(stderr, "slipway runner: connection to %s ended (%s); reconnecting in %lld s\n",
                 url.c_str(), current->ended.c_str(), static_cast<long long>(backoff.count()));
    current = nullptr;
    announced = false;
    // Not a busy loop against a server that is down; the others keep working.
    auto until = std::chrono::steady_clock::now() + backoff;
    backoff = std::min(backoff * 2, std::chrono::seconds(30));
    std::unique_lock<std::mutex> lock(mu_);
    while (!refused_ && !stop.canceled() && std::chrono::steady_clock::now() < until) {
      changed_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  // Each ends at its next message (stop is set) or when the server closes it.
  if (current != nullptr) replaced.push_back(std::move(current));
  for (auto& attempt : replaced) {
    if (attempt->thread.joinable()) attempt->thread.join();
  }
}

int RunnerClient::Run(const CancelToken& stop) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease_timeouts_.assign(options_.urls.size(), std::chrono::milliseconds(30000));
  }
  // A refusal by one server stops the others' connections too.
  CancelToken all;
  std::atomic<bool> watching{true};
  std::thread watcher([&] {
    while (watching) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (refused_ || stop.canceled()) break;
        changed_.wait_for(lock, std::chrono::milliseconds(100));
      }
    }
    all.Cancel();
  });
  std::vector<std::thread> servers;
  for (size_t i = 0; i < options_.urls.size(); ++i) {
    servers.emplace_back([this, i, &all] { Serve(i, all); });
  }
  for (std::thread& t : servers) t.join();
  watching = false;
  watcher.join();
  ReapFinished();
  std::lock_guard<std::mutex> lock(mu_);
  return refused_ ? 1 : 0;
}

void RunnerClient::OnMessage(size_t server, const std::string& line) {
  ReapFinished();
  BoundedJson parsed = ParseBoundedJson(line);
  if (parsed.error != JsonParseError::kNone || !parsed.value.is_object()) {
    std::fprintf(stderr, "slipway runner: ignoring a message that is not a JSON object\n");
    return;
  }
  const json& m = parsed.value;
  std::string type = m.value("type", json()).is_string() ? m["type"].get<std::string>() : "";
  int64_t job_id = m.value("job_id", json()).is_number_integer() ? m["job_id"].get<int64_t>() : 0;
  int64_t fence = m.value("fence", json()).is_number_integer() ? m["fence"].get<int64_t>() : 0;
  std::lock_guard<std::mutex> lock(mu_);
  if (type == "hello") {
    if (m.value("lease_timeout_ms", json()).is_number_integer()) {
      lease_timeouts_[server] = std::chrono::milliseconds(m["lease_timeout_ms"].get<int64_t>());
    }
  } else if (type == "job") {
    auto active = std::make_shared<ActiveJob>();
    active->server = server;
    active->job_id = job_id;
    active->fence = fence;
    auto& slot = jobs_[{server, job_id}];
    if (slot) slot->cancel.Cancel();  // An older lease of the same job: it lost it.
    std::shared_ptr<ActiveJob> older = std::move(slot);
    slot = active;
    active->thread = std::thread([this, active, older, line] {
      if (older && older->thread.joinable()) older->thread.join();
      RunJob(active, line);
    });
    changed_.notify_all();
  } else if (type == "cancel") {
    auto it = jobs_.find({server, job_id});
    if (it != jobs_.end() && it->second->fence == fence) it->second->cancel.Cancel();
  }
}

void RunnerClient::ReapFinished() {
  std::vector<std::shared_ptr<ActiveJob>> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->second->done) {
        finished.push_back(it->second);
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& job : finished) {
    if (job->thread.joinable()) job->thread.join();
  }
}

Status RunnerClient::FetchCommit(size_t server, const std::string& path, const std::string& job_dir,
                                 const std::string& commit, const std::string& repo) {
  const std::string key = repo + " " + commit;
  auto have = [&] {
    std::lock_guard<std::mutex> lock(fetched_mu_);
    return fetched_.count(key) != 0;
  };
  if (have()) return Status::Ok();
  // Jobs that need a commit being fetched wait for it rather than ask the
  // server for another bundle.
  std::lock_guard<std::mutex> fetching(fetch_mu_);
  if (have()) return Status::Ok();
  std::string bundle = job_dir + "/commit.bundle";
  FILE* out = std::fopen(bundle.c_str(), "wbe");
  if (out == nullptr) return Status::Error("cannot write " + bundle);
  StatusOr<HttpFetchResponse> got =
      Call(server, "GET", path, "", [out](std::string_view chunk) -> Status {
        if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) {
          return Status::Error("cannot write the bundle");
        }
        return Status::Ok();
      });
  std::fclose(out);
  if (!got.ok()) return got.status();
  if (got->status != 200) {
    return Status::Error("the server answered " + std::to_string(got->status) + " " + got->body);
  }
  Status fetched = MakeDirs(options_.dir + "/repos");
  if (fetched.ok()) fetched = FetchCommitBundle(bundle, commit, repo);
  if (fetched.ok()) {
    std::lock_guard<std::mutex> lock(fetched_mu_);
    fetched_.insert(key);
  }
  return fetched;
}

void RunnerClient::RunJob(std::shared_ptr<ActiveJob> active, std::string message) {
  const std::string job_path = "/api/v4/runners/jobs/" + std::to_string(active->job_id);
  const std::string fence = "?fence=" + std::to_string(active->fence);
  std::chrono::milliseconds lease_timeout;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease_timeout = lease_timeouts_[active->server];
  }
  const size_t server = active->server;
  RemoteLog log(
      active->job_id, active->fence, lease_timeout,
      [this, server](const std::string& path, std::string body, std::chrono::milliseconds timeout) {
        return Call(server, "POST", path, std::move(body), nullptr, timeout);
      },
      &active->cancel);
  Job job;
  JobSpec spec;
  JobResult result;
  std::optional<ArchiveFile> uploaded;
  // The job's own directory: the bundle, the artifacts the job gets, and the
  // artifacts and reports it leaves; its workspace is its executor's
  // (runner_executors.h).
  std::string job_dir = options_.dir + "/jobs/" + std::to_string(active->job_id) + "-" +
                        std::to_string(active->fence);
  auto fail = [&](const std::string& what) {
    log.Write(job.name, "ERROR: " + what + "\nERROR: Job failed (system failure)\n");
    result.outcome = JobOutcome::kFailed;
    result.failure_reason = "runner_system_failure";
    result.exit_code = -1;
  };
  BoundedJson parsed = ParseBoundedJson(message);
  Status read = parsed.error == JsonParseError::kNone
                    ? RemoteJobFromJson(parsed.value, &job, &spec)
                    : Status::Error("the job message is not JSON");
  // A slot of the runner's concurrency (its lease is renewed meanwhile).
  bool slot = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // In the order the jobs came.
    slot_queue_.push_back(active.get());
    auto turn = [&] {
      return running_ < options_.concurrency && slot_queue_.front() == active.get();
    };
    if (!turn()) log.Write(job.name, "Waiting for a free slot on this runner...\n");
    while (!turn() && !active->cancel.canceled()) {
      changed_.wait_for(lock, std::chrono::milliseconds(100));
    }
    slot_queue_.erase(std::find(slot_queue_.begin(), slot_queue_.end(), active.get()));
    changed_.notify_all();
    if (!active->cancel.canceled()) {
      ++running_;
      slot = true;
    }
  }
  Status made = read.ok() ? MakeDirs(job_dir) : read;
  if (!slot) {
    result.outcome = JobOutcome::kCanceled;
  } else if (!made.ok()) {
    fail("Reading the job failed: " + made.message());
  } else {
    // The commit, as a bundle from the server, into this runner's own copy
    // of the project's repository, unless an earlier job brought it.
    const std::string* project = spec.variables.Get("CI_PROJECT_ID");
    std::string repo = options_.dir + "/repos/project-" + (project ? *project : "0") + ".git";
    Status fetched =
        FetchCommit(server, job_path + "/repository" + fence, job_dir, spec.commit, repo);
    if (!fetched.ok()) {
      fail("Fetching the commit failed: " + fetched.message());
    } else {
      spec.repository = repo;
      RunnerCall call = [this, server](const std::string& method, const std::string& path,
                                       std::string body,
                                       std::function<Status(std::string_view)> sink) {
        return Call(server, method, path, std::move(body), std::move(sink));
      };
      RemoteArtifacts from_server(call, job_path, fence, job_dir);
      std::unique_ptr<RunnerExecutors::Lease> executor =
          executors_.Take(project ? *project : "0", spec.commit);
      JobHost host;
      host.run_dir = executor->run_dir();
      host.job_dir = job_dir;
      // Caches stay on this runner, per project, as GitLab Runner keeps
      // them without a distributed cache.
      host.cache_dir = options_.dir + "/cache/project-" + (project ? *project : "0");
      host.artifacts = &from_server;
      result = executor->executor()->Run(job, spec, host, &log, active->cancel);
      executor.reset();
      if (result.outcome != JobOutcome::kCanceled) {
        StatusOr<std::optional<ArchiveFile>> sent =
            UploadArtifacts(call, job_path, fence, job_dir, job_dir);
        if (!sent.ok()) {
          fail("Uploading the artifacts failed: " + sent.status().message());
        } else {
          uploaded = *sent;
        }
      }
    }
  }
  bool held = log.Stop();
  if (held) {
    json dotenv = json::array();
    for (const Variable& v : result.dotenv.items()) {
      dotenv.push_back({{"key", v.name}, {"value", v.value}});
    }
    json report = {{"outcome", OutcomeName(result.outcome)},
                   {"exit_code", result.exit_code},
                   {"failure_reason", result.failure_reason},
                   {"dotenv", dotenv}};
    if (uploaded) report["artifacts"] = {{"size", uploaded->size}, {"digest", uploaded->digest}};
    // The end must get through: a few tries over a dropped connection; a
    // lease that expires meanwhile makes the job the server's again.
    for (int attempt = 0; attempt < 5; ++attempt) {
      StatusOr<HttpFetchResponse> sent = Call(server, "PUT", job_path + fence, report.dump());
      if (sent.ok() && (sent->status < 300 || sent->status == 409 || sent->status == 400)) break;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  Status removed = RemoveTree(job_dir);
  (void)removed;
  std::lock_guard<std::mutex> lock(mu_);
  if (slot) --running_;
  active->done = true;
  changed_.notify_all();
}

}  // namespace slipway
