// End-to-end: the real `slipway serve` binary, killed with SIGKILL in the
// middle of a job and started again on the same data directory. Pipelines
// are created through the HTTP API and a signed GitHub push webhook; results
// are read back through the API and the SQLite store.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/serve_test_util.h"
#include "store/store.h"
#include "util/containment_test_util.h"
#include "util/test_dir.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using serve_test::HmacSha256Hex;
using serve_test::Http;
using serve_test::HttpReply;
using serve_test::MarkerDir;
using serve_test::RunSlipway;
using serve_test::Server;

TEST(ServeE2eTest, KillNineMidJobThenRestartKeepsResultsAndContinues) {
  TestRepo repo;
  std::string dir = repo.dir() + "-serve";
  fs::create_directories(dir);
  std::string data = dir + "/data";
  std::string mark = MarkerDir(dir) + "/long.pid";
  repo.Write(".gitlab-ci.yml", R"(
quick:
  stage: build
  script: echo quick-done
long:
  stage: test
  script:
    - echo "long started"
    - if [ ! -e ")" + mark + R"(" ]; then echo $$ > ")" +
                                   mark + R"("; sleep 300; fi
    - echo long-finished
after:
  stage: deploy
  script: echo after-done
)");
  std::string sha = repo.Commit("crash me");

  int rc = 0;
  std::string project = RunSlipway(
      {"project", "add", "--data", data, "app", repo.dir(), "--webhook-secret", "s3cret"}, &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(project, "1");
  std::string token =
      RunSlipway({"token", "create", "--data", data, "--name", "e2e", "--role", "admin"}, &rc);
  ASSERT_EQ(rc, 0);
  std::string schedule =
      RunSlipway({"schedule", "add", "--data", data, "1", "--cron", "0 4 * * *", "--cron-timezone",
                  "Europe/Berlin", "--ref", "main", "--description", "nightly"},
                 &rc);
  ASSERT_EQ(rc, 0) << schedule;
  EXPECT_EQ(schedule.rfind("1 next run 20", 0), 0u) << schedule;
  RunSlipway({"schedule", "add", "--data", data, "1", "--cron", "61 * * * *", "--ref", "main"},
             &rc);
  EXPECT_EQ(rc, 2);
  RunSlipway({"schedule", "add", "--data", data, "1", "--cron", "* * * * *", "--cron-timezone",
              "Nowhere/Land", "--ref", "main"},
             &rc);
  EXPECT_EQ(rc, 2);
  RunSlipway({"schedule", "add", "--data", data, "9", "--cron", "* * * * *", "--ref", "main"}, &rc);
  EXPECT_EQ(rc, 1);
  std::vector<std::string> auth = {"PRIVATE-TOKEN: " + token};

  std::string server_log = dir + "/server.log";
  auto server = std::make_unique<Server>(data, server_log);
  int port = server->WaitForPort();
  ASSERT_GT(port, 0) << Slurp(server_log);

  HttpReply first = Http(port, "POST", "/api/v4/projects/1/pipeline?ref=main", auth);
  ASSERT_EQ(first.status, 201) << first.body;
  int64_t first_id = nlohmann::json::parse(first.body)["id"].get<int64_t>();
  // The job writes its pid (its process group) before it sleeps.
  ASSERT_TRUE(WaitFor([&] {
    return fs::exists(mark) && Slurp(mark).find('\n') != std::string::npos;
  })) << Slurp(server_log);
  pid_t job_group = std::atoi(Slurp(mark).c_str());

  // A push webhook (GitHub's shape, signed) while the first pipeline runs:
  // with --max-pipelines 1 it waits in the queue.
  std::string push =
      R"({"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","after":")" +
      sha + R"(","created":true,"deleted":false,"commits":[]})";
  HttpReply unsigned_push = Http(port, "POST", "/hooks/github/1",
                                 {"X-GitHub-Event: push", "Content-Type: application/json"}, push);
  EXPECT_EQ(unsigned_push.status, 401) << unsigned_push.body;
  HttpReply second = Http(port, "POST", "/hooks/github/1",
                          {"X-GitHub-Event: push", "Content-Type: application/json",
                           "X-Hub-Signature-256: sha256=" + HmacSha256Hex("s3cret", push)},
                          push);
  ASSERT_EQ(second.status, 201) << second.body;
  int64_t second_id = nlohmann::json::parse(second.body)["id"].get<int64_t>();

  server->Kill9();
  // In its cgroup the job outlives the server; the restarted server kills
  // it before it resumes anything. (Under a reaper it dies with the server.)
  ASSERT_GT(job_group, 1) << Slurp(mark);
  bool cgroup = DefaultContainment().kind == ContainmentKind::kCgroup;
  if (cgroup) {
    EXPECT_TRUE(ProcessAlive(job_group));
  }

  server = std::make_unique<Server>(data, server_log);
  port = server->WaitForPort();
  ASSERT_GT(port, 0) << Slurp(server_log);
  // Killed before the server listens. Which server kills it is not asserted:
  // any slipway starting on this machine (another test's, under ctest -j)
  // kills job cgroups whose server is gone, and may come first.
  EXPECT_FALSE(ProcessAlive(job_group));

  auto store = OpenStore("sqlite:" + data + "/slipway.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto finished = [&](int64_t id) {
    return WaitFor([&] {
      auto p = (*store)->GetPipeline(id);
      return p.ok() && *p && !IsActive((*p)->status);
    });
  };
  ASSERT_TRUE(finished(first_id)) << Slurp(server_log);
  ASSERT_TRUE(finished(second_id)) << Slurp(server_log);

  JobFilter filter;
  filter.pipeline_id = first_id;
  filter.include_retried = true;
  auto jobs = (*store)->ListJobs(filter);
  ASSERT_TRUE(jobs.ok());
  std::map<std::string, JobRecord> by_name;
  for (const JobRecord& j : jobs->items) by_name[j.name] = j;
  ASSERT_EQ(jobs->items.size(), 3u);
  EXPECT_EQ(by_name["quick"].status, CiStatus::kSuccess);
  EXPECT_EQ(by_name["long"].status, CiStatus::kFailed);
  EXPECT_EQ(by_name["long"].failure_reason, "runner_system_failure");
  EXPECT_EQ(by_name["after"].status, CiStatus::kSkipped);
  auto first_after = (*store)->GetPipeline(first_id);
  EXPECT_EQ((**first_after).status, CiStatus::kFailed);

  // Logs written before the crash are intact, through the API too.
  HttpReply quick_log =
      Http(port, "GET", "/api/v4/projects/1/jobs/" + std::to_string(by_name["quick"].id) + "/trace",
           auth);
  EXPECT_EQ(quick_log.status, 200);
  EXPECT_NE(quick_log.body.find("\nquick-done\n"), std::string::npos) << quick_log.body;
  HttpReply long_log =
      Http(port, "GET", "/api/v4/projects/1/jobs/" + std::to_string(by_name["long"].id) + "/trace",
           auth);
  EXPECT_NE(long_log.body.find("\nlong started\n"), std::string::npos) << long_log.body;
  EXPECT_NE(long_log.body.find("system failure"), std::string::npos) << long_log.body;
  EXPECT_EQ(long_log.body.find("long-finished"), std::string::npos);

  // The pipeline queued at the crash ran after the restart.
  auto second_after = (*store)->GetPipeline(second_id);
  EXPECT_EQ((**second_after).status, CiStatus::kSuccess);
  EXPECT_EQ((**second_after).source, "push");
  EXPECT_EQ((**second_after).sha, sha);
  filter.pipeline_id = second_id;
  auto second_jobs = (*store)->ListJobs(filter);
  ASSERT_TRUE(second_jobs.ok());
  for (const JobRecord& j : second_jobs->items) {
    EXPECT_EQ(j.status, CiStatus::kSuccess) << j.name;
    if (j.name == "long") {
      auto log = (*store)->ReadLog(j.id, 0, 1 << 20);
      EXPECT_NE(log->bytes.find("\nlong-finished\n"), std::string::npos) << log->bytes;
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ProcessAlive(job_group)) kill(-job_group, SIGKILL);  // Only if the test failed above.
}

