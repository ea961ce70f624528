// Faults across server replicas (docs/replicas.md, docs/runners.md "Faults";
// issue 15): two real `slipway serve` replicas on one real PostgreSQL, each
// on a "host" of its own, and real `slipway runner`s connected to both
// (`--url A --url B`), on network namespaces joined by a bridge
// (cli/netns_test_util.h). The PostgreSQL is the test's own, started in the
// bridge's namespace on 10.213.0.1, where every host reaches it. During a
// pipeline of many jobs a runner and the replica that owns the pipeline are
// killed with SIGKILL; the other replica takes the pipeline over and the
// runners run the rest. Skipped unless root, with PostgreSQL 15's programs.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/netns_test_util.h"
#include "cli/serve_test_util.h"
#include "util/test_dir.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using netns_test::Hosts;
using netns_test::kServerAddress;
using nlohmann::json;
using serve_test::HttpAt;
using serve_test::HttpReply;
using serve_test::RunSlipway;

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

class RunnerReplicasNetnsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access((std::string(kPgBin) + "/postgres").c_str(), X_OK) != 0 ||
        getpwnam("postgres") == nullptr) {
      GTEST_SKIP() << "PostgreSQL 15 is not installed (scripts/postgres.sh start installs it)";
    }
    std::string why = hosts_.MakeServer();
    if (!why.empty()) GTEST_SKIP() << "cannot make network namespaces (" << why << ")";
    ASSERT_TRUE(hosts_.Enter()) << "cannot enter " << hosts_.server();
    ASSERT_EQ(chmod(dir_.path().c_str(), 0711), 0);
    marks_ = serve_test::MarkerDir(dir_.path());
    data_ = dir_.Sub("data");
    // The test's PostgreSQL, on the bridge's address in its namespace
    // (trust authentication: only these namespaces reach it).
    std::string pg = dir_.Sub("pg");
    fs::create_directories(pg);
    std::string out;
    ASSERT_EQ(netns_test::Run({"chown", "postgres:", pg}, &out), 0) << out;
    ASSERT_EQ(netns_test::Run(
                  {"runuser", "-u", "postgres", "--", std::string(kPgBin) + "/initdb", "-D",
                   pg + "/data", "-U", "slipway", "--auth=trust", "--no-locale", "--encoding=UTF8"},
                  &out),
              0)
        << out;
    {
      std::ofstream hba(pg + "/data/pg_hba.conf", std::ios::app);
      hba << "host all all 10.213.0.0/24 trust\n";
    }
    hosts_.SpawnCommand(hosts_.server(),
                        {"runuser", "-u", "postgres", "--", std::string(kPgBin) + "/postgres", "-D",
                         pg + "/data", "-c", std::string("listen_addresses=") + kServerAddress,
                         "-p", "5432", "-k", pg, "-c", "max_connections=200"},
                        dir_.Sub("pg.log"));
    url_ = std::string("postgresql://slipway@") + kServerAddress + ":5432/postgres";
    ASSERT_TRUE(WaitFor([&] {
      return netns_test::Run(
                 {std::string(kPgBin) + "/pg_isready", "-h", kServerAddress, "-p", "5432"}) == 0;
    })) << Slurp(dir_.Sub("pg.log"));
  }

  std::string Admin(std::vector<std::string> args) {
    args.insert(args.end(), {"--data", data_, "--database", url_});
    int rc = 0;
    std::string out = RunSlipway(args, &rc);
    EXPECT_EQ(rc, 0) << out;
    return out;
  }

  // Replica `id` on host k (10.213.0.(10+k)): the shared data directory and
  // database, its own builds directory; its port.
  int StartReplica(int k, const std::string& id) {
    std::string why;
    std::string ns = hosts_.AddHost(k, &why);
    EXPECT_FALSE(ns.empty()) << why;
    ns_[id] = ns;
    std::string address = "10.213.0." + std::to_string(10 + k);
    std::string log = dir_.Sub(id + ".log");
    replicas_[id] = hosts_.Spawn(
        ns,
        {"serve", "--data", data_, "--database", url_, "--builds-dir", dir_.Sub("builds-" + id),
         "--replica-id", id, "--listen", address + ":0", "--jobs", "8", "--max-pipelines", "2",
         "--lease-timeout", "4", "--runner-lease-timeout", "2"},
        log);
    int port = netns_test::WaitForPort(log, address);
    EXPECT_GT(port, 0) << Slurp(log);
    urls_[id] = "http://" + address + ":" + std::to_string(port);
    return port;
  }

  // A runner named name on host k, connected to both replicas.
  pid_t StartRunner(int k, const std::string& name) {
    std::string why;
    std::string ns = hosts_.AddHost(k, &why);
    EXPECT_FALSE(ns.empty()) << why;
    ns_[name] = ns;
    fs::create_directories(dir_.Sub(name));
    return hosts_.Spawn(ns,
                        {"runner", "--url", urls_["a"], "--url", urls_["b"], "--token",
                         tokens_[name], "--dir", dir_.Sub(name), "--concurrency", "2"},
                        dir_.Sub(name + ".log"));
  }

  HttpReply Call(const std::string& replica, const std::string& method, const std::string& target,
                 const std::string& body = "") {
    std::string url = urls_[replica];
    std::string host = url.substr(7, url.rfind(':') - 7);
    int port = std::atoi(url.c_str() + url.rfind(':') + 1);
    return HttpAt(host, port, method, target,
                  {"PRIVATE-TOKEN: " + admin_, "Content-Type: application/json"}, body);
  }
  json Get(const std::string& replica, const std::string& target) {
    HttpReply r = Call(replica, "GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  json AllJobs(const std::string& replica, int64_t pipeline) {
    json all = json::array();
    for (int page = 1;; ++page) {
      json some =
          Get(replica, "/api/v4/projects/1/pipelines/" + std::to_string(pipeline) +
                           "/jobs?include_retried=true&per_page=100&page=" + std::to_string(page));
      if (!some.is_array() || some.empty()) return all;
      all.insert(all.end(), some.begin(), some.end());
    }
  }

  TempDir dir_;
  TestRepo repo_;
  std::string marks_, data_, url_, admin_;
  std::map<std::string, std::string> tokens_, ns_, urls_;  // By runner or replica name.
  std::map<std::string, pid_t> replicas_;
  Hosts hosts_;  // Last: its processes are gone before their files are.
};

