// `slipway serve`: the store, the engine, the HTTP server; runs until
// SIGINT or SIGTERM.
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/server_commands.h"
#include "exec/file_tree.h"
#include "image/image_puller.h"
#include "server/api.h"
#include "server/cdevents_publisher.h"
#include "server/executor_factory.h"
#include "server/forge_status.h"
#include "server/http_server.h"
#include "server/job_users.h"
#include "server/log_follower.h"
#include "server/log_hub.h"
#include "server/pipeline_service.h"
#include "server/project_hooks.h"
#include "server/runner_executor.h"
#include "server/runner_hub.h"
#include "store/pipeline_leases.h"
#include "util/clock.h"
#include "util/containment.h"
#include "util/logger.h"
#include "util/memory_release.h"

namespace slipway {

namespace {

// The server's memory after a burst of large requests returns to near its
// idle size: two malloc arenas, and what they hold free beyond 1 MiB given
// back every 2 s.
constexpr int kMallocArenas = 2;
constexpr std::chrono::milliseconds kReleasePeriod{2000};
constexpr size_t kReleaseThreshold = 1 << 20;

struct ServeOptions {
  DataOptions data;
  std::string builds_dir;  // Empty: DATA-builds.
  std::string job_user;    // Empty: slipway-job when root, else the server's own user.
  std::string listen = "127.0.0.1:8080";
  int jobs = 0;
  int max_pipelines = 2;
  bool allow_http_includes = false;
  std::vector<std::string> include_networks;
  std::vector<std::string> cdevent_sinks;  // PROJECT=URL (docs/deployments.md, CDEvents).
  std::string metrics_token_file;          // Empty: /metrics is open.
  int runner_lease_timeout_s = 30;         // docs/runners.md.
  std::string tls_cert_file;               // Both or neither: HTTPS (docs/server.md).
  std::string tls_key_file;
  std::string log_level = "info";  // docs/server.md, "Log".
  std::string log_format = "json";
  std::string replica_id;    // Empty: a random one (docs/replicas.md).
  int lease_timeout_s = 30;  // docs/replicas.md.
};

// "HOST:PORT" or "[V6]:PORT".
bool ParseListen(const std::string& text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return false;
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) return false;
  int p = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    p = p * 10 + (c - '0');
    if (p > 65535) return false;
  }
  *host = h;
  *port = static_cast<uint16_t>(p);
  return true;
}