// A project "app" whose pipeline is yaml, in a new data directory, and an
// admin token for it; the server is started by the test.
struct ServedProject {
  explicit ServedProject(const std::string& yaml) {
    repo.Write(".gitlab-ci.yml", yaml);
    repo.Commit("pipeline");
    dir = repo.dir() + "-serve";
    fs::create_directories(dir);
    data = dir + "/data";
    log = dir + "/server.log";
    int rc = 0;
    RunSlipway({"project", "add", "--data", data, "app", repo.dir()}, &rc);
    EXPECT_EQ(rc, 0);
    token = RunSlipway({"token", "create", "--data", data, "--name", "t", "--role", "admin"}, &rc);
    EXPECT_EQ(rc, 0);
  }
  ~ServedProject() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::vector<std::string> Auth() const { return {"PRIVATE-TOKEN: " + token}; }
  // Creates a pipeline through the API; returns its id.
  int64_t CreatePipeline(int port) const {
    HttpReply created = Http(port, "POST", "/api/v4/projects/1/pipeline?ref=main", Auth());
    EXPECT_EQ(created.status, 201) << created.body;
    return created.status == 201 ? nlohmann::json::parse(created.body)["id"].get<int64_t>() : 0;
  }
  // Waits for the pipeline to end; returns its status ("" on a timeout).
  std::string WaitFinished(int port, int64_t id) const {
    std::string status;
    WaitFor([&] {
      HttpReply r = Http(port, "GET", "/api/v4/projects/1/pipelines/" + std::to_string(id), Auth());
      if (r.status != 200) return false;
      status = nlohmann::json::parse(r.body)["status"].get<std::string>();
      return status != "created" && status != "pending" && status != "running";
    });
    return status;
  }
  std::string Trace(int port, int64_t pipeline_id) const {
    HttpReply jobs =
        Http(port, "GET", "/api/v4/projects/1/pipelines/" + std::to_string(pipeline_id) + "/jobs",
             Auth());
    int64_t job_id = nlohmann::json::parse(jobs.body)[0]["id"].get<int64_t>();
    return Http(port, "GET", "/api/v4/projects/1/jobs/" + std::to_string(job_id) + "/trace", Auth())
        .body;
  }