// Each job appends "+ ID" and "- ID" to MARKS/<runner>.slots: how many ran
// at once on a runner, from the attempts that ended.
int MostAtOnce(const std::string& path) {
  std::istringstream in(fs::exists(path) ? Slurp(path) : "");
  std::string sign;
  int64_t id = 0;
  std::vector<std::pair<std::string, int64_t>> events;
  std::set<int64_t> ended;
  while (in >> sign >> id) {
    events.emplace_back(sign, id);
    if (sign == "-") ended.insert(id);
  }
  int now = 0, most = 0;
  for (const auto& [s, job] : events) {
    if (ended.count(job) == 0) continue;  // Lost with its runner: no end line.
    now += s == "+" ? 1 : -1;
    most = std::max(most, now);
  }
  return most;
}

// The main pipeline (SLIPWAY_TEST_NETNS_JOBS jobs, 200 by default) is
// created through replica a, a side pipeline of a quarter as many through
// b: the runners take jobs of both at once within their concurrency (2).
// Once a third of the main jobs ended, runner r1 is killed (SIGKILL) while
// it holds a lease and r4 joins; at half, replica a (which owns the main
// pipeline and holds running jobs) is killed: b takes it over after the
// lease timeout (4 s) and the runners finish both pipelines through b.
TEST_F(RunnerReplicasNetnsE2eTest, KilledReplicaAndRunnerLoseNoJobAndNoLogLine) {
  const char* count = std::getenv("SLIPWAY_TEST_NETNS_JOBS");
  const int kJobs = count != nullptr && std::atoi(count) >= 30 ? std::atoi(count) : 200;
  const int kSide = kJobs / 4;
  constexpr int kLines = 20;
  std::string yml = R"(
default:
  retry:
    max: 2
    when: [runner_system_failure]
.work:
  script:
    - r=${CI_PROJECT_DIR%/builds/project-*}; r=${r##*/}
    - echo "+ $CI_JOB_ID" >> )" +
                    marks_ +
                    R"(/$r.slots
    - echo "start $CI_JOB_ID $r" >> )" +
                    marks_ +
                    R"(/$CI_JOB_NAME
    - for i in $(seq 1 10); do echo "$CI_JOB_NAME line $i"; done
    - sleep 0.2
    - for i in $(seq 11 )" +
                    std::to_string(kLines) +
                    R"(); do echo "$CI_JOB_NAME line $i"; done
    - echo "end $CI_JOB_ID $r" >> )" +
                    marks_ +
                    R"(/$CI_JOB_NAME
    - echo "- $CI_JOB_ID" >> )" +
                    marks_ +
                    R"(/$r.slots
    - echo $CI_JOB_NAME >> )" +
                    marks_ +
                    R"(/ended
.main:
  extends: .work
  rules:
    - if: $SIDE
      when: never
    - when: on_success
