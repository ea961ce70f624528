// End-to-end: real `slipway runner` processes against a real `slipway
// serve` on 127.0.0.1. Jobs of a project whose executor is "remote" are
// pushed to the runners (tags routing), their logs come back, a runner
// killed with SIGKILL loses its job when its lease expires (and the retry
// runs elsewhere), a stale fence gets 409, cancel kills the job's process
// group on the runner, and a runner token can do nothing else.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/serve_test_util.h"
#include "util/git.h"
#include "util/test_dir.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using serve_test::Http;
using serve_test::HttpReply;
using serve_test::MarkerDir;
using serve_test::RunSlipway;
using serve_test::Server;

// `slipway runner` with its output in a file.
class Runner {
 public:
  Runner(int port, const std::string& token, const std::string& dir,
         const std::vector<std::string>& extra = {})
      : log_(dir + ".log") {
    fs::create_directories(dir);
    std::vector<std::string> args = {"runner",  "--url", "http://127.0.0.1:" + std::to_string(port),
                                     "--token", token,   "--dir",
                                     dir};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = serve_test::SpawnSlipway(args, log_);
  }
  ~Runner() {
    if (pid_ > 0) Kill9();
  }
  void Kill9() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // Waits for it to exit by itself; its exit code.
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string log() const { return fs::exists(log_) ? Slurp(log_) : ""; }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

// Writes request as it is on a fresh loopback connection; what comes back
// until the server closes it.
std::string RawExchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

class RunnerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = repo_.dir() + "-runners";
    fs::create_directories(dir_);
    data_ = dir_ + "/data";
    marks_ = MarkerDir(dir_);
  }

  // Adds the repository as a remote-executor project, makes tokens and
  // starts the server.
  void Start(const std::string& ci_yml, const std::vector<std::string>& serve_extra = {}) {
    repo_.Write(".gitlab-ci.yml", ci_yml);
    repo_.Commit("ci");
    admin_ = serve_test::AddProjectAndAdmin(data_, repo_.dir(), "remote");
    ASSERT_FALSE(::testing::Test::HasFailure());
    int rc = 0;
    runner_token_ = RunSlipway(
        {"token", "create", "--data", data_, "--name", "box-1", "--role", "runner"}, &rc);
    ASSERT_EQ(rc, 0) << runner_token_;
    server_log_ = dir_ + "/server.log";
    server_ = std::make_unique<Server>(data_, server_log_, "127.0.0.1:0",
                                       std::vector<std::string>{}, serve_extra);
    port_ = server_->WaitForPort();
    ASSERT_GT(port_, 0) << Slurp(server_log_);
  }

  json Get(const std::string& target, const std::string& token) {
    HttpReply r = Http(port_, "GET", target, {"PRIVATE-TOKEN: " + token});
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  int64_t CreatePipeline() {
    HttpReply r =
        Http(port_, "POST", "/api/v4/projects/1/pipeline?ref=main", {"PRIVATE-TOKEN: " + admin_});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["id"].get<int64_t>();
  }

  std::string WaitPipelineDone(int64_t id) {
    std::string status;
    EXPECT_TRUE(WaitFor([&] {
      status = Get("/api/v4/projects/1/pipelines/" + std::to_string(id), admin_)["status"];
      return status == "success" || status == "failed" || status == "canceled";
    })) << Slurp(server_log_);
    return status;
  }

  json Job(int64_t pipeline, const std::string& name) {
    for (const json& j :
         Get("/api/v4/projects/1/pipelines/" + std::to_string(pipeline) + "/jobs", admin_)) {
      if (j["name"] == name) return j;
    }
    return json();
  }

  std::string Trace(int64_t job_id) {
    return Http(port_, "GET", "/api/v4/projects/1/jobs/" + std::to_string(job_id) + "/trace",
                {"PRIVATE-TOKEN: " + admin_})
        .body;
  }

  void WaitOnline(size_t count) {
    ASSERT_TRUE(WaitFor([&] {
      size_t online = 0;
      for (const json& r : Get("/api/v4/runners", admin_)) online += r["status"] == "online";
      return online == count;
    })) << Slurp(server_log_);
  }

  // The (job id, fence) of the job a runner runs, from its directory
  // (DIR/jobs/<job id>-<fence>).
  static std::pair<int64_t, int64_t> Leased(const std::string& runner_dir) {
    std::pair<int64_t, int64_t> found{0, 0};
    WaitFor([&] {
      if (!fs::exists(runner_dir + "/jobs")) return false;
      for (const auto& entry : fs::directory_iterator(runner_dir + "/jobs")) {
        std::string name = entry.path().filename();
        size_t dash = name.find('-');
        if (dash == std::string::npos) continue;
        found = {std::stoll(name.substr(0, dash)), std::stoll(name.substr(dash + 1))};
        return true;
      }
      return false;
    });
    return found;
  }

  TestRepo repo_;
  std::string dir_, data_, marks_, admin_, runner_token_, server_log_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

TEST_F(RunnerE2eTest, JobsRunOnRunnersWithAllTheirTagsAndLogsComeBack) {
  Start(R"(
plain:
  script:
    - echo "plain ran in $CI_PROJECT_DIR"
tagged:
  tags: [gpu]
  script:
    - echo "tagged ran in $CI_PROJECT_DIR"
    - test -f file.txt && echo "checked out"
)");
  int rc = 0;
  std::string gpu_token = RunSlipway(
      {"token", "create", "--data", data_, "--name", "gpu-box", "--role", "runner"}, &rc);
  ASSERT_EQ(rc, 0);
  Runner plain(port_, runner_token_, dir_ + "/plain");
  Runner gpu(port_, gpu_token, dir_ + "/gpu", {"--tags", "gpu,linux", "--concurrency", "2"});
  WaitOnline(2);
  json runners = Get("/api/v4/runners", admin_);
  ASSERT_EQ(runners.size(), 2u) << runners.dump();
  EXPECT_EQ(runners[1]["description"], "gpu-box");
  EXPECT_EQ(runners[1]["tag_list"], json({"gpu", "linux"}));
  EXPECT_EQ(runners[1]["online"], true);
  EXPECT_TRUE(runners[1]["contacted_at"].is_string());

  int64_t pipeline = CreatePipeline();
  ASSERT_EQ(WaitPipelineDone(pipeline), "success")
      << Slurp(server_log_) << plain.log() << gpu.log();
  json tagged = Job(pipeline, "tagged");
  std::string tagged_log = Trace(tagged["id"].get<int64_t>());
  EXPECT_NE(tagged_log.find("tagged ran in " + dir_ + "/gpu/builds/project-1/builds/"),
            std::string::npos)
      << tagged_log;
  EXPECT_NE(tagged_log.find("checked out"), std::string::npos) << tagged_log;
  // The job names its runner, in GitLab's shape.
  EXPECT_EQ(tagged["runner"]["description"], "gpu-box") << tagged.dump();
  EXPECT_EQ(tagged["runner"]["tags"], json({"gpu", "linux"}));
  EXPECT_EQ(tagged["runner"]["online"], true);
  EXPECT_EQ(tagged["runner"]["is_shared"], true);
  std::string plain_log = Trace(Job(pipeline, "plain")["id"].get<int64_t>());
  EXPECT_NE(plain_log.find("plain ran in " + dir_ + "/"), std::string::npos) << plain_log;

  // A runner token reaches nothing but the runner routes.
  for (const char* target :
       {"/api/v4/projects", "/api/v4/runners", "/api/v4/projects/1/pipelines", "/api/v4/user"}) {
    EXPECT_EQ(Http(port_, "GET", target, {"PRIVATE-TOKEN: " + runner_token_}).status, 403)
        << target;
  }
  EXPECT_EQ(Http(port_, "POST", "/api/v4/projects/1/pipeline?ref=main",
                 {"PRIVATE-TOKEN: " + runner_token_})
                .status,
            403);
  // Reports for a job that is over: 409. Oversized log chunks: 413.
  std::string job_path = "/api/v4/runners/jobs/" + std::to_string(tagged["id"].get<int64_t>());
  HttpReply late =
      Http(port_, "POST", job_path + "/trace?fence=1", {"PRIVATE-TOKEN: " + gpu_token}, "late\n");
  EXPECT_EQ(late.status, 409) << late.body;
  // (Only the head is sent: the server answers from its Content-Length.)
  std::string huge = RawExchange(port_, "POST " + job_path +
                                            "/trace?fence=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                            "PRIVATE-TOKEN: " +
                                            gpu_token + "\r\nContent-Length: 2097152\r\n\r\n");
  EXPECT_EQ(huge.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u) << huge;
  // So is an artifacts chunk over the limit.
  std::string chunk = RawExchange(port_, "PUT " + job_path +
                                             "/artifacts?fence=1&offset=0 HTTP/1.1\r\nHost: "
                                             "127.0.0.1\r\nPRIVATE-TOKEN: " +
                                             gpu_token + "\r\nContent-Length: 2097152\r\n\r\n");
  EXPECT_EQ(chunk.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u) << chunk;
}

// Jobs of one commit on a runner share its workspaces (docs/runners.md, "On
// the runner"): the second runs in the directory the first used, brought
// back to exactly the commit — what the first added is gone, what it
// changed, deleted or committed is as the commit has it.
TEST_F(RunnerE2eTest, ASecondJobOfTheSameCommitGetsTheCommitsTreeInTheSameWorkspace) {
  Start(R"yml(
stages: [first, second]
dirty:
  stage: first
  script:
    - echo "dirty ran in $CI_PROJECT_DIR."
    - echo left > new.txt
    - mkdir -p made/deeper
    - echo left > made/deeper/file
    - echo changed > file.txt
    - chmod +x file.txt
    - rm .gitlab-ci.yml
    - git -c user.email=j@b -c user.name=j commit -qam dirty
    - echo left > "$HOME/home.txt"
check:
  stage: second
  script:
    - echo "check ran in $CI_PROJECT_DIR."
    - test ! -e new.txt
    - test ! -e made
    - test ! -e "$HOME/home.txt"
    - test "$(cat file.txt)" = ci
    - test ! -x file.txt
    - test -f .gitlab-ci.yml
    - test "$(git rev-parse HEAD)" = "$CI_COMMIT_SHA"
    - test -z "$(git status --porcelain)"
    - echo "clean workspace"
)yml");
  Runner runner(port_, runner_token_, dir_ + "/box");
  WaitOnline(1);
  int64_t pipeline = CreatePipeline();
  std::string status = WaitPipelineDone(pipeline);
  std::string dirty = Trace(Job(pipeline, "dirty")["id"].get<int64_t>());
  std::string check = Trace(Job(pipeline, "check")["id"].get<int64_t>());
  ASSERT_EQ(status, "success") << dirty << check << runner.log();
  EXPECT_NE(check.find("clean workspace"), std::string::npos) << check;
  // The same directory: the workspace was reused, not made anew.
  std::string workspace = dir_ + "/box/builds/project-1/builds/0/";
  size_t at = dirty.find("dirty ran in " + workspace);
  ASSERT_NE(at, std::string::npos) << dirty;
  std::string path = dirty.substr(at + 13, dirty.find('.', at + 13 + workspace.size()) - at - 13);
  EXPECT_NE(check.find("check ran in " + path + "."), std::string::npos) << path << "\n" << check;
}

// A job waits pending (not running) until a runner takes it, and says why
// none can (GitLab's stuck job); the runner that took it is stored with it
// and named after a restart of the server.
TEST_F(RunnerE2eTest, AJobIsPendingAndStuckUntilARunnerTakesItAndKeepsItsRunner) {
  Start(R"(
tagged:
  tags: [gpu]
  script:
    - echo "tagged ran"
)");
  int64_t pipeline = CreatePipeline();
  json job;
  ASSERT_TRUE(WaitFor([&] {
    job = Job(pipeline, "tagged");
    return job["stuck"] == true;
  })) << job.dump()
      << Slurp(server_log_);
  EXPECT_EQ(job["status"], "pending");
  EXPECT_TRUE(job["started_at"].is_null());
  EXPECT_EQ(job["stuck_reason"], "This job is stuck because no runner is online.");
  std::string job_path = "/api/v4/projects/1/jobs/" + std::to_string(job["id"].get<int64_t>());
  EXPECT_EQ(Get(job_path, admin_)["stuck"], true);
  Runner plain(port_, runner_token_, dir_ + "/plain");
  WaitOnline(1);
  job = Get(job_path, admin_);
  EXPECT_EQ(job["status"], "pending");
  EXPECT_EQ(job["stuck_reason"],
            "This job is stuck because no runner online has all of its tags: gpu");

  int rc = 0;
  std::string gpu_token = RunSlipway(
      {"token", "create", "--data", data_, "--name", "gpu-box", "--role", "runner"}, &rc);
  ASSERT_EQ(rc, 0);
  Runner gpu(port_, gpu_token, dir_ + "/gpu", {"--tags", "gpu,linux"});
  ASSERT_EQ(WaitPipelineDone(pipeline), "success") << Slurp(server_log_) << gpu.log();
  job = Get(job_path, admin_);
  EXPECT_EQ(job["stuck"], false);
  EXPECT_TRUE(job["stuck_reason"].is_null());
  EXPECT_EQ(job["runner"]["description"], "gpu-box") << job.dump();
  EXPECT_EQ(job["runner"]["tags"], json({"gpu", "linux"}));
  int64_t runner_id = job["runner"]["id"].get<int64_t>();
  EXPECT_GT(runner_id, 0);
  // Queued from the pipeline's start until the gpu runner came.
  EXPECT_GT(job["queued_duration"].get<double>(), 0.0) << job.dump();

  // A new server on the same data (the runners are not connected to it).
  server_.reset();
  server_ = std::make_unique<Server>(data_, server_log_);
  port_ = server_->WaitForPort();
  ASSERT_GT(port_, 0) << Slurp(server_log_);
  job = Get(job_path, admin_);
  EXPECT_EQ(job["runner"]["id"], runner_id) << job.dump();
  EXPECT_EQ(job["runner"]["description"], "gpu-box");
  EXPECT_EQ(job["runner"]["tags"], json({"gpu", "linux"}));
  EXPECT_EQ(job["runner"]["online"], false);
}

// Artifacts go up from the runner that made them (with a digest the
// server checks) and down to the runner of a later job; reports reach the
// pipeline's test report; caches stay on the runner, per project.
TEST_F(RunnerE2eTest, ArtifactsAndReportsTravelBetweenRunnersAndTheServer) {
  Start(R"yml(
build:
  stage: build
  cache:
    key: k
    paths: [cached/]
  script:
    - mkdir -p out cached && echo built > out/a.txt && ln -s a.txt out/link
    - echo kept > out/.wh.keep && echo warm > cached/c
    - printf '<testsuites><testsuite name="s" tests="1"><testcase name="t" classname="c"/></testsuite></testsuites>' > junit.xml
  artifacts:
    paths: [out/]
    reports:
      junit: junit.xml
test:
  stage: test
  cache:
    key: k
    paths: [cached/]
  script:
    - test "$(cat out/a.txt)" = built
    - test "$(readlink out/link)" = a.txt
    - test "$(cat out/.wh.keep)" = kept
    - test "$(cat cached/c)" = warm
    - echo "artifacts and cache arrived"
)yml");
  Runner runner(port_, runner_token_, dir_ + "/r1");
  WaitOnline(1);
  int64_t pipeline = CreatePipeline();
  ASSERT_EQ(WaitPipelineDone(pipeline), "success") << Slurp(server_log_) << runner.log();
  json build = Job(pipeline, "build");
  std::string test_log = Trace(Job(pipeline, "test")["id"].get<int64_t>());
  EXPECT_NE(test_log.find("artifacts and cache arrived"), std::string::npos) << test_log;
  // The server has them as it has a local job's: listed, downloadable.
  EXPECT_FALSE(build["artifacts"].empty()) << build.dump();
  std::string base = "/api/v4/projects/1/jobs/" + std::to_string(build["id"].get<int64_t>());
  HttpReply file = Http(port_, "GET", base + "/artifacts/out/a.txt", {"PRIVATE-TOKEN: " + admin_});
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "built\n");
  json summary = Get(
      "/api/v4/projects/1/pipelines/" + std::to_string(pipeline) + "/test_report_summary", admin_);
  EXPECT_EQ(summary["total"]["count"], 1) << summary.dump();
  // Nothing of the transfers is left on either side once the jobs ended
  // but the commit's bundle, kept for the commit's next jobs.
  std::vector<std::string> left;
  for (const auto& entry : fs::recursive_directory_iterator(data_ + "/runner-bundles")) {
    if (entry.is_regular_file()) left.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(left,
            std::vector<std::string>{*GitOutput(repo_.dir(), {"rev-parse", "HEAD"}) + ".bundle"});
  EXPECT_TRUE(WaitFor([&] { return fs::is_empty(dir_ + "/r1/jobs"); })) << runner.log();
}

// `slipway runner --executor slurm` against the single-node Slurm of
// scripts/slurm.sh: the pushed job's script runs as a Slurm job, whose id
// and output come back in the job's log.
TEST_F(RunnerE2eTest, SlurmRunnerRunsJobsAsSlurmJobs) {
  const char* conf = std::getenv("SLIPWAY_TEST_SLURM");
  if (conf == nullptr || *conf == '\0') {
    GTEST_SKIP() << "SLIPWAY_TEST_SLURM is not set: start a Slurm with "
                    "`export SLIPWAY_TEST_SLURM=$(bash scripts/slurm.sh start)` to run this";
  }
  setenv("SLURM_CONF", conf, 1);  // The runner inherits it.
  Start(R"(
hpc:
  variables:
    SCHEDULER_PARAMETERS: "--job-name=from-ci"
  script:
    - echo "ran as Slurm job $SLURM_JOB_ID named $SLURM_JOB_NAME"
    - test -f file.txt && echo "checked out"
)");
  Runner slurm(port_, runner_token_, dir_ + "/slurm", {"--executor", "slurm"});
  WaitOnline(1);
  int64_t pipeline = CreatePipeline();
  ASSERT_EQ(WaitPipelineDone(pipeline), "success") << Slurp(server_log_) << slurm.log();
  std::string log = Trace(Job(pipeline, "hpc")["id"].get<int64_t>());
  size_t at = log.find("Submitted Slurm job ");
  ASSERT_NE(at, std::string::npos) << log;
  std::string id = log.substr(at + 20, log.find('\n', at) - at - 20);
  EXPECT_NE(log.find("ran as Slurm job " + id + " named from-ci\n"), std::string::npos) << log;
  EXPECT_NE(log.find("checked out"), std::string::npos) << log;
}

TEST_F(RunnerE2eTest, UnknownAndRevokedTokensAre401AndLogged) {
  Start("job:\n  script: echo hi\n");
  int rc = 0;
  // Tokens 1 (ops) and 2 (box-1), made by Start.
  std::string revoked_out = RunSlipway({"token", "revoke", "--data", data_, "2"}, &rc);
  ASSERT_EQ(rc, 0) << revoked_out;
  Runner revoked(port_, runner_token_, dir_ + "/revoked");
  EXPECT_EQ(revoked.Wait(), 1) << revoked.log();
  EXPECT_NE(revoked.log().find("the server refused the connection: 401"), std::string::npos)
      << revoked.log();
  Runner unknown(port_, "slw_0000000000000000000000000000000000000000", dir_ + "/unknown");
  EXPECT_EQ(unknown.Wait(), 1) << unknown.log();
  EXPECT_NE(Slurp(server_log_)
                .find("\"event\":\"runner_refused\",\"method\":\"GET\",\"path\":"
                      "\"/api/v4/runners/connect\",\"reason\":\"unknown or revoked "
                      "token\"}"),
            std::string::npos)
      << Slurp(server_log_);
}

// `--url` repeated (docs/runners.md, "Several server replicas"): a server
// that cannot be reached is retried, with a growing pause, while the
// others' jobs run.
TEST_F(RunnerE2eTest, AServerThatIsDownIsRetriedWhileTheOthersJobsRun) {
  Start("job:\n  script: echo from-the-live-one\n");
  // Nothing listens on port 1.
  Runner runner(port_, runner_token_, dir_ + "/box", {"--url", "http://127.0.0.1:1"});
  WaitOnline(1);
  int64_t pipeline = CreatePipeline();
  EXPECT_EQ(WaitPipelineDone(pipeline), "success") << runner.log();
  EXPECT_NE(Trace(Job(pipeline, "job")["id"].get<int64_t>()).find("from-the-live-one"),
            std::string::npos);
  EXPECT_TRUE(WaitFor([&] {
    return runner.log().find("connection to http://127.0.0.1:1 ended") != std::string::npos &&
           runner.log().find("reconnecting in 2 s") != std::string::npos;
  })) << runner.log();
}

TEST_F(RunnerE2eTest, KilledRunnerLosesItsJobWhichIsRetriedOnAnother) {
  std::string mark = marks_ + "/long.pid";
  Start(R"(
long:
  retry:
    max: 1
    when: [runner_system_failure]
  script:
    - if [ ! -e ")" +
            mark + R"(" ]; then echo $$ > ")" + mark + R"(.tmp"; mv ")" + mark + R"(.tmp" ")" +
            mark + R"("; sleep 300; fi
    - echo second-attempt-done
)",
        {"--runner-lease-timeout", "2"});
  auto first = std::make_unique<Runner>(port_, runner_token_, dir_ + "/first");
  WaitOnline(1);
  int64_t pipeline = CreatePipeline();
  ASSERT_TRUE(WaitFor([&] { return fs::exists(mark); })) << Slurp(server_log_) << first->log();
  pid_t job_group = std::atoi(Slurp(mark).c_str());
  auto [job_id, fence] = Leased(dir_ + "/first");
  ASSERT_GT(job_id, 0);
  first->Kill9();
  // Nothing renews the lease now: the attempt fails with
  // runner_system_failure, and the retry waits for a runner.
  ASSERT_TRUE(WaitFor([&] {
    return Get("/api/v4/projects/1/jobs/" + std::to_string(job_id), admin_)["status"] == "failed";
  })) << Slurp(server_log_);
  json lost = Get("/api/v4/projects/1/jobs/" + std::to_string(job_id), admin_);
  EXPECT_EQ(lost["failure_reason"], "runner_system_failure") << lost.dump();
  EXPECT_NE(Trace(job_id).find("its lease expired"), std::string::npos) << Trace(job_id);
  // The dead runner's fence is stale: its late report is refused.
  std::string late_path =
      "/api/v4/runners/jobs/" + std::to_string(job_id) + "?fence=" + std::to_string(fence);
  HttpReply late = Http(port_, "PUT", late_path, {"PRIVATE-TOKEN: " + runner_token_},
                        R"({"outcome":"success","exit_code":0})");
  EXPECT_EQ(late.status, 409) << late.body;
  Runner second(port_, runner_token_, dir_ + "/second");
  ASSERT_EQ(WaitPipelineDone(pipeline), "success")
      << Slurp(server_log_) << second.log()
      << Get("/api/v4/projects/1/pipelines/" + std::to_string(pipeline) +
                 "/jobs?include_retried=true",
             admin_)
             .dump();
  json retried = Job(pipeline, "long");
  EXPECT_NE(retried["id"], job_id);
  EXPECT_NE(Trace(retried["id"].get<int64_t>()).find("second-attempt-done"), std::string::npos);
  if (job_group > 1) kill(-job_group, SIGKILL);  // What the killed runner left, if anything.
}

