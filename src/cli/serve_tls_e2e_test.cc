// End-to-end: `slipway serve --tls-cert --tls-key` with a certificate made
// at test time, used by the project's own HTTPS client, by curl and by a
// `slipway runner --url https://… --ca-file`: the API, a signed webhook, a
// remote job pushed over the runner's streamed connection and its live log
// read to its end. And the structured log: every request is a line, and
// no token sent in a query or a header ever reaches it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/serve_test_util.h"
#include "util/http_get.h"
#include "util/test_dir.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using serve_test::Http;
using serve_test::HttpReply;
using serve_test::RunSlipway;
using serve_test::Server;

// stdout of `sh -c command` and its exit status.
std::string Shell(const std::string& command, int* exit_code) {
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return out;
}

// The server's log lines that are JSON objects of the given event.
std::vector<json> Events(const std::string& log, const std::string& event) {
  std::vector<json> found;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == event) found.push_back(j);
  }
  return found;
}

class ServeTlsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = repo_.dir() + "-tls";
    fs::create_directories(dir_);
    data_ = dir_ + "/data";
    cert_ = dir_ + "/server.crt";
    key_ = dir_ + "/server.key";
    std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=slipway-test -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        key_ + " -out " + cert_ + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0);
    ASSERT_EQ(chmod(key_.c_str(), 0600), 0);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Start(const std::string& ci_yml, const std::vector<std::string>& project_extra,
             const std::vector<std::string>& serve_extra) {
    repo_.Write(".gitlab-ci.yml", ci_yml);
    sha_ = repo_.Commit("ci");
    int rc = 0;
    std::vector<std::string> add = {"project", "add", "--data", data_, "app", repo_.dir()};
    add.insert(add.end(), project_extra.begin(), project_extra.end());
    std::string out = RunSlipway(add, &rc);
    ASSERT_EQ(rc, 0) << out;
    admin_ =
        RunSlipway({"token", "create", "--data", data_, "--name", "ops", "--role", "admin"}, &rc);
    ASSERT_EQ(rc, 0);
    server_log_ = dir_ + "/server.log";
    server_ = std::make_unique<Server>(data_, server_log_, "127.0.0.1:0",
                                       std::vector<std::string>{}, serve_extra);
    port_ = server_->WaitForPort();
    ASSERT_GT(port_, 0) << Slurp(server_log_);
  }

  // A request over HTTPS with the project's own client, trusting cert_.
  HttpFetchResponse Https(const std::string& method, const std::string& target,
                          std::vector<std::pair<std::string, std::string>> headers = {},
                          const std::string& body = "") {
    HttpFetchRequest request;
    request.url = "https://127.0.0.1:" + std::to_string(port_) + target;
    request.method = method;
    request.body = body;
    request.headers = std::move(headers);
    HttpGetOptions options;
    options.ca_file = cert_;
    options.max_redirects = 0;
    StatusOr<HttpFetchResponse> response = HttpFetch(request, options);
    EXPECT_TRUE(response.ok()) << response.status().message();
    return response.ok() ? *response : HttpFetchResponse();
  }

  TestRepo repo_;
  std::string dir_, data_, cert_, key_, admin_, server_log_, sha_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

