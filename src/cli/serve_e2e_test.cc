// End-to-end: the real `slipway serve` binary, killed with SIGKILL in the
// middle of a job and started again on the same data directory. Pipelines
// are created through the HTTP API and a signed GitHub push webhook; results
// are read back through the API and the SQLite store.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/serve_test_util.h"
#include "exec/exec_test_util.h"
#include "store/store.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using serve_test::HmacSha256Hex;
using serve_test::Http;
using serve_test::HttpReply;
using serve_test::RunSlipway;
using serve_test::Server;

TEST(ServeE2eTest, KillNineMidJobThenRestartKeepsResultsAndContinues) {
  TestRepo repo;
  std::string dir = repo.dir() + "-serve";
  fs::create_directories(dir);
  std::string data = dir + "/data";
  std::string mark = dir + "/long.pid";
  repo.Write(".gitlab-ci.yml", R"(
quick:
  stage: build
  script: echo quick-done
long:
  stage: test
  script:
    - echo "long started"
    - if [ ! -e ")" + mark + R"(" ]; then echo $$ > ")" + mark + R"("; sleep 300; fi
    - echo long-finished
after:
  stage: deploy
  script: echo after-done
)");
  std::string sha = repo.Commit("crash me");

  int rc = 0;
  std::string project = RunSlipway({"project", "add", "--data", data, "app", repo.dir(),
                                    "--webhook-secret", "s3cret"},
                                   &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(project, "1");
  std::string token = RunSlipway(
      {"token", "create", "--data", data, "--name", "e2e", "--role", "admin"}, &rc);
  ASSERT_EQ(rc, 0);
  std::string schedule = RunSlipway({"schedule", "add", "--data", data, "1", "--cron",
                                     "0 4 * * *", "--cron-timezone", "Europe/Berlin", "--ref",
                                     "main", "--description", "nightly"},
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

  HttpReply first = Http(port, "POST", "/api/v4/projects/1/pipeline?ref=main",
                         auth);
  ASSERT_EQ(first.status, 201) << first.body;
  int64_t first_id = nlohmann::json::parse(first.body)["id"].get<int64_t>();
  // The job writes its pid (its process group) before it sleeps.
  ASSERT_TRUE(WaitFor([&] {
    return fs::exists(mark) && Slurp(mark).find('\n') != std::string::npos;
  })) << Slurp(server_log);
  pid_t job_group = std::atoi(Slurp(mark).c_str());

  // A push webhook (GitHub's shape, signed) while the first pipeline runs:
  // with --max-pipelines 1 it waits in the queue.
  std::string push = R"({"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","after":")" +
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
  // The job's process group outlives the server (it runs in its own group);
  // the restarted server kills it before it resumes anything.
  ASSERT_GT(job_group, 1) << Slurp(mark);
  EXPECT_TRUE(ProcessAlive(job_group));

  server = std::make_unique<Server>(data, server_log);
  port = server->WaitForPort();
  ASSERT_GT(port, 0) << Slurp(server_log);
  EXPECT_FALSE(ProcessAlive(job_group));
  EXPECT_NE(Slurp(server_log).find("job processes left by a previous server"),
            std::string::npos)
      << Slurp(server_log);

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
  HttpReply quick_log = Http(port, "GET",
                             "/api/v4/projects/1/jobs/" + std::to_string(by_name["quick"].id) +
                                 "/trace",
                             auth);
  EXPECT_EQ(quick_log.status, 200);
  EXPECT_NE(quick_log.body.find("\nquick-done\n"), std::string::npos) << quick_log.body;
  HttpReply long_log = Http(port, "GET",
                            "/api/v4/projects/1/jobs/" + std::to_string(by_name["long"].id) +
                                "/trace",
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

}  // namespace
}  // namespace slipway
