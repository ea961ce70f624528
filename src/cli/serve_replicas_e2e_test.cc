// End-to-end: two real `slipway serve` processes on one real PostgreSQL
// database and one data directory, each with its own builds directory
// (docs/replicas.md). Skipped without SLIPWAY_TEST_POSTGRES_URL
// (scripts/postgres.sh start).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "cli/serve_test_util.h"
#include "server/test_http_recorder.h"
#include "store/libpq.h"
#include "store/store.h"
#include "util/test_dir.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using serve_test::Http;
using serve_test::HttpReply;
using serve_test::MarkerDir;
using serve_test::RunSlipway;
using serve_test::Server;

// A fresh schema of the test server's database, dropped at the end, and
// the URL that selects it (libpq's options parameter sets search_path).
class PostgresSchema {
 public:
  bool Open() {
    const char* url = std::getenv("SLIPWAY_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') return false;
    base_ = url;
    std::random_device random;
    name_ = "replicas_" + std::to_string(getpid()) + "_" + std::to_string(random());
    Exec("CREATE SCHEMA \"" + name_ + "\"");
    url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           name_;
    return true;
  }
  ~PostgresSchema() {
    if (!name_.empty()) Exec("DROP SCHEMA IF EXISTS \"" + name_ + "\" CASCADE");
  }
  const std::string& url() const { return url_; }

 private:
  void Exec(const std::string& sql) {
    StatusOr<const LibPq*> pq = LoadLibPq();
    ASSERT_TRUE(pq.ok()) << pq.status().message();
    PGconn* conn = (*pq)->PQconnectdb(base_.c_str());
    (*pq)->PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    (*pq)->PQclear((*pq)->PQexec(conn, sql.c_str()));
    (*pq)->PQfinish(conn);
  }
  std::string base_;
  std::string name_;
  std::string url_;
};

// A live log (GET …/trace/stream) read on a thread of its own as it comes.
class SseWatcher {
 public:
  SseWatcher(int port, const std::string& target, const std::string& auth)
      : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + "\r\n\r\n";
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        write(fd_, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      return;
    }
    reader_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd_, buf, sizeof buf)) > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        text_.append(buf, static_cast<size_t>(n));
      }
    });
  }
  ~SseWatcher() {
    shutdown(fd_, SHUT_RDWR);
    if (reader_.joinable()) reader_.join();
    close(fd_);
  }
  bool Has(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    return text_.find(what) != std::string::npos;
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 private:
  int fd_;
  std::mutex mu_;
  std::string text_;
  std::thread reader_;
};

class ServeReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!schema_.Open()) {
      GTEST_SKIP() << "SLIPWAY_TEST_POSTGRES_URL is not set; start a server with "
                      "`export SLIPWAY_TEST_POSTGRES_URL=$(scripts/postgres.sh start)`";
    }
    dir_ = repo_.dir() + "-replicas";
    fs::create_directories(dir_);
    data_ = dir_ + "/data";
    marks_ = MarkerDir(dir_);
  }
  void TearDown() override {
    replicas_.clear();
    // A job a killed replica left runs on in its cgroup until a slipway on
    // this machine starts (the replica's own restart kills it): ended here.
    if (left_job_group_ > 1 && ProcessAlive(left_job_group_)) kill(-left_job_group_, SIGKILL);
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // `slipway ARGS --data DATA --database URL`; its stdout.
  std::string Admin(std::vector<std::string> args) {
    args.insert(args.end(), {"--data", data_, "--database", schema_.url()});
    int rc = 0;
    std::string out = RunSlipway(args, &rc);
    EXPECT_EQ(rc, 0) << out;
    return out;
  }

  // Registers the repository with pipeline yaml as project 1; an admin
  // token's header.
  std::vector<std::string> AddProject(const std::string& yaml,
                                      const std::string& executor = "shell") {
    repo_.Write(".gitlab-ci.yml", yaml);
    repo_.Commit("pipeline");
    EXPECT_EQ(Admin({"project", "add", "app", repo_.dir(), "--executor", executor}), "1");
    return {"PRIVATE-TOKEN: " + Admin({"token", "create", "--name", "e2e", "--role", "admin"})};
  }

  // Replica `id` on the shared data directory and database, with its own
  // builds directory, a 3 s lease and a 2 s runner lease (unless extra says
  // otherwise: serve refuses a lease shorter than 2/3 of the runner lease
  // plus 1 s); its port.
  int StartReplica(const std::string& id, std::vector<std::string> extra = {},
                   const std::vector<std::string>& env = {}) {
    std::string log = dir_ + "/" + id + ".log";
    if (std::find(extra.begin(), extra.end(), "--lease-timeout") == extra.end()) {
      extra.insert(extra.end(), {"--lease-timeout", "3"});
    }
    if (std::find(extra.begin(), extra.end(), "--runner-lease-timeout") == extra.end()) {
      extra.insert(extra.end(), {"--runner-lease-timeout", "2"});
    }
    extra.insert(extra.end(), {"--database", schema_.url(), "--builds-dir", dir_ + "/builds-" + id,
                               "--replica-id", id});
    replicas_[id] = std::make_unique<Server>(data_, log, "127.0.0.1:0", env, extra);
    return replicas_[id]->WaitForPort();
  }
  // Replicas a and b as StartReplica starts them, their ports in a_ and b_.
  void StartAB() {
    a_ = StartReplica("a");
    ASSERT_GT(a_, 0) << Log("a");
    b_ = StartReplica("b");
    ASSERT_GT(b_, 0) << Log("b");
  }
  // As StartAB, b's timer looking once an hour (and its leases as long):
  // only a notice wakes b.
  void StartAAndSleepingB() {
    a_ = StartReplica("a");
    ASSERT_GT(a_, 0) << Log("a");
    b_ = StartReplica("b", {"--lease-timeout", "3600"}, {"SLIPWAY_TEST_TIMER_MS=3600000"});
    ASSERT_GT(b_, 0) << Log("b");
  }
  // A pipeline for main created through port: its id.
  std::string NewPipeline(int port, const std::vector<std::string>& auth) {
    HttpReply created = Http(port, "POST", "/api/v4/projects/1/pipeline?ref=main", auth);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.status == 201 ? nlohmann::json::parse(created.body)["id"].dump() : "0";
  }
  // The jobs of pipeline id (through port), name -> latest attempt.
  std::map<std::string, nlohmann::json> Jobs(int port, const std::string& id,
                                             const std::vector<std::string>& auth) {
    HttpReply jobs = Http(port, "GET", "/api/v4/projects/1/pipelines/" + id + "/jobs", auth);
    std::map<std::string, nlohmann::json> out;
    if (jobs.status != 200) return out;
    for (const auto& job : nlohmann::json::parse(jobs.body)) out[job["name"]] = job;
    return out;
  }
  std::string Log(const std::string& id) { return Slurp(dir_ + "/" + id + ".log"); }

  PostgresSchema schema_;
  TestRepo repo_;
  std::string dir_, data_, marks_;
  std::map<std::string, std::unique_ptr<Server>> replicas_;
  int a_ = 0, b_ = 0;  // StartAB's ports.
  pid_t left_job_group_ = 0;
};