  TestRepo repo;
  std::string dir, data, log, token;
};

// A connection the server has accepted and keeps open (an unfinished
// request), so that it holds an accepted socket.
int OpenIdleConnection(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  const char partial[] = "GET /api/v4/version HTTP/1.1\r\n";
  (void)!write(fd, partial, sizeof partial - 1);
  return fd;
}

// The descriptors above 2 of pid whose flags (fdinfo, octal) lack O_CLOEXEC.
std::vector<std::string> DescriptorsWithoutCloseOnExec(pid_t pid) {
  std::vector<std::string> found;
  std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    int fd = std::atoi(e.path().filename().c_str());
    if (fd <= 2) continue;
    std::string info = Slurp(e.path().string());
    size_t at = info.find("flags:");
    if (at == std::string::npos) continue;  // Closed meanwhile.
    unsigned long flags = std::strtoul(info.c_str() + at + 6, nullptr, 8);
    if ((flags & O_CLOEXEC) == 0) {
      std::error_code ec;
      found.push_back(
          std::to_string(fd) + " -> " +
          fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd), ec)
              .string());
    }
  }
  return found;
}

// The server's listening socket, its accepted connections, its database
// and log files: every descriptor it holds is close-on-exec, and a job
// (which starts while a connection is open) sees 0, 1 and 2 only.
TEST(ServeE2eTest, JobsSeeNoServerDescriptorAndServerDescriptorsAreCloseOnExec) {
  ServedProject project("fds:\n  script: ls -l /proc/self/fd\n");
  Server server(project.data, project.log);
  int port = server.WaitForPort();
  ASSERT_GT(port, 0) << Slurp(project.log);
  int idle = OpenIdleConnection(port);
  ASSERT_GE(idle, 0);
  int64_t id = project.CreatePipeline(port);
  EXPECT_EQ(project.WaitFinished(port, id), "success") << Slurp(project.log);
  std::string trace = project.Trace(port, id);
  EXPECT_THAT(UnexpectedDescriptors(trace), ::testing::IsEmpty()) << trace;
  EXPECT_THAT(DescriptorsWithoutCloseOnExec(server.pid()), ::testing::IsEmpty());
  close(idle);
}