.side:
  extends: .work
  rules:
    - if: $SIDE
)";
  auto name_of = [](const char* prefix, int i) {
    char name[16];
    std::snprintf(name, sizeof name, "%s%04d", prefix, i);
    return std::string(name);
  };
  for (int i = 1; i <= kJobs; ++i) yml += name_of("j", i) + ":\n  extends: .main\n";
  for (int i = 1; i <= kSide; ++i) yml += name_of("s", i) + ":\n  extends: .side\n";
  repo_.Write(".gitlab-ci.yml", yml);
  repo_.Commit("ci");
  EXPECT_EQ(Admin({"project", "add", "app", repo_.dir(), "--executor", "remote"}), "1");
  admin_ = Admin({"token", "create", "--name", "ops", "--role", "admin"});
  for (const char* name : {"r1", "r2", "r3", "r4"}) {
    tokens_[name] = Admin({"token", "create", "--name", name, "--role", "runner"});
  }
  ASSERT_FALSE(HasFailure());
  StartReplica(1, "a");
  StartReplica(2, "b");
  ASSERT_FALSE(HasFailure());
  std::map<std::string, pid_t> runners;
  for (int k = 3; k <= 5; ++k) {
    std::string name = "r" + std::to_string(k - 2);
    runners[name] = StartRunner(k, name);
  }
  for (const char* replica : {"a", "b"}) {
    ASSERT_TRUE(WaitFor([&] {
      size_t online = 0;
      for (const json& r : Get(replica, "/api/v4/runners")) online += r["status"] == "online";
      return online == 3;
    })) << replica
        << "\n"
        << Slurp(dir_.Sub(std::string(replica) + ".log"));
  }
  HttpReply created = Call("a", "POST", "/api/v4/projects/1/pipeline?ref=main");
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t main_pipeline = json::parse(created.body)["id"].get<int64_t>();
  created = Call("b", "POST", "/api/v4/projects/1/pipeline",
                 R"({"ref":"main","variables":[{"key":"SIDE","value":"1"}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t side_pipeline = json::parse(created.body)["id"].get<int64_t>();

  auto ended = [&] { return netns_test::LinesIn(marks_ + "/ended"); };
  auto holding = [&](const std::string& name) { return netns_test::Holding(dir_.Sub(name)); };
  ASSERT_TRUE(WaitFor([&] { return ended() >= kJobs / 3 && holding("r1"); }))
      << ended() << Slurp(dir_.Sub("a.log"));
  hosts_.Kill9(runners["r1"]);
  runners.erase("r1");
  runners["r4"] = StartRunner(6, "r4");
  ASSERT_TRUE(WaitFor([&] {
    return ended() >= kJobs / 2 && (holding("r2") || holding("r3") || holding("r4"));
  })) << ended();
  hosts_.Kill9(replicas_["a"]);
  replicas_.erase("a");

  for (int64_t pipeline : {main_pipeline, side_pipeline}) {
    std::string status;
    bool done = false;  // The 500 jobs may take more than WaitFor's 2 minutes.
    for (int round = 0; round < 5 && !done; ++round) {
      done = WaitFor([&] {
        status = Get("b", "/api/v4/projects/1/pipelines/" + std::to_string(pipeline))["status"];
        return status == "success" || status == "failed" || status == "canceled";
      });
    }
    ASSERT_EQ(status, "success") << pipeline << "\n" << Slurp(dir_.Sub("b.log"));
  }
  auto trace = [&](int64_t id) {
    return Call("b", "GET", "/api/v4/projects/1/jobs/" + std::to_string(id) + "/trace").body;
  };
  int lost =
      netns_test::CheckEachJobEndedOnce(AllJobs("b", main_pipeline), marks_, kLines, kJobs, trace);
  lost +=
      netns_test::CheckEachJobEndedOnce(AllJobs("b", side_pipeline), marks_, kLines, kSide, trace);
  // r1 held a lease when it was killed; a's running jobs were re-leased.
  EXPECT_GE(lost, 2);
  RecordProperty("lost_attempts", lost);
  EXPECT_NE(Slurp(dir_.Sub("b.log")).find("pipeline_taken_over"), std::string::npos);
  // The runners' concurrency held across both replicas.
  for (const char* name : {"r2", "r3", "r4"}) {
    EXPECT_LE(MostAtOnce(marks_ + "/" + std::string(name) + ".slots"), 2) << name;
  }
  // No process is left on any host but the live runners and replica b.
  EXPECT_TRUE(WaitFor([&] {
    for (const auto& [name, ns] : ns_) {
      std::set<pid_t> pids = netns_test::PidsIn(ns);
      if (auto runner = runners.find(name); runner != runners.end()) pids.erase(runner->second);
      if (auto replica = replicas_.find(name); replica != replicas_.end()) {
        pids.erase(replica->second);
      }
      if (!pids.empty()) return false;
    }
    return true;
  })) << "a process is left on a host";
}

}  // namespace
}  // namespace slipway