TEST_F(ServeReplicasTest, KillNineOfOneReplicaLetsTheOtherTakeItsPipelineOver) {
  std::string pid_file = marks_ + "/long.pid";
  std::vector<std::string> auth = AddProject(R"(
quick:
  stage: build
  script:
    - echo "$CI_JOB_ID" >> )" + marks_ + R"(/quick.runs
    - echo quick-done
long:
  stage: test
  retry:
    max: 1
    when: runner_system_failure
  script:
    - echo "long started"
    - if [ ! -e )" + pid_file + R"( ]; then echo $$ > )" +
                                             pid_file +
                                             R"(; sleep 300; fi
    - echo long-finished
after:
  stage: deploy
  script: echo after-done
)");
  int a = StartReplica("a");
  ASSERT_GT(a, 0) << Log("a");
  int b = StartReplica("b");
  ASSERT_GT(b, 0) << Log("b");

  HttpReply created = Http(a, "POST", "/api/v4/projects/1/pipeline?ref=main", auth);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = std::to_string(nlohmann::json::parse(created.body)["id"].get<int64_t>());
  ASSERT_TRUE(WaitFor([&] {
    return fs::exists(pid_file) && Slurp(pid_file).find('\n') != std::string::npos;
  })) << Log("a");
  left_job_group_ = std::atoi(Slurp(pid_file).c_str());

  // Created through a, seen through b, with the log a's job wrote.
  HttpReply seen = Http(b, "GET", "/api/v4/projects/1/pipelines/" + id, auth);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(nlohmann::json::parse(seen.body)["status"], "running");
  HttpReply jobs = Http(b, "GET", "/api/v4/projects/1/pipelines/" + id + "/jobs", auth);
  ASSERT_EQ(jobs.status, 200) << jobs.body;
  std::map<std::string, int64_t> job_ids;
  for (const auto& job : nlohmann::json::parse(jobs.body)) {
    job_ids[job["name"].get<std::string>()] = job["id"].get<int64_t>();
  }
  ASSERT_EQ(job_ids.size(), 3u) << jobs.body;
  HttpReply quick_log = Http(
      b, "GET", "/api/v4/projects/1/jobs/" + std::to_string(job_ids["quick"]) + "/trace", auth);
  EXPECT_EQ(quick_log.status, 200);
  EXPECT_NE(quick_log.body.find("\nquick-done\n"), std::string::npos) << quick_log.body;

  // a dies mid-job; b takes the pipeline over once a's lease (3 s) ends:
  // the interrupted job fails (runner_system_failure), its retry runs on b.
  replicas_["a"]->Kill9();
  auto status = [&] {
    HttpReply p = Http(b, "GET", "/api/v4/projects/1/pipelines/" + id, auth);
    return p.status == 200 ? nlohmann::json::parse(p.body)["status"].get<std::string>() : "";
  };
  ASSERT_TRUE(WaitFor([&] { return status() == "success"; })) << status() << "\n" << Log("b");
  EXPECT_NE(Log("b").find("pipeline_taken_over"), std::string::npos) << Log("b");

  jobs = Http(b, "GET", "/api/v4/projects/1/pipelines/" + id + "/jobs?include_retried=true", auth);
  ASSERT_EQ(jobs.status, 200) << jobs.body;
  std::map<std::string, std::vector<nlohmann::json>> attempts;
  for (const auto& job : nlohmann::json::parse(jobs.body)) {
    attempts[job["name"].get<std::string>()].push_back(job);
  }
  ASSERT_EQ(attempts["quick"].size(), 1u) << jobs.body;
  ASSERT_EQ(attempts["after"].size(), 1u) << jobs.body;
  ASSERT_EQ(attempts["long"].size(), 2u) << jobs.body;
  std::map<std::string, nlohmann::json> long_by_status;
  for (const auto& job : attempts["long"]) long_by_status[job["status"]] = job;
  ASSERT_EQ(long_by_status.count("failed"), 1u) << jobs.body;
  EXPECT_EQ(long_by_status["failed"]["failure_reason"], "runner_system_failure");
  ASSERT_EQ(long_by_status.count("success"), 1u) << jobs.body;
  // Each job's script ran once (the interrupted attempt aside).
  EXPECT_EQ(Slurp(marks_ + "/quick.runs"), std::to_string(job_ids["quick"]) + "\n");
  // Nothing a wrote is lost: the interrupted attempt's log, with what b added.
  HttpReply long_log =
      Http(b, "GET", "/api/v4/projects/1/jobs/" + long_by_status["failed"]["id"].dump() + "/trace",
           auth);
  EXPECT_NE(long_log.body.find("\nlong started\n"), std::string::npos) << long_log.body;
  EXPECT_NE(long_log.body.find("system failure"), std::string::npos) << long_log.body;
}