int Serve(const ServeOptions& options) {
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kJson;
  // CLI11 checked the words; the parsers cannot fail here.
  (void)ParseLogLevel(options.log_level, &log_level);
  (void)ParseLogFormat(options.log_format, &log_format);
  ConfigureLog(log_level, log_format);
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    std::fprintf(stderr, "slipway: --tls-cert and --tls-key go together: give both or neither\n");
    return 2;
  }
  std::string host;
  uint16_t port = 0;
  if (!ParseListen(options.listen, &host, &port)) {
    std::fprintf(stderr, "slipway: --listen must be HOST:PORT, not '%s'\n", options.listen.c_str());
    return 2;
  }
  // Replicas sharing a PostgreSQL database (docs/replicas.md, "Remote
  // runners"): a dead replica's runners give its jobs up within two thirds
  // of the runner lease timeout of their last accepted report; the replica
  // taking its pipelines over reruns them once the pipelines' lease ended,
  // which can be a second (the renewal period) after that report. So
  // S >= 2/3 R + 1, in whole seconds 3 S >= 2 R + 3.
  const std::string& database = options.data.database;
  bool shared = database.starts_with("postgresql://") || database.starts_with("postgres://");
  int lease = options.lease_timeout_s, runner_lease = options.runner_lease_timeout_s;
  if (shared && 3 * int64_t{lease} < 2 * int64_t{runner_lease} + 3) {
    // None fits a lease timeout of 1 s.
    std::string or_lower =
        lease > 1 ? " or --runner-lease-timeout at most " + std::to_string(3 * (lease - 1) / 2)
                  : "";
    std::fprintf(stderr,
                 "slipway: --lease-timeout %d is too short for --runner-lease-timeout %d: another "
                 "replica could rerun a dead replica's jobs before its runners gave them up; "
                 "give --lease-timeout at least %d (two thirds of --runner-lease-timeout plus a "
                 "second)%s\n",
                 lease, runner_lease, (2 * runner_lease + 5) / 3, or_lower.c_str());
    return 2;
  }
  // Before anything is created: a server that cannot run its jobs safely
  // as asked does not start.
  CdEventsOptions cdevent_options;
  for (const std::string& sink : options.cdevent_sinks) {
    Status added = AddCdEventSink(sink, &cdevent_options);
    if (!added.ok()) {
      std::fprintf(stderr, "slipway: %s\n", added.message().c_str());
      return 2;
    }
  }
  // Read from a file, not the command line, where `ps` would show it.
  std::string metrics_token;
  if (!options.metrics_token_file.empty()) {
    StatusOr<std::string> token = ReadFile(options.metrics_token_file, 4096);
    if (token.ok()) {
      while (!token->empty() && std::isspace(static_cast<unsigned char>(token->back()))) {
        token->pop_back();
      }
    }
    if (!token.ok() || token->empty()) {
      std::fprintf(stderr, "slipway: --metrics-token-file %s: %s\n",
                   options.metrics_token_file.c_str(),
                   token.ok() ? "the file is empty" : token.status().message().c_str());
      return 2;
    }
    metrics_token = std::move(*token);
  }
  JobUserOptions job_user_options;
  job_user_options.user = options.job_user;
  StatusOr<JobUsers> job_users = JobUsers::Resolve(job_user_options);
  if (!job_users.ok()) {
    std::fprintf(stderr, "slipway: %s\n", job_users.status().message().c_str());
    return 1;
  }
  for (const std::string& warning : job_users->warnings()) {
    LogLine(LogLevel::kWarn, "job_user").Str("message", warning);
  }
  // Before any thread starts: see util/memory_release.h and
  // docs/benchmarks.md for what these bound.
  LimitMallocArenas(kMallocArenas);
  MemoryReleaser releaser(kReleasePeriod, kReleaseThreshold);
  RealClock clock;  // Outlives the store, the service and the API below.
  std::unique_ptr<Store> store = OpenDataStore(options.data, &clock);
  if (!store) return 1;
  LogHub hub;
  std::unique_ptr<PipelineService> service;
  ServiceOptions service_options;
  // Jobs with image: pull into DATA/images (docs/images.md), shared by all
  // projects.
  StoreImageSource images(options.data.data_dir + "/images");
  // Projects whose executor is "remote" send their jobs to `slipway runner`s.
  RunnerHub::Options runner_options;
  runner_options.clock = &clock;
  runner_options.lease_timeout = std::chrono::seconds(options.runner_lease_timeout_s);
  runner_options.bundle_dir = options.data.data_dir + "/runner-bundles";
  if (Status made = MakeDirs(runner_options.bundle_dir); !made.ok()) {
    std::fprintf(stderr, "slipway: %s\n", made.message().c_str());
    return 1;
  }
  RunnerHub runners(runner_options);
  service_options.executor_factory = RemoteExecutorFactory(&runners, ShellExecutorFactory(&images));
  service_options.clock = &clock;
  service_options.data_dir = options.data.data_dir;
  service_options.builds_dir = options.builds_dir;
  service_options.job_users = std::move(*job_users);
  service_options.jobs_per_pipeline = options.jobs;
  service_options.max_running_pipelines = options.max_pipelines;
  service_options.includes = FetchOptionsFromEnvironment();
  service_options.includes.http.allow_http = options.allow_http_includes;
  service_options.include_networks = options.include_networks;
  service_options.replica_id = options.replica_id;
  service_options.lease_timeout_ms = int64_t{options.lease_timeout_s} * 1000;
  auto created = PipelineService::Create(store.get(), &hub, service_options);
  if (!created.ok()) {
    std::fprintf(stderr, "slipway: %s\n", created.status().message().c_str());
    return 1;
  }
  service = std::move(*created);
  Status recovered = service->Start();
  if (!recovered.ok()) {
    std::fprintf(stderr, "slipway: %s\n", recovered.message().c_str());
    return 1;
  }
  ApiOptions api_options;
  api_options.clock = &clock;
  api_options.metrics_token = std::move(metrics_token);
  api_options.runners = &runners;
  api_options.scheme = options.tls_cert_file.empty() ? "http" : "https";
  Api api(store.get(), service.get(), &hub, api_options);
  HttpServerOptions server_options;
  server_options.host = host;
  server_options.port = port;
  server_options.tls_cert_file = options.tls_cert_file;
  server_options.tls_key_file = options.tls_key_file;
  // Jobs other servers sharing the database run: their live logs come from it.
  std::unique_ptr<LogFollower> follower;
  PipelineLeases* leases = LeasesOf(store.get());
  if (leases != nullptr && leases->SharedByServers()) {
    LogFollower::Options follow;
    follow.poll = std::chrono::milliseconds(ServerTimerPeriodMs());
    follower = std::make_unique<LogFollower>(store.get(), &hub, follow);
    server_options.follower = follower.get();
  }
  HttpServer server(&api, store.get(), &hub, server_options);
  Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "slipway: %s\n", started.message().c_str());
    return 1;
  }
  std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  // The URL the server's own messages (commit statuses, hooks, CDEvents) link to.
  const std::string base_url =
      std::string(server.scheme()) + "://" + shown + ":" + std::to_string(server.port());
  LogLine(LogLevel::kInfo, "server_started")
      .Str("url", base_url)
      .Str("containment", DefaultContainment().Describe());
  std::printf("slipway serve: listening on %s\n", base_url.c_str());
  std::fflush(stdout);
  // CDEvents about deployments and incidents, sent from a thread of their
  // own, for what happens from now on.
  // Of servers sharing the database, one sends each event (docs/replicas.md).
  ClaimOptions claims;
  claims.replica_id = options.replica_id;
  claims.lease_ms = int64_t{options.lease_timeout_s} * 1000;
  std::unique_ptr<CdEventsPublisher> cdevents;
  if (!cdevent_options.sinks.empty()) {
    cdevent_options.base_url = base_url;
    cdevent_options.clock = &clock;
    cdevent_options.claims = claims;
    cdevents = std::make_unique<CdEventsPublisher>(store.get(), cdevent_options,
                                                   UnixMillis(clock.WallNow()));
  }
  // Commit statuses to each project's forge (those with one), from a
  // thread of their own, for pipelines that change from now on.
  ForgeStatusOptions forge_options;
  forge_options.base_url = base_url;
  forge_options.clock = &clock;
  forge_options.retry.what = "commit statuses";
  forge_options.claims = claims;
  auto forge_statuses = std::make_unique<ForgeStatusPublisher>(store.get(), forge_options,
                                                               UnixMillis(clock.WallNow()));
  // Outgoing project hooks (pipeline and job events), the same way.
  ProjectHookOptions hook_options;
  hook_options.base_url = forge_options.base_url;
  hook_options.clock = &clock;
  hook_options.retry.what = "project hooks";
  hook_options.claims = claims;
  auto project_hooks = std::make_unique<ProjectHookPublisher>(store.get(), hook_options,
                                                              UnixMillis(clock.WallNow()));
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  {
    InterruptHandler interrupt([&] {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return stop; });
  }
  LogLine(LogLevel::kInfo, "server_stopping");
  cdevents.reset();
  forge_statuses.reset();
  project_hooks.reset();
  server.Stop();
  // No runner can report any more: jobs they hold end now, as canceled.
  runners.Shutdown();
  if (service) service->Stop();
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* cmd =
      app->add_subcommand("serve", "Run the CI server: API, web UI, webhooks, pipelines");
  AddDataOptions(cmd, &options->data);
  cmd->add_option("--listen", options->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  cmd->add_option("--jobs,-j", options->jobs, "Jobs each pipeline runs at once (default: CPUs)")
      ->type_name("N");
  cmd->add_option("--max-pipelines", options->max_pipelines, "Pipelines run at once")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--runner-lease-timeout", options->runner_lease_timeout_s,
                  "Seconds a remote runner may go unheard before its jobs fail "
                  "(runner_system_failure)")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_option("--replica-id", options->replica_id,
                  "This server's name among servers sharing one PostgreSQL database "
                  "(default: HOST:BUILDS_DIR)")
      ->type_name("ID");
  cmd->add_option("--lease-timeout", options->lease_timeout_s,
                  "Seconds another server sharing the database waits, after this one stops "
                  "renewing its pipelines' leases, before it takes them over")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_option("--builds-dir", options->builds_dir,
                  "Where jobs run, outside the data directory (default: DATA-builds)")
      ->type_name("DIR");
  cmd->add_option("--job-user", options->job_user,
                  "User the jobs run as when the server is root (default: slipway-job; "
                  "root: jobs run as root and can read the server's data)")
      ->type_name("USER");
  cmd->add_flag("--allow-http-includes", options->allow_http_includes,
                "Let pipelines' remote and template includes use plain http:// URLs");
  cmd->add_option("--include-network", options->include_networks,
                  "A network remote includes may reach although it is internal (loopback, "
                  "private, link-local); repeatable")
      ->type_name("CIDR");
  cmd->add_option("--cdevent-sink", options->cdevent_sinks,
                  "Send CDEvents about PROJECT's deployments and incidents (* for every project) "
                  "to URL as CloudEvents; repeatable")
      ->type_name("PROJECT=URL");
  cmd->add_option("--metrics-token-file", options->metrics_token_file,
                  "Require `Authorization: Bearer TOKEN` on /metrics, TOKEN read from FILE")
      ->type_name("FILE");
  cmd->add_option("--tls-cert", options->tls_cert_file,
                  "Serve HTTPS with this PEM certificate chain (with --tls-key)")
      ->type_name("FILE");
  cmd->add_option("--tls-key", options->tls_key_file,
                  "The PEM private key of --tls-cert; readable by its owner only")
      ->type_name("FILE");
  cmd->add_option("--log-level", options->log_level,
                  "Least severity logged on stderr: debug, info, warn or error")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  cmd->add_option("--log-format", options->log_format,
                  "The log's lines on stderr: json (one object per line) or text")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  cmd->callback([options, exit_code] { *exit_code = Serve(*options); });
}

}  // namespace slipway