// Replicas sharing a PostgreSQL database (docs/replicas.md, "Remote
// runners"): a pipeline lease shorter than two thirds of the runner lease
// plus a second would let a replica rerun a dead one's jobs before its
// runners gave them up. Refused before the database is opened (none listens
// here); SQLite (one server) takes any pair.
TEST(ServeE2eTest, ALeaseTimeoutRunnersCannotKeepUpWithStopsAReplicasStart) {
  TempDir dir;
  // Jobs of a root server pass through to DATA-builds (docs/server.md).
  ASSERT_EQ(chmod(dir.path().c_str(), 0711), 0);
  const std::string postgres = "postgresql://127.0.0.1:1/none";
  auto serve = [&](std::vector<std::string> args, std::string* err) {
    args.insert(args.begin(), {"serve", "--data", dir.Sub("data"), "--listen", "127.0.0.1:0"});
    int rc = 0;
    RunSlipway(args, &rc, err);
    return rc;
  };
  std::string err;
  EXPECT_EQ(serve({"--database", postgres, "--lease-timeout", "3"}, &err), 2);
  EXPECT_EQ(err,
            "slipway: --lease-timeout 3 is too short for --runner-lease-timeout 30: another "
            "replica could rerun a dead replica's jobs before its runners gave them up; give "
            "--lease-timeout at least 21 (two thirds of --runner-lease-timeout plus a second) "
            "or --runner-lease-timeout at most 3\n");
  EXPECT_EQ(serve({"--database", postgres, "--lease-timeout", "20"}, &err), 2);
  EXPECT_EQ(
      serve({"--database", postgres, "--lease-timeout", "1", "--runner-lease-timeout", "1"}, &err),
      2);
  EXPECT_THAT(err, ::testing::EndsWith("at least 2 (two thirds of --runner-lease-timeout plus "
                                       "a second)\n"));
  // Exactly enough: on to the database, which is not there.
  EXPECT_EQ(
      serve({"--database", postgres, "--lease-timeout", "3", "--runner-lease-timeout", "3"}, &err),
      1);
  EXPECT_THAT(err, ::testing::Not(::testing::HasSubstr("--lease-timeout")));
  EXPECT_EQ(serve({"--database", postgres, "--lease-timeout", "21"}, &err), 1);
  EXPECT_THAT(err, ::testing::Not(::testing::HasSubstr("--lease-timeout")));
  Server sqlite(dir.Sub("data"), dir.Sub("sqlite.log"), "127.0.0.1:0", {},
                {"--lease-timeout", "1", "--runner-lease-timeout", "60"});
  EXPECT_GT(sqlite.WaitForPort(), 0) << Slurp(dir.Sub("sqlite.log"));
}

// The server's path of containment is on its start-up log line.
TEST(ServeE2eTest, StartUpSaysHowJobProcessesAreContained) {
  ServedProject project("noop:\n  script: 'true'\n");
  Server server(project.data, project.log, "127.0.0.1:0", {"SLIPWAY_NO_CGROUP=1"});
  ASSERT_GT(server.WaitForPort(), 0) << Slurp(project.log);
  EXPECT_THAT(Slurp(project.log),
              ::testing::HasSubstr("\"event\":\"server_started\",\"url\":\"http://127.0.0.1:"));
  EXPECT_THAT(Slurp(project.log),
              ::testing::HasSubstr("\"containment\":\"a reaper process per job (no cgroup: "
                                   "SLIPWAY_NO_CGROUP is set)\"}\n"));
}