TEST_F(ServeReplicasTest, AScheduleFiresOnceWithTwoReplicas) {
  std::vector<std::string> auth = AddProject("hello:\n  script: echo hello\n");
  // Due at once: next_run_at in the past, as a schedule whose time came.
  Admin({"schedule", "add", "1", "--cron", "0 4 * * *", "--ref", "main"});
  {
    auto store = OpenStore(schema_.url());
    ASSERT_TRUE(store.ok()) << store.status().message();
    auto schedules = (*store)->ListSchedules(1);
    ASSERT_TRUE(schedules.ok() && schedules->size() == 1u);
    ScheduleRecord due = schedules->at(0);
    due.next_run_at = 1000;
    ASSERT_TRUE((*store)->UpdateSchedule(due).ok());
  }
  int a = StartReplica("a");
  ASSERT_GT(a, 0) << Log("a");
  int b = StartReplica("b");
  ASSERT_GT(b, 0) << Log("b");
  auto store = OpenStore(schema_.url());
  ASSERT_TRUE(store.ok()) << store.status().message();
  // Fired once it moved on (next_run_at in the future): no replica can fire
  // that run again, and only the one that moved it created a pipeline.
  ASSERT_TRUE(WaitFor([&] {
    auto s = (*store)->GetSchedule(1);
    return s.ok() && *s && (*s)->next_run_at && *(*s)->next_run_at > 1000 &&
           (*s)->last_pipeline_id.has_value();
  })) << Log("a")
      << Log("b");
  PipelineFilter filter;
  filter.project_id = 1;
  auto pipelines = (*store)->ListPipelines(filter);
  ASSERT_TRUE(pipelines.ok()) << pipelines.status().message();
  ASSERT_EQ(pipelines->items.size(), 1u);
  EXPECT_EQ(pipelines->items[0].source, "schedule");
  HttpReply listed = Http(b, "GET", "/api/v4/projects/1/pipelines", auth);
  EXPECT_EQ(nlohmann::json::parse(listed.body).size(), 1u) << listed.body;
}

// Commit statuses and project hooks with two replicas: each replica
// follows the database, and the one that claims a change sends it
// (docs/replicas.md "Publishers"): the forge and the hook receiver (a local
// server standing in for both) get each status once.
TEST_F(ServeReplicasTest, EachCommitStatusAndHookIsSentByOneReplica) {
  TestHttpRecorder receiver;
  setenv("SLIPWAY_E2E_FORGE_TOKEN", "forge-secret", 1);
  repo_.Write(".gitlab-ci.yml",
              "build:\n  stage: build\n  script: echo build\n"
              "test:\n  stage: test\n  script: echo test\n");
  repo_.Commit("pipeline");
  EXPECT_EQ(Admin({"project", "add", "app", repo_.dir(), "--forge", "gitlab", "--forge-url",
                   receiver.Url("/api/v4"), "--forge-project", "group/app", "--forge-token-env",
                   "SLIPWAY_E2E_FORGE_TOKEN"}),
            "1");
  std::vector<std::string> auth = {"PRIVATE-TOKEN: " +
                                   Admin({"token", "create", "--name", "e2e", "--role", "admin"})};
  int a = StartReplica("a");
  ASSERT_GT(a, 0) << Log("a");
  int b = StartReplica("b");
  ASSERT_GT(b, 0) << Log("b");
  HttpReply hook = Http(
      b, "POST", "/api/v4/projects/1/hooks", auth,
      R"({"url":")" + receiver.Url("/hook") + R"(","pipeline_events":true,"job_events":true})");
  ASSERT_EQ(hook.status, 201) << hook.body;

  auto run = [&](int port) {
    HttpReply created = Http(port, "POST", "/api/v4/projects/1/pipeline?ref=main", auth);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.status == 201 ? nlohmann::json::parse(created.body)["id"].get<int64_t>() : 0;
  };
  // What the receiver got about pipeline id: "status STATE" per commit
  // status, "pipeline STATE" per pipeline hook, "job NAME STATE" per job hook.
  auto got = [&](int64_t id) {
    std::map<std::string, int> out;
    for (const nlohmann::json& r : receiver.Requests()) {
      nlohmann::json body = nlohmann::json::parse(r["body"].get<std::string>());
      std::string event = r["headers"].value("x-gitlab-event", "");
      if (r["path"].get<std::string>().starts_with("/api/v4/") &&
          body["target_url"].get<std::string>().ends_with("/-/pipelines/" + std::to_string(id))) {
        ++out["status " + body["state"].get<std::string>()];
      } else if (event == "Pipeline Hook" && body["object_attributes"]["id"] == id) {
        ++out["pipeline " + body["object_attributes"]["status"].get<std::string>()];
      } else if (event == "Job Hook" && body["pipeline_id"] == id) {
        ++out["job " + body["build_name"].get<std::string>() + " " +
              body["build_status"].get<std::string>()];
      }
    }
    return out;
  };
  auto finished = [&](int64_t id) {
    std::map<std::string, int> seen = got(id);
    return seen.count("status success") && seen.count("pipeline success") &&
           seen.count("job build success") && seen.count("job test success");
  };
  int64_t first = run(a);
  ASSERT_TRUE(WaitFor([&] { return finished(first); })) << Log("a") << Log("b");
  // Both replicas scan on while a second pipeline runs through the other:
  // a replica that sent what it did not claim would have by its end.
  int64_t second = run(b);
  ASSERT_TRUE(WaitFor([&] { return finished(second); })) << Log("a") << Log("b");
  std::map<std::string, int> seen = got(first);
  for (const auto& [what, count] : seen) EXPECT_EQ(count, 1) << what;
  EXPECT_EQ(seen["status success"], 1);
  EXPECT_EQ(seen["pipeline success"], 1);
  EXPECT_EQ(seen["job build success"], 1);
  EXPECT_EQ(seen["job test success"], 1);
  // The forge's token travelled in its header only.
  for (const nlohmann::json& r : receiver.Requests()) {
    if (r["path"].get<std::string>().starts_with("/api/v4/")) {
      EXPECT_EQ(r["headers"]["private-token"], "forge-secret");
    }
  }
}

