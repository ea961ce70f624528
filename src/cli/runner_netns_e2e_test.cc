// Faults, tested (docs/runners.md, "Faults"): a real `slipway serve` and
// real `slipway runner`s on separate "hosts", network namespaces joined by
// a bridge (cli/netns_test_util.h). A runner whose cable is pulled mid-job
// gives the job up (kills its process group) before its lease expires, the
// job is retried on another runner, and the cut-off runner's late reports
// get 409. Runners killed with SIGKILL during a pipeline of many jobs lose
// nothing: every job ends exactly once, no job runs on two runners at once,
// every log line is in its job's log, and no process is left on any host.
// Skipped unless root (namespaces need it).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
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
using netns_test::OneAttemptAtATime;
using netns_test::Record;
using netns_test::Records;
using nlohmann::json;
using serve_test::HttpAt;
using serve_test::HttpReply;
using serve_test::RunSlipway;

class RunnerNetnsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = hosts_.MakeServer();
    if (!why.empty()) GTEST_SKIP() << "cannot make network namespaces (" << why << ")";
    ASSERT_TRUE(hosts_.Enter()) << "cannot enter " << hosts_.server();
    // The server runs jobs as another user, who must pass through.
    ASSERT_EQ(chmod(dir_.path().c_str(), 0711), 0);
    marks_ = serve_test::MarkerDir(dir_.path());
    data_ = dir_.Sub("data");
  }

  // The project (remote executor) and the admin token; then the server,
  // in its namespace on 10.213.0.1, with a 2 s lease timeout.
  void Start(const std::string& ci_yml, const std::vector<std::string>& runner_names) {
    repo_.Write(".gitlab-ci.yml", ci_yml);
    repo_.Commit("ci");
    admin_ = serve_test::AddProjectAndAdmin(data_, repo_.dir(), "remote");
    ASSERT_FALSE(::testing::Test::HasFailure());
    int rc = 0;
    // Runner tokens in this order: their ids are the order in which the
    // server offers jobs to free runners.
    for (const std::string& name : runner_names) {
      tokens_[name] =
          RunSlipway({"token", "create", "--data", data_, "--name", name, "--role", "runner"}, &rc);
      ASSERT_EQ(rc, 0) << tokens_[name];
    }
    server_log_ = dir_.Sub("server.log");
    hosts_.Spawn(hosts_.server(),
                 {"serve", "--data", data_, "--listen", std::string(kServerAddress) + ":0",
                  "--jobs", "8", "--max-pipelines", "1", "--runner-lease-timeout", "2"},
                 server_log_);
    port_ = netns_test::WaitForPort(server_log_, kServerAddress);
    ASSERT_GT(port_, 0) << Slurp(server_log_);
  }

  // `slipway runner` named name (its token's name) on host k; its pid.
  pid_t StartRunner(int k, const std::string& name, const std::string& concurrency = "1") {
    std::string why;
    std::string ns = hosts_.AddHost(k, &why);
    EXPECT_FALSE(ns.empty()) << why;
    ns_[name] = ns;
    fs::create_directories(dir_.Sub(name));
    return hosts_.Spawn(
        ns,
        {"runner", "--url", "http://" + std::string(kServerAddress) + ":" + std::to_string(port_),
         "--token", tokens_[name], "--dir", dir_.Sub(name), "--concurrency", concurrency},
        dir_.Sub(name + ".log"));
  }

  HttpReply Call(const std::string& method, const std::string& target,
                 const std::string& token = "", const std::string& body = "") {
    return HttpAt(kServerAddress, port_, method, target,
                  {"PRIVATE-TOKEN: " + (token.empty() ? admin_ : token)}, body);
  }
  json Get(const std::string& target) {
    HttpReply r = Call("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  void WaitOnline(size_t count) {
    ASSERT_TRUE(WaitFor([&] {
      size_t online = 0;
      for (const json& r : Get("/api/v4/runners")) online += r["status"] == "online";
      return online == count;
    })) << Slurp(server_log_);
  }

  int64_t CreatePipeline() {
    HttpReply r = Call("POST", "/api/v4/projects/1/pipeline?ref=main");
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["id"].get<int64_t>();
  }

  std::string WaitPipelineDone(int64_t id) {
    std::string status;
    EXPECT_TRUE(WaitFor([&] {
      status = Get("/api/v4/projects/1/pipelines/" + std::to_string(id))["status"];
      return status == "success" || status == "failed" || status == "canceled";
    })) << Slurp(server_log_);
    return status;
  }

  // Every job of the pipeline, retried attempts included, all pages.
  json AllJobs(int64_t pipeline) {
    json all = json::array();
    for (int page = 1;; ++page) {
      json some = Get("/api/v4/projects/1/pipelines/" + std::to_string(pipeline) +
                      "/jobs?include_retried=true&per_page=100&page=" + std::to_string(page));
      if (!some.is_array() || some.empty()) return all;
      all.insert(all.end(), some.begin(), some.end());
    }
  }

  std::string Trace(int64_t job_id) {
    return Call("GET", "/api/v4/projects/1/jobs/" + std::to_string(job_id) + "/trace").body;
  }

  // Processes in host's namespace other than the runner (pid).
  std::set<pid_t> Others(const std::string& name, pid_t runner) {
    std::set<pid_t> pids = netns_test::PidsIn(ns_[name]);
    pids.erase(runner);
    return pids;
  }

  TempDir dir_;
  TestRepo repo_;
  std::string marks_, data_, admin_, server_log_;
  std::map<std::string, std::string> tokens_, ns_;  // By runner name.
  int port_ = 0;
  Hosts hosts_;  // Last: its processes are gone before their files are.
};