// A job that leaves a process running past a server killed with SIGKILL
// does not keep the server's port: the listening socket never reached it.
TEST(ServeE2eTest, AProcessAJobLeftDoesNotKeepTheServersPort) {
  ServedProject project("");
  std::string pid_file = MarkerDir(project.dir) + "/background.pid";
  project.repo.Write(".gitlab-ci.yml", "long:\n  script:\n    - sleep 1000 &\n    - echo $! > " +
                                           pid_file + "\n    - sleep 1000\n");
  project.repo.Commit("long job");
  auto server = std::make_unique<Server>(project.data, project.log);
  int port = server->WaitForPort();
  ASSERT_GT(port, 0) << Slurp(project.log);
  project.CreatePipeline(port);
  ASSERT_TRUE(WaitFor([&] { return Slurp(pid_file).find('\n') != std::string::npos; }));
  pid_t background = std::atoi(Slurp(pid_file).c_str());
  server->Kill9();

  // Whether or not the job still runs (in its cgroup it does, until a
  // server restarts), nothing holds the port.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
      << std::strerror(errno) << "; the job's process " << background
      << (ProcessAlive(background) ? " runs" : " is gone");
  close(fd);
  server = std::make_unique<Server>(project.data, project.log, "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(server->WaitForPort(), port) << Slurp(project.log);
  EXPECT_FALSE(ProcessAlive(background));
}

// Cancel through the API: the job and everything it started, escaped or
// not, is gone once the job is canceled; with a cgroup and with a reaper.
class ServeContainmentTest : public ::testing::TestWithParam<bool> {};

TEST_P(ServeContainmentTest, CancelThroughTheApiKillsEverythingTheJobStarted) {
  bool reaper = GetParam();
  if (!reaper && DefaultContainment().kind != ContainmentKind::kCgroup) {
    GTEST_SKIP() << "no cgroup v2 here: " << DefaultContainment().Describe();
  }
  ServedProject project("");
  std::string pids = MarkerDir(project.dir);
  std::string script = EscapingCommands(pids) + "echo ready > " + pids + "/ready\nsleep 1000\n";
  std::string yaml = "long:\n  script:\n    - |\n";
  for (size_t start = 0; start < script.size();) {
    size_t end = script.find('\n', start);
    yaml += "      " + script.substr(start, end - start) + "\n";
    start = end + 1;
  }
  project.repo.Write(".gitlab-ci.yml", yaml);
  project.repo.Commit("escaping job");
  Server server(project.data, project.log, "127.0.0.1:0",
                {reaper ? "SLIPWAY_NO_CGROUP=1" : "SLIPWAY_NO_CGROUP=0"});
  int port = server.WaitForPort();
  ASSERT_GT(port, 0) << Slurp(project.log);
  int64_t id = project.CreatePipeline(port);
  ASSERT_TRUE(WaitFor([&] { return fs::exists(pids + "/ready"); })) << Slurp(project.log);
  HttpReply canceled =
      Http(port, "POST", "/api/v4/projects/1/pipelines/" + std::to_string(id) + "/cancel",
           project.Auth());
  EXPECT_EQ(canceled.status, 201) << canceled.body;  // Grape's default for a POST.
  EXPECT_EQ(project.WaitFinished(port, id), "canceled");
  for (pid_t pid : EscapedPids(pids)) {
    EXPECT_FALSE(ProcessAlive(pid)) << "pid " << pid << " outlived the canceled job";
    if (ProcessAlive(pid)) kill(pid, SIGKILL);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, ServeContainmentTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Reaper" : "Cgroup"; });

}  // namespace
}  // namespace slipway