TEST_F(ServeReplicasTest, ACancelThroughAnotherReplicaKillsTheJobOnItsOwner) {
  std::string pids = marks_ + "/long.pids";
  std::vector<std::string> auth = AddProject(R"(
long:
  script:
    - sleep 300 &
    - echo "$$ $!" > )" + pids + R"(.tmp && mv )" +
                                             pids + R"(.tmp )" + pids + R"(
    - wait
)");
  ASSERT_NO_FATAL_FAILURE(StartAB());
  const std::string id = NewPipeline(a_, auth);
  ASSERT_TRUE(WaitFor([&] { return fs::exists(pids); })) << Log("a");
  pid_t shell = 0, sleeper = 0;
  std::sscanf(Slurp(pids).c_str(), "%d %d", &shell, &sleeper);
  ASSERT_GT(shell, 1);
  ASSERT_GT(sleeper, 1);
  left_job_group_ = shell;
  ASSERT_TRUE(ProcessAlive(sleeper));

  // Through b, which does not run it: a's processes end, b answers as
  // GitLab does (201, the job).
  const std::string job = Jobs(b_, id, auth)["long"]["id"].dump();
  HttpReply canceled = Http(b_, "POST", "/api/v4/projects/1/jobs/" + job + "/cancel", auth);
  ASSERT_EQ(canceled.status, 201) << canceled.body << Log("b");
  EXPECT_EQ(nlohmann::json::parse(canceled.body)["id"].dump(), job);
  ASSERT_TRUE(WaitFor([&] { return !ProcessAlive(sleeper) && !ProcessAlive(shell); }));
  ASSERT_TRUE(WaitFor([&] { return Jobs(b_, id, auth)["long"]["status"] == "canceled"; }))
      << Log("a");
  EXPECT_NE(Log("a").find("\"action\":\"cancel_job\""), std::string::npos) << Log("a");
  EXPECT_EQ(Log("b").find("\"action\":\"cancel_job\""), std::string::npos) << Log("b");
}

TEST_F(ServeReplicasTest, ARetryThroughAnotherReplicaRunsOnThePipelinesOwner) {
  std::string stop = marks_ + "/stop";
  std::vector<std::string> auth = AddProject(R"(
fails:
  script:
    - echo run >> )" + marks_ + R"(/fails.runs
    - exit 1
long:
  script:
    - while [ ! -e )" + stop + R"( ]; do sleep 0.1; done
)");
  ASSERT_NO_FATAL_FAILURE(StartAB());
  const std::string id = NewPipeline(a_, auth);
  ASSERT_TRUE(WaitFor([&] {
    auto jobs = Jobs(b_, id, auth);
    return jobs["fails"]["status"] == "failed" && jobs["long"]["status"] == "running";
  })) << Log("a");

  HttpReply retried = Http(b_, "POST", "/api/v4/projects/1/pipelines/" + id + "/retry", auth);
  ASSERT_EQ(retried.status, 201) << retried.body << Log("b");
  EXPECT_EQ(nlohmann::json::parse(retried.body)["id"].dump(), id);
  ASSERT_TRUE(WaitFor([&] { return Slurp(marks_ + "/fails.runs") == "run\nrun\n"; })) << Log("a");
  EXPECT_NE(Log("a").find("\"action\":\"retry_pipeline\""), std::string::npos) << Log("a");
  // The retry ran in a's builds directory: the pipeline stayed a's.
  std::ofstream(stop).close();
  ASSERT_TRUE(WaitFor([&] {
    HttpReply p = Http(b_, "GET", "/api/v4/projects/1/pipelines/" + id, auth);
    return p.status == 200 && nlohmann::json::parse(p.body)["status"] == "failed";
  }));
  HttpReply all =
      Http(b_, "GET", "/api/v4/projects/1/pipelines/" + id + "/jobs?include_retried=true", auth);
  EXPECT_EQ(nlohmann::json::parse(all.body).size(), 3u) << all.body;
  EXPECT_TRUE(fs::exists(dir_ + "/builds-a/1"));
  EXPECT_FALSE(fs::exists(dir_ + "/builds-b/1"));
}