// A log chunk the database refused is not acknowledged (503, docs/runners.md
// "Reports") and the runner sends it again: once the database takes writes
// again, every line is in the job's log exactly once, in order. The refusal
// is the database's own: a trigger another connection adds to the log table.
TEST_F(RunnerE2eTest, ALogChunkTheDatabaseRefusedIsSentAgainAndStoredOnce) {
  std::string go = marks_ + "/go", again = marks_ + "/again";
  Start(R"(
chatty:
  script:
    - echo before-refusal | tr a-z A-Z
    - while [ ! -e ")" +
        go + R"(" ]; do sleep 0.05; done
    - echo during-refusal | tr a-z A-Z
    - while [ ! -e ")" +
        again + R"(" ]; do sleep 0.05; done
    - echo after-refusal | tr a-z A-Z
)");
  Runner runner(port_, runner_token_, dir_ + "/r");
  WaitOnline(1);
  int64_t pipeline = CreatePipeline();
  auto [job_id, fence] = Leased(dir_ + "/r");
  ASSERT_GT(job_id, 0) << Slurp(server_log_) << runner.log();
  ASSERT_TRUE(WaitFor([&] { return Trace(job_id).find("BEFORE-REFUSAL") != std::string::npos; }))
      << Trace(job_id) << runner.log();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_ + "/slipway.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  auto exec = [&](const char* sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  };
  exec(
      "CREATE TRIGGER refuse_log BEFORE INSERT ON job_log_chunks "
      "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
  std::string job_path = "/api/v4/runners/jobs/" + std::to_string(job_id);
  HttpReply refused = Http(port_, "POST", job_path + "/trace?fence=" + std::to_string(fence),
                           {"PRIVATE-TOKEN: " + runner_token_}, "posted-while-refused\n");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(json::parse(refused.body, nullptr, false)["message"],
            "503 Service Unavailable - the log of job " + std::to_string(job_id) +
                " could not be stored; send it again");
  // The runner's own chunk is refused too (at least once) before writes work again.
  size_t refusals = 0;
  std::ofstream(go).close();
  ASSERT_TRUE(WaitFor([&] {
    std::string log = Slurp(server_log_);
    refusals = 0;
    for (size_t at = log.find("runner_log_error"); at != std::string::npos;
         at = log.find("runner_log_error", at + 1)) {
      ++refusals;
    }
    return refusals >= 2;
  })) << Slurp(server_log_);
  exec("DROP TRIGGER refuse_log");
  sqlite3_close(db);
  std::ofstream(again).close();
  ASSERT_EQ(WaitPipelineDone(pipeline), "success") << Slurp(server_log_) << runner.log();

  std::string trace = Trace(job_id);
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = trace.find(what); at != std::string::npos; at = trace.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("DURING-REFUSAL"), 1u) << trace;
  EXPECT_EQ(count("posted-while-refused"), 0u) << trace;
  EXPECT_LT(trace.find("BEFORE-REFUSAL"), trace.find("DURING-REFUSAL")) << trace;
  EXPECT_LT(trace.find("DURING-REFUSAL"), trace.find("AFTER-REFUSAL")) << trace;
}