// The first attempt ticks until it is killed; the retry ends at once.
TEST_F(RunnerNetnsE2eTest, CutOffRunnerGivesItsJobUpAndTheRetryRunsElsewhere) {
  std::string file = marks_ + "/long";
  Start(R"(
long:
  retry:
    max: 1
    when: [runner_system_failure]
  script:
    - r=${CI_PROJECT_DIR%/builds/project-*}; r=${r##*/}
    - echo "start $CI_JOB_ID $r" >> )" +
            file + R"(
    - if [ ! -e )" +
            file + R"(.first ]; then echo $$ > )" + file +
            R"(.first; while :; do echo "tick $CI_JOB_ID $r" >> )" + file +
            R"(; echo tick; sleep 0.1; done; fi
    - echo "end $CI_JOB_ID $r" >> )" +
            file + "\n",
        // far's id is lower: when the lease on near expires, the retry is
        // offered to far first (the server no longer counts near's slot).
        {"far", "near"});
  pid_t near = StartRunner(1, "near");
  WaitOnline(1);
  int64_t pipeline = CreatePipeline();
  ASSERT_TRUE(WaitFor([&] { return fs::exists(file + ".first"); })) << Slurp(server_log_);
  pid_t job_shell = std::atoi(Slurp(file + ".first").c_str());
  ASSERT_GT(job_shell, 1);
  int64_t first_id = Records(file).at(0).job_id;
  ASSERT_EQ(Records(file)[0].runner, "near");
  // The lease's fence, from near's job directory (DIR/jobs/<job id>-<fence>).
  int64_t fence = 0;
  for (const auto& entry : fs::directory_iterator(dir_.Sub("near/jobs"))) {
    std::string name = entry.path().filename();
    if (name.rfind(std::to_string(first_id) + "-", 0) == 0) {
      fence = std::stoll(name.substr(name.find('-') + 1));
    }
  }
  ASSERT_GT(fence, 0);
  pid_t far = StartRunner(2, "far");
  WaitOnline(2);
  ASSERT_TRUE(hosts_.Plug(1, false));

  // Cut off, near hears nothing back: it gives the job up (its processes
  // are gone while the cable is still out) ...
  EXPECT_TRUE(WaitFor([&] { return Others("near", near).empty(); })) << Slurp(dir_.Sub("near.log"));
  EXPECT_FALSE(ProcessAlive(job_shell));
  EXPECT_NE(Slurp(dir_.Sub("near.log")).find("giving the job up before its lease expires"),
            std::string::npos)
      << Slurp(dir_.Sub("near.log"));
  // ... and the server fails the attempt once its lease expired and runs
  // the retry on far.
  ASSERT_EQ(WaitPipelineDone(pipeline), "success") << Slurp(server_log_);
  json jobs = AllJobs(pipeline);
  ASSERT_EQ(jobs.size(), 2u) << jobs.dump();
  EXPECT_EQ(jobs[0]["id"], first_id);
  EXPECT_EQ(jobs[0]["status"], "failed");
  EXPECT_EQ(jobs[0]["failure_reason"], "runner_system_failure");
  EXPECT_NE(Trace(first_id).find("its lease expired"), std::string::npos) << Trace(first_id);
  EXPECT_EQ(jobs[1]["status"], "success");
  EXPECT_EQ(jobs[1]["runner"]["description"], "far") << jobs.dump();
  std::vector<Record> records = Records(file);
  std::string why;
  EXPECT_TRUE(OneAttemptAtATime(records, &why)) << why << "\n" << Slurp(file);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().what, "end");
  EXPECT_EQ(records.back().runner, "far");
  for (const Record& r : records) {
    if (r.job_id == first_id) {
      EXPECT_NE(r.what, "end") << Slurp(file);
    }
  }

  // Back on the network, near's reports under the old lease are refused.
  ASSERT_TRUE(hosts_.Plug(1, true));
  std::string base = "/api/v4/runners/jobs/" + std::to_string(first_id);
  HttpReply late =
      Call("POST", base + "/heartbeat?fence=" + std::to_string(fence), tokens_["near"]);
  EXPECT_EQ(late.status, 409) << late.body;
  HttpReply put = Call("PUT", base + "?fence=" + std::to_string(fence), tokens_["near"],
                       R"({"outcome":"success","exit_code":0})");
  EXPECT_EQ(put.status, 409) << put.body;
  // Nothing of either job is left on any host.
  EXPECT_TRUE(WaitFor([&] { return Others("far", far).empty() && Others("near", near).empty(); }));
}