// a dies while b's cancel waits for it: b takes the pipeline over (3 s
// lease) and answers the request itself, as the owner now; the job a ran
// failed when a died, so the cancel is refused, saying so.
TEST_F(ServeReplicasTest, AnActionWaitingForAReplicaThatDiesIsAnsweredByTheOneTakingOver) {
  std::string pid_file = marks_ + "/long.pid";
  std::vector<std::string> auth = AddProject(R"(
long:
  script:
    - echo $$ > )" + pid_file + R"(.tmp && mv )" +
                                             pid_file + R"(.tmp )" + pid_file + R"(
    - sleep 300
)");
  ASSERT_NO_FATAL_FAILURE(StartAB());
  const std::string id = NewPipeline(a_, auth);
  ASSERT_TRUE(WaitFor([&] { return fs::exists(pid_file); })) << Log("a");
  left_job_group_ = std::atoi(Slurp(pid_file).c_str());
  const std::string job = Jobs(b_, id, auth)["long"]["id"].dump();
  replicas_["a"]->Kill9();
  HttpReply canceled = Http(b_, "POST", "/api/v4/projects/1/jobs/" + job + "/cancel", auth);
  EXPECT_EQ(canceled.status, 400) << canceled.body;
  EXPECT_NE(canceled.body.find("job " + job + " cannot be canceled: it is failed"),
            std::string::npos)
      << canceled.body << Log("b");
  EXPECT_NE(Log("b").find("\"action\":\"cancel_job\""), std::string::npos) << Log("b");
  EXPECT_NE(Log("b").find("pipeline_taken_over"), std::string::npos) << Log("b");
}

// b's timer looks once an hour: only a's notice can make b claim the
// pipeline a leaves free while its one worker is busy.
TEST_F(ServeReplicasTest, AnIdleReplicaClaimsAFreePipelineOnItsNotice) {
  std::string stop = marks_ + "/stop";
  std::vector<std::string> auth = AddProject(R"(
work:
  script:
    - if [ "$CI_PIPELINE_IID" = 1 ]; then while [ ! -e )" +
                                             stop +
                                             R"( ]; do sleep 0.1; done; fi
    - echo "$CI_PIPELINE_IID" >> )" + marks_ +
                                             R"(/done
)");
  ASSERT_NO_FATAL_FAILURE(StartAAndSleepingB());
  const std::string first_id = NewPipeline(a_, auth);
  ASSERT_TRUE(WaitFor([&] { return Jobs(a_, first_id, auth)["work"]["status"] == "running"; }));
  // a's only worker is busy: the second pipeline is left free, and b runs it.
  const std::string second_id = NewPipeline(a_, auth);
  ASSERT_TRUE(WaitFor([&] {
    HttpReply p = Http(a_, "GET", "/api/v4/projects/1/pipelines/" + second_id, auth);
    return p.status == 200 && nlohmann::json::parse(p.body)["status"] == "success";
  })) << Log("a")
      << Log("b");
  EXPECT_EQ(Slurp(marks_ + "/done"), "2\n");
  EXPECT_EQ(Jobs(a_, first_id, auth)["work"]["status"], "running");
  EXPECT_TRUE(fs::exists(dir_ + "/builds-b/1"));
  std::ofstream(stop).close();
  ASSERT_TRUE(WaitFor([&] { return Slurp(marks_ + "/done") == "2\n1\n"; })) << Log("a");
}