TEST_F(RunnerE2eTest, CancelKillsTheJobsProcessGroupOnTheRunner) {
  std::string child = marks_ + "/child.pid";
  Start(R"(
long:
  script:
    - sleep 300 & echo $! > ")" +
        child + R"(.tmp"; mv ")" + child + R"(.tmp" ")" + child + R"("
    - wait
)");
  Runner runner(port_, runner_token_, dir_ + "/r");
  WaitOnline(1);
  int64_t pipeline = CreatePipeline();
  ASSERT_TRUE(WaitFor([&] { return fs::exists(child); })) << Slurp(server_log_) << runner.log();
  pid_t sleeper = std::atoi(Slurp(child).c_str());
  ASSERT_GT(sleeper, 1);
  ASSERT_TRUE(ProcessAlive(sleeper));
  int64_t job_id = Job(pipeline, "long")["id"].get<int64_t>();
  HttpReply canceled =
      Http(port_, "POST", "/api/v4/projects/1/jobs/" + std::to_string(job_id) + "/cancel",
           {"PRIVATE-TOKEN: " + admin_});
  EXPECT_EQ(canceled.status, 201) << canceled.body;
  EXPECT_EQ(WaitPipelineDone(pipeline), "canceled");
  // The runner reported the end once the job's processes were gone.
  EXPECT_TRUE(WaitGone(sleeper)) << runner.log();
}

}  // namespace
}  // namespace slipway