TEST_F(ServeTlsE2eTest, ApiWebhookRunnerAndLiveLogWorkOverHttps) {
  Start("remote-job:\n  script:\n    - echo ran-over-tls\n",
        {"--webhook-secret", "hook-secret", "--executor", "remote"},
        {"--tls-cert", cert_, "--tls-key", key_});
  EXPECT_NE(Slurp(server_log_).find("slipway serve: listening on https://127.0.0.1:"),
            std::string::npos);
  int rc = 0;
  std::string runner_token =
      RunSlipway({"token", "create", "--data", data_, "--name", "box", "--role", "runner"}, &rc);
  ASSERT_EQ(rc, 0);
  // Without the CA the runner cannot connect: the certificate is checked.
  std::string untrusting_log = dir_ + "/untrusting.log";
  pid_t untrusting =
      serve_test::SpawnSlipway({"runner", "--url", "https://127.0.0.1:" + std::to_string(port_),
                                "--token", runner_token, "--dir", dir_ + "/untrusting"},
                               untrusting_log);
  ASSERT_TRUE(WaitFor([&] {
    return Slurp(untrusting_log).find("reconnecting") != std::string::npos;
  })) << Slurp(untrusting_log);
  kill(untrusting, SIGKILL);
  waitpid(untrusting, nullptr, 0);
  EXPECT_THAT(Slurp(untrusting_log), ::testing::HasSubstr("certificate verify failed"));

  std::string runner_log = dir_ + "/runner.log";
  pid_t runner = serve_test::SpawnSlipway(
      {"runner", "--url", "https://127.0.0.1:" + std::to_string(port_), "--token", runner_token,
       "--dir", dir_ + "/runner", "--ca-file", cert_},
      runner_log);
  ASSERT_TRUE(WaitFor([&] {
    return Slurp(runner_log).find("connected to https://") != std::string::npos;
  })) << Slurp(runner_log);

  // A signed push webhook creates the pipeline; the runner runs its job.
  std::string push = R"({"object_kind":"push","ref":"refs/heads/main","before":")" +
                     std::string(40, '0') + R"(","after":")" + sha_ + R"("})";
  HttpFetchResponse hook = Https("POST", "/hooks/gitlab/1",
                                 {{"X-Gitlab-Event", "Push Hook"},
                                  {"X-Gitlab-Token", "hook-secret"},
                                  {"Content-Type", "application/json"}},
                                 push);
  ASSERT_EQ(hook.status, 201) << hook.body;
  int64_t pipeline = json::parse(hook.body)["id"].get<int64_t>();
  std::string status;
  ASSERT_TRUE(WaitFor([&] {
    HttpFetchResponse r = Https("GET", "/api/v4/projects/1/pipelines/" + std::to_string(pipeline),
                                {{"PRIVATE-TOKEN", admin_}});
    status = json::parse(r.body, nullptr, false).value("status", "");
    return status == "success" || status == "failed" || status == "canceled";
  })) << Slurp(server_log_);
  EXPECT_EQ(status, "success") << Slurp(runner_log);
  kill(runner, SIGKILL);
  waitpid(runner, nullptr, 0);
  json jobs =
      json::parse(Https("GET", "/api/v4/projects/1/pipelines/" + std::to_string(pipeline) + "/jobs",
                        {{"PRIVATE-TOKEN", admin_}})
                      .body);
  ASSERT_EQ(jobs.size(), 1u);
  int64_t job = jobs[0]["id"];

  // curl reads the finished job's live log to its end over TLS.
  std::string stream =
      Shell("curl -sS --no-buffer --cacert " + cert_ + " -H 'PRIVATE-TOKEN: " + admin_ +
                "' https://127.0.0.1:" + std::to_string(port_) + "/api/v4/projects/1/jobs/" +
                std::to_string(job) + "/trace/stream 2>&1",
            &rc);
  EXPECT_EQ(rc, 0) << stream;
  EXPECT_THAT(stream, ::testing::HasSubstr("ran-over-tls"));
  EXPECT_THAT(stream, ::testing::HasSubstr("event: end"));

  // The log tells the story: the webhook and what it started, the runner,
  // the job and pipeline transitions, the requests.
  std::string log = Slurp(server_log_);
  std::vector<json> webhooks = Events(log, "webhook");
  ASSERT_EQ(webhooks.size(), 1u) << log;
  EXPECT_EQ(webhooks[0]["outcome"], "pipeline_created");
  EXPECT_EQ(webhooks[0]["pipeline_id"], pipeline);
  EXPECT_EQ(webhooks[0]["source"], "push");
  EXPECT_EQ(webhooks[0]["forge"], "gitlab");
  EXPECT_FALSE(Events(log, "runner_connected").empty()) << log;
  bool job_succeeded = false;
  for (const json& j : Events(log, "job_status")) {
    job_succeeded = job_succeeded || (j["job_id"] == job && j["status"] == "success");
  }
  EXPECT_TRUE(job_succeeded) << log;
  bool pipeline_succeeded = false;
  for (const json& p : Events(log, "pipeline_status")) {
    pipeline_succeeded = pipeline_succeeded || (p["pipeline_id"] == pipeline &&
                                                p["status"] == "success" && p["sha"] == sha_);
  }
  EXPECT_TRUE(pipeline_succeeded) << log;
  bool streamed = false;
  for (const json& r : Events(log, "request")) {
    streamed = streamed ||
               (r["path"] == "/api/v4/projects/1/jobs/" + std::to_string(job) + "/trace/stream" &&
                r["status"] == 200 && r["bytes"].get<int64_t>() > 0);
  }
  EXPECT_TRUE(streamed) << log;
}