// A runner of both replicas (`--url A --url B --concurrency 1`) tells each
// its free slots on the connection it has (POST /api/v4/runners/slots,
// logged by the server as runner_slots) rather than by connecting again:
// each replica sees it connect once, and b's job waiting for the slot a's
// job holds is pushed the moment that job ends.
TEST_F(ServeReplicasTest, ARunnerOfBothReplicasChangesItsSlotsWithoutReconnecting) {
  std::string stop = marks_ + "/stop";
  std::vector<std::string> auth = AddProject(R"(
work:
  script:
    - if [ "$CI_PIPELINE_IID" = 1 ]; then touch )" +
                                                 marks_ + R"(/started; while [ ! -e )" + stop +
                                                 R"( ]; do sleep 0.1; done; fi
    - echo "$CI_PIPELINE_IID" >> )" + marks_ + R"(/done
)",
                                             "remote");
  std::string token = Admin({"token", "create", "--name", "box", "--role", "runner"});
  a_ = StartReplica("a", {"--log-level", "debug"});
  ASSERT_GT(a_, 0) << Log("a");
  b_ = StartReplica("b", {"--log-level", "debug"});
  ASSERT_GT(b_, 0) << Log("b");
  struct Runner {
    pid_t pid;
    ~Runner() {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } runner{serve_test::SpawnSlipway({"runner", "--url", "http://127.0.0.1:" + std::to_string(a_),
                                     "--url", "http://127.0.0.1:" + std::to_string(b_), "--token",
                                     token, "--concurrency", "1", "--dir", dir_ + "/runner"},
                                    dir_ + "/runner.log")};
  auto logged = [&](const std::string& id, const std::string& what) {
    return Log(id).find(what) != std::string::npos;
  };
  ASSERT_TRUE(WaitFor([&] {
    return logged("a", "runner_connected") && logged("b", "runner_connected");
  })) << Slurp(dir_ + "/runner.log");
  const std::string first_id = NewPipeline(a_, auth);
  ASSERT_TRUE(WaitFor([&] { return fs::exists(marks_ + "/started"); }))
      << Log("a") << Slurp(dir_ + "/runner.log");
  // a's job holds the runner's one slot: b is told it has none.
  ASSERT_TRUE(WaitFor([&] { return logged("b", R"("event":"runner_slots")"); }))
      << Log("b") << Slurp(dir_ + "/runner.log");
  EXPECT_TRUE(logged("b", R"("event":"runner_slots","runner_id":2,"concurrency":0)")) << Log("b");
  const std::string second_id = NewPipeline(b_, auth);
  ASSERT_TRUE(WaitFor([&] { return Jobs(b_, second_id, auth)["work"]["status"] == "pending"; }));
  EXPECT_FALSE(fs::exists(marks_ + "/done"));
  std::ofstream(stop).close();
  for (const auto& [port, id] : {std::pair(a_, first_id), std::pair(b_, second_id)}) {
    ASSERT_TRUE(WaitFor([&, port = port, id = id] {
      HttpReply p = Http(port, "GET", "/api/v4/projects/1/pipelines/" + id, auth);
      return p.status == 200 && nlohmann::json::parse(p.body)["status"] == "success";
    })) << Log("a")
        << Log("b") << Slurp(dir_ + "/runner.log");
  }
  EXPECT_EQ(Slurp(marks_ + "/done"), "1\n2\n");
  EXPECT_TRUE(logged("b", R"("event":"runner_slots","runner_id":2,"concurrency":1)")) << Log("b");
  // One connection to each, never replaced.
  for (const char* id : {"a", "b"}) {
    std::string log = Log(id);
    size_t connected = 0;
    for (size_t at = log.find("runner_connected"); at != std::string::npos;
         at = log.find("runner_connected", at + 1)) {
      ++connected;
    }
    EXPECT_EQ(connected, 1u) << id << ":\n" << log;
    EXPECT_EQ(log.find(R"("replaced":true)"), std::string::npos) << id << ":\n" << log;
  }
}