// Many short jobs over three runners; two of them are killed (SIGKILL)
// while they hold leases, and replacements join on new hosts.
TEST_F(RunnerNetnsE2eTest, KilledRunnersLoseNoJobAndNoLogLine) {
  // 200 by default (about 20 s here); SLIPWAY_TEST_NETNS_JOBS=500 for the
  // issue's count (about 55 s on a loaded 2-core machine).
  const char* count = std::getenv("SLIPWAY_TEST_NETNS_JOBS");
  const int kJobs = count != nullptr && std::atoi(count) >= 30 ? std::atoi(count) : 200;
  constexpr int kLines = 20;
  std::string yml = R"(
default:
  retry:
    max: 2
    when: [runner_system_failure]
.work: &work
  script:
    - r=${CI_PROJECT_DIR%/builds/project-*}; r=${r##*/}
    - echo "start $CI_JOB_ID $r" >> )" +
                    marks_ + R"(/$CI_JOB_NAME
    - for i in $(seq 1 10); do echo "$CI_JOB_NAME line $i"; done
    - sleep 0.2
    - for i in $(seq 11 )" +
                    std::to_string(kLines) +
                    R"(); do echo "$CI_JOB_NAME line $i"; done
    - echo "end $CI_JOB_ID $r" >> )" +
                    marks_ + R"(/$CI_JOB_NAME
    - echo $CI_JOB_NAME >> )" +
                    marks_ + "/ended\n";
  auto name_of = [](int i) {
    char name[16];
    std::snprintf(name, sizeof name, "j%04d", i);
    return std::string(name);
  };
  for (int i = 1; i <= kJobs; ++i) yml += name_of(i) + ": *work\n";
  Start(yml, {"r1", "r2", "r3", "r4", "r5"});
  std::map<std::string, pid_t> runners;
  for (int k = 1; k <= 3; ++k) {
    std::string name = "r" + std::to_string(k);
    runners[name] = StartRunner(k, name, "2");
  }
  WaitOnline(3);
  int64_t pipeline = CreatePipeline();
  auto ended = [&] { return netns_test::LinesIn(marks_ + "/ended"); };
  auto holding = [&](const std::string& name) { return netns_test::Holding(dir_.Sub(name)); };
  for (auto [victim, replacement, at] :
       {std::tuple<std::string, std::string, int>{"r1", "r4", kJobs / 3},
        {"r2", "r5", 2 * kJobs / 3}}) {
    ASSERT_TRUE(WaitFor([&] { return ended() >= at && holding(victim); }))
        << victim << " " << ended() << Slurp(server_log_);
    hosts_.Kill9(runners[victim]);
    runners.erase(victim);
    int k = replacement[1] - '0';
    runners[replacement] = StartRunner(k, replacement, "2");
  }
  ASSERT_EQ(WaitPipelineDone(pipeline), "success") << Slurp(server_log_);

  int lost = netns_test::CheckEachJobEndedOnce(AllJobs(pipeline), marks_, kLines, kJobs,
                                               [&](int64_t id) { return Trace(id); });
  // Both victims held a lease when they were killed.
  EXPECT_GE(lost, 2);
  RecordProperty("lost_attempts", lost);
  // No process is left on any host but the runners (and the server).
  EXPECT_TRUE(WaitFor([&] {
    for (const auto& [name, ns] : ns_) {
      std::set<pid_t> pids = netns_test::PidsIn(ns);
      auto runner = runners.find(name);
      if (runner != runners.end()) pids.erase(runner->second);
      if (!pids.empty()) return false;
    }
    return true;
  })) << "a process is left on a host";
}

}  // namespace
}  // namespace slipway