TEST_F(ServeTlsE2eTest, OneOfCertAndKeyOrAnOpenKeyStopsTheStart) {
  int rc = 0;
  std::string err;
  RunSlipway({"serve", "--data", data_, "--listen", "127.0.0.1:0", "--tls-cert", cert_}, &rc, &err);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(err, "slipway: --tls-cert and --tls-key go together: give both or neither\n");
  ASSERT_EQ(chmod(key_.c_str(), 0640), 0);
  RunSlipway(
      {"serve", "--data", data_, "--listen", "127.0.0.1:0", "--tls-cert", cert_, "--tls-key", key_},
      &rc, &err);
  EXPECT_EQ(rc, 1);
  EXPECT_THAT(err, ::testing::HasSubstr("slipway: --tls-key " + key_ +
                                        " has mode 0640: others than its owner may read it"));
}

// Tokens reach the server in a query (private_token, a trigger's token)
// and in headers (PRIVATE-TOKEN, Authorization, X-Gitlab-Token); the log
// has a line for every request, and none of them.
TEST_F(ServeTlsE2eTest, TheLogNeverHoldsATokenFromAQueryOrAHeader) {
  Start("job:\n  script:\n    - echo hi\n", {"--webhook-secret", "hook-secret-in-a-header-5c1e"},
        {"--log-level", "debug"});
  const std::string query_token = "query-token-a51f";
  HttpReply by_query =
      Http(port_, "GET", "/api/v4/projects?private_token=" + query_token + "&per_page=5", {});
  EXPECT_EQ(by_query.status, 401);
  HttpReply by_header =
      Http(port_, "GET", "/api/v4/projects", {"PRIVATE-TOKEN: " + admin_, "User-Agent: log-test"});
  EXPECT_EQ(by_header.status, 200) << by_header.body;
  HttpReply by_bearer = Http(port_, "GET", "/api/v4/user", {"Authorization: Bearer " + admin_});
  EXPECT_NE(by_bearer.status, 0);
  HttpReply trigger = Http(
      port_, "POST", "/api/v4/projects/1/trigger/pipeline?token=trigger-token-77aa&ref=main", {});
  EXPECT_NE(trigger.status, 0);
  std::string push = R"({"object_kind":"push","ref":"refs/heads/main","before":")" +
                     std::string(40, '0') + R"(","after":")" + sha_ + R"("})";
  HttpReply wrong_hook =
      Http(port_, "POST", "/hooks/gitlab/1",
           {"X-Gitlab-Event: Push Hook", "X-Gitlab-Token: wrong-secret-9d0b"}, push);
  EXPECT_EQ(wrong_hook.status, 401);
  HttpReply hook =
      Http(port_, "POST", "/hooks/gitlab/1",
           {"X-Gitlab-Event: Push Hook", "X-Gitlab-Token: hook-secret-in-a-header-5c1e"}, push);
  EXPECT_EQ(hook.status, 201) << hook.body;

  std::string log;
  ASSERT_TRUE(WaitFor([&] {
    log = Slurp(server_log_);
    return Events(log, "request").size() >= 6;
  })) << log;
  for (const std::string& secret :
       {query_token, admin_, std::string("trigger-token-77aa"), std::string("wrong-secret-9d0b"),
        std::string("hook-secret-in-a-header-5c1e")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in\n" << log;
  }
  std::vector<json> requests = Events(log, "request");
  EXPECT_EQ(requests[0]["method"], "GET");
  EXPECT_EQ(requests[0]["path"], "/api/v4/projects");
  EXPECT_EQ(requests[0]["status"], 401);
  EXPECT_EQ(requests[0]["remote_ip"], "127.0.0.1");
  EXPECT_TRUE(requests[0]["duration_s"].is_number());
  EXPECT_EQ(requests[1]["ua"], "log-test");
  EXPECT_EQ(requests[1]["bytes"], by_header.body.size());
  std::vector<json> webhooks = Events(log, "webhook");
  ASSERT_EQ(webhooks.size(), 2u) << log;
  EXPECT_EQ(webhooks[0]["outcome"], "refused");
  EXPECT_EQ(webhooks[0]["severity"], "WARN");
  EXPECT_EQ(webhooks[0]["reason"], "X-Gitlab-Token does not match");
  EXPECT_EQ(webhooks[1]["outcome"], "pipeline_created");
}

}  // namespace
}  // namespace slipway