// A live log through b of a job a runs. b's timer, and with it the
// fallback poll of its live logs, looks once an hour: only the `log:`
// notices of a's appends can bring each line to b's two watchers (one
// reader for both, server/log_follower.h), and only a's notice when the job
// ended can end their streams.
TEST_F(ServeReplicasTest, WatchersOnAnotherReplicaGetEachLineOnItsNotice) {
  std::string go = marks_ + "/go";
  std::vector<std::string> auth = AddProject(R"(
talk:
  script:
    - for i in 1 2 3; do while [ ! -e )" + go +
                                             R"($i ]; do sleep 0.05; done; echo "line-$i"; done
)");
  ASSERT_NO_FATAL_FAILURE(StartAAndSleepingB());
  const std::string id = NewPipeline(a_, auth);
  ASSERT_TRUE(WaitFor([&] { return Jobs(a_, id, auth)["talk"]["status"] == "running"; }))
      << Log("a");
  const std::string target =
      "/api/v4/projects/1/jobs/" + Jobs(a_, id, auth)["talk"]["id"].dump() + "/trace/stream";
  SseWatcher first(b_, target, auth[0]), second(b_, target, auth[0]);
  // Each answers once it is subscribed and has sent what is stored.
  ASSERT_TRUE(WaitFor([&] { return first.Has("\r\n\r\n") && second.Has("\r\n\r\n"); }))
      << first.text() << Log("b");
  ASSERT_TRUE(first.Has("HTTP/1.1 200 OK")) << first.text();
  for (const std::string i : {"1", "2", "3"}) {
    std::ofstream(go + i).close();
    ASSERT_TRUE(WaitFor([&] { return first.Has("line-" + i) && second.Has("line-" + i); }))
        << i << "\n"
        << first.text() << "\n"
        << second.text() << Log("b");
  }
  EXPECT_TRUE(WaitFor([&] {
    return first.Has("event: end\ndata: {\"status\": \"success\"}") &&
           second.Has("event: end\ndata: {\"status\": \"success\"}");
  })) << first.text()
      << "\n"
      << second.text();
}

// A write through one replica empties the response caches of the others.
TEST_F(ServeReplicasTest, AWriteThroughOneReplicaRefreshesTheOthersCachedPipeline) {
  std::string once = marks_ + "/once";
  std::vector<std::string> auth = AddProject(R"(
flaky:
  script: test -e )" + once + R"( || { touch )" +
                                             once + R"(; exit 1; }
)");
  ASSERT_NO_FATAL_FAILURE(StartAB());
  const std::string id = NewPipeline(a_, auth);
  auto status_through = [&](int port) {
    HttpReply p = Http(port, "GET", "/api/v4/projects/1/pipelines/" + id, auth);
    return p.status == 200 ? nlohmann::json::parse(p.body)["status"].get<std::string>() : "";
  };
  ASSERT_TRUE(WaitFor([&] { return status_through(b_) == "failed"; })) << Log("a");
  EXPECT_EQ(status_through(b_), "failed");  // Finished: b answers from its cache now.
  // Retried through a (the pipeline is free: a claims and runs it), it
  // succeeds; b's cached answer went with a's write.
  HttpReply retried = Http(a_, "POST", "/api/v4/projects/1/pipelines/" + id + "/retry", auth);
  ASSERT_EQ(retried.status, 201) << retried.body;
  ASSERT_TRUE(WaitFor([&] { return status_through(a_) == "success"; })) << Log("a");
  EXPECT_EQ(status_through(b_), "success") << Log("b");
}

// Two servers must not share a builds directory: each kills the job
// processes it finds there when it starts. (SQLite: no database needed.)
TEST(ServeBuildsDirTest, ASecondServerOnTheSameBuildsDirectoryRefusesToStart) {
  TempDir dir;
  // Jobs of a root server pass through to DATA-builds (docs/server.md).
  ASSERT_EQ(chmod(dir.path().c_str(), 0711), 0);
  std::string data = dir.Sub("data");
  Server first(data, dir.Sub("first.log"));
  ASSERT_GT(first.WaitForPort(), 0) << Slurp(dir.Sub("first.log"));
  int rc = 0;
  std::string err;
  RunSlipway({"serve", "--data", data, "--listen", "127.0.0.1:0"}, &rc, &err);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("is in use by another server: give each server its own --builds-dir"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace slipway
