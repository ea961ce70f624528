#include "exec/deploy_verifier.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>

#include "exec/check_probes.h"
#include "util/test_dir.h"
#include "util/test_https_server.h"
#include "util/test_wait.h"
#include "util/unique_fd.h"

namespace slipway {
namespace {

// A loopback port: listening (connections open, nothing ever answers), or
// closed (connections are refused).
struct LoopbackPort {
  explicit LoopbackPort(bool listening) {
    fd = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    if (listening) {
      EXPECT_EQ(listen(fd.get(), 16), 0);
    } else {
      fd.Reset();
    }
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port); }
  UniqueFd fd;
  int port = 0;
};

class DeployVerifierTest : public ::testing::Test {
 protected:
  Verification Verify(const std::vector<CheckDefinition>& checks,
                      DeployVerifier::CommandRunner run_command = nullptr) {
    DeployVerifier::Options options;
    options.log = [this](const std::string& line) { log_ += line + "\n"; };
    options.run_command = std::move(run_command);
    options.unix_now = [] { return int64_t{1700000000}; };
    CancelToken cancel;
    VariableList vars;
    vars.Set("SERVICE", server_.Url(""));
    return DeployVerifier(options).Verify("review/x", checks, vars, cancel);
  }

  static CheckDefinition Http(std::string url) {
    CheckDefinition c;
    c.name = "web";
    c.kind = CheckKind::kHttp;
    c.http.url = std::move(url);
    c.interval = std::chrono::milliseconds(1);
    c.timeout = std::chrono::milliseconds(2000);
    return c;
  }

  TestHttpsServer server_{false};
  std::string log_;
};

TEST_F(DeployVerifierTest, PassingHttpCheckIsLoggedInACollapsedSection) {
  server_.Write("healthz", "ok\n");
  server_.Write("version", R"({"build": [{"version": "v1", "n": 3}]})");
  CheckDefinition status = Http("$SERVICE/healthz");
  status.http.body = "^ok\\n";
  status.count = 2;
  CheckDefinition json = Http("$SERVICE/version");
  json.name = "version";
  json.http.json_path = "$.build[0].n";
  json.http.json_equals = "3.0";
  Verification v = Verify({status, json});
  EXPECT_FALSE(v.failed);
  ASSERT_EQ(v.checks.size(), 2u);
  EXPECT_EQ(v.checks[0].outcome, CheckOutcome::kPass);
  EXPECT_EQ(v.checks[0].measurements, 2);
  EXPECT_EQ(v.checks[0].passed, 2);
  EXPECT_EQ(v.checks[1].outcome, CheckOutcome::kPass);
  const std::string url = server_.Url("");
  EXPECT_EQ(log_,
            "\x1b[0Ksection_start:1700000000:deployment_checks_review_x[collapsed=true]\r\x1b[0K"
            "Verifying the deployment to review/x (2 check(s))\n"
            "Check 'web': GET " +
                url +
                "/healthz, 2 measurement(s) every 1 ms, failure limit 0\n"
                "  1/2 pass: HTTP 200\n"
                "  2/2 pass: HTTP 200\n"
                "Check 'web' pass (2 passed, 0 failed, 0 inconclusive)\n"
                "Check 'version': GET " +
                url +
                "/version, 1 measurement(s) every 1 ms, failure limit 0\n"
                "  1/1 pass: HTTP 200\n"
                "Check 'version' pass (1 passed, 0 failed, 0 inconclusive)\n"
                "\x1b[0Ksection_end:1700000000:deployment_checks_review_x\r\x1b[0K\n"
                "Deployment checks passed\n");
}

TEST_F(DeployVerifierTest, FailuresBeyondTheLimitFailTheCheckAndStopTheRest) {
  server_.Write("version", R"({"version": "v2"})");
  CheckDefinition json = Http("$SERVICE/version");
  json.http.json_path = "$.version";
  json.http.json_equals = "v1";
  json.count = 5;
  json.failure_limit = 1;
  CheckDefinition never = Http("$SERVICE/never");
  Verification v = Verify({json, never});
  EXPECT_TRUE(v.failed);
  EXPECT_EQ(v.failed_check, "web");
  ASSERT_EQ(v.checks.size(), 1u);  // The second check never ran.
  EXPECT_EQ(v.checks[0].outcome, CheckOutcome::kFail);
  EXPECT_EQ(v.checks[0].measurements, 2);  // Two failures > failure_limit 1.
  EXPECT_EQ(v.checks[0].message, "HTTP 200, $.version is not 'v1'");
  EXPECT_NE(log_.find("ERROR: Deployment check 'web' fail: HTTP 200, $.version is not 'v1'\n"),
            std::string::npos)
      << log_;
  // What the target answered stays out of the log (a check reaches what the
  // server can reach; the log is the project's).
  EXPECT_EQ(log_.find("v2"), std::string::npos) << log_;
}

TEST_F(DeployVerifierTest, StatusAndBodyMismatchesFail) {
  server_.Write("healthz", "degraded\n");
  CheckDefinition missing = Http("$SERVICE/nothing");
  EXPECT_EQ(DeployVerifier({}).Measure(Http(server_.Url("/nothing")), CancelToken()).detail,
            "HTTP 404, expected 2xx");
  CheckDefinition body = Http(server_.Url("/healthz"));
  body.http.body = "^ok";
  Measurement m = DeployVerifier({}).Measure(body, CancelToken());
  EXPECT_EQ(m.outcome, CheckOutcome::kFail);
  EXPECT_EQ(m.detail, "HTTP 200, the body does not match /^ok/");
  CheckDefinition exact = Http(server_.Url("/healthz"));
  exact.http.status = 204;
  EXPECT_EQ(DeployVerifier({}).Measure(exact, CancelToken()).detail, "HTTP 200, expected 204");
}

TEST_F(DeployVerifierTest, UnreachableTargetFailsWithTheReason) {
  LoopbackPort closed(false);
  CheckDefinition tcp;
  tcp.name = "port";
  tcp.kind = CheckKind::kTcp;
  tcp.tcp.address = closed.Address();
  Verification v = Verify({tcp});
  EXPECT_TRUE(v.failed);
  EXPECT_EQ(v.checks[0].message, "cannot connect to " + closed.Address() + ": Connection refused");
  EXPECT_NE(
      log_.find("  1/1 fail: cannot connect to " + closed.Address() + ": Connection refused\n"),
      std::string::npos)
      << log_;
  Measurement http = DeployVerifier({}).Measure(Http("http://" + closed.Address() + "/"), {});
  EXPECT_EQ(http.outcome, CheckOutcome::kFail);
  EXPECT_NE(http.detail.find("refused"), std::string::npos) << http.detail;
}

TEST_F(DeployVerifierTest, ATargetThatNeverAnswersFailsAtTheTimeout) {
  LoopbackPort silent(true);  // Accepts connections, never answers.
  CheckDefinition http = Http("http://" + silent.Address() + "/healthz");
  http.timeout = std::chrono::milliseconds(200);
  Measurement m = DeployVerifier({}).Measure(http, CancelToken());
  EXPECT_EQ(m.outcome, CheckOutcome::kFail);
  EXPECT_NE(m.detail.find("timed out"), std::string::npos) << m.detail;
  CheckDefinition tcp;
  tcp.kind = CheckKind::kTcp;
  tcp.tcp.address = silent.Address();
  EXPECT_EQ(DeployVerifier({}).Measure(tcp, CancelToken()).outcome, CheckOutcome::kPass);
}

TEST_F(DeployVerifierTest, PrometheusEmptyAndNanResultsAreInconclusive) {
  CheckDefinition q;
  q.name = "errors";
  q.kind = CheckKind::kPrometheus;
  q.prometheus.url = server_.Url("/");
  q.prometheus.query = "sum(rate(errors[1m]))";
  q.prometheus.condition = *ParseNumericCondition("< 0.05");
  auto answer = [&](const std::string& result) {
    server_.Write("api/v1/query",
                  R"({"status":"success","data":{"resultType":"vector","result":)" + result + "}}");
    return DeployVerifier({}).Measure(q, CancelToken());
  };
  Measurement m = answer(R"([{"metric":{},"value":[1,"0.01"]}])");
  EXPECT_EQ(m.outcome, CheckOutcome::kPass) << m.detail;
  m = answer(R"([{"metric":{"a":"1"},"value":[1,"0.01"]},{"metric":{},"value":[1,"0.2"]}])");
  EXPECT_EQ(m.outcome, CheckOutcome::kFail);
  EXPECT_EQ(m.detail, "value 0.01, 0.2, not < 0.05");
  m = answer("[]");
  EXPECT_EQ(m.outcome, CheckOutcome::kInconclusive);
  EXPECT_EQ(m.detail, "the query returned no samples");
  m = answer(R"([{"metric":{},"value":[1,"NaN"]}])");
  EXPECT_EQ(m.outcome, CheckOutcome::kInconclusive);
  // The query went out encoded.
  EXPECT_NE(server_.Requests().find("/api/v1/query?query=sum%28rate%28errors%5B1m%5D%29%29"),
            std::string::npos)
      << server_.Requests();

  // Inconclusive fails the deployment unless on_inconclusive: pass.
  q.inconclusive_limit = 0;
  answer("[]");
  Verification v = Verify({q});
  EXPECT_TRUE(v.failed);
  EXPECT_EQ(v.checks[0].outcome, CheckOutcome::kInconclusive);
  q.inconclusive_fails = false;
  v = Verify({q});
  EXPECT_FALSE(v.failed);
  EXPECT_NE(log_.find("on_inconclusive: pass lets the deployment go on"), std::string::npos);
}

TEST_F(DeployVerifierTest, CommandChecksRunThroughTheJobsRunner) {
  CheckDefinition cmd;
  cmd.name = "smoke";
  cmd.kind = CheckKind::kCommand;
  cmd.command.script = {"exit 3"};
  std::vector<std::string> seen;
  auto runner = [&](const std::vector<std::string>& script, std::chrono::milliseconds,
                    const CancelToken*) -> StatusOr<ProcessResult> {
    seen = script;
    ProcessResult r;
    r.exit_code = 3;
    return r;
  };
  Verification v = Verify({cmd}, runner);
  EXPECT_TRUE(v.failed);
  EXPECT_EQ(seen, std::vector<std::string>{"exit 3"});
  EXPECT_EQ(v.checks[0].message, "exit code 3");
  EXPECT_EQ(Verify({cmd}).checks[0].message, "command checks cannot run here");
}

// A real Prometheus (Debian's, started by scripts/prometheus.sh on loopback)
// scraping a target: the instant query's value decides, and a series that
// does not exist is inconclusive.
TEST(DeployVerifierPrometheusTest, QueriesARealPrometheus) {
  if (std::system("command -v prometheus >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "prometheus is not installed (scripts/install-deps.sh installs it)";
  }
  TestHttpsServer target(false);
  target.Write("metrics", "# TYPE deliver_error_ratio gauge\ndeliver_error_ratio 0.01\n");
  TempDir dir;
  const std::string script = std::string(SLIPWAY_SOURCE_DIR) + "/scripts/prometheus.sh";
  std::string command = "bash " + script + " start " + dir.Sub("prom") +
                        " 127.0.0.1:" + std::to_string(target.port()) + " 2>/dev/null";
  std::string url;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, p) != nullptr) url += buf;
    pclose(p);
  }
  while (!url.empty() && url.back() == '\n') url.pop_back();
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  struct Stop {
    std::string command;
    ~Stop() { (void)std::system(command.c_str()); }
  } stop{"bash " + script + " stop " + dir.Sub("prom") + " 2>/dev/null"};

  PrometheusCheck check;
  check.url = url;
  check.query = "deliver_error_ratio";
  check.condition = *ParseNumericCondition("< 0.05");
  // Until the first scrape the series is missing: inconclusive.
  Measurement m;
  EXPECT_TRUE(WaitFor([&] {
    m = MeasurePrometheus(check, std::chrono::seconds(5));
    return m.outcome != CheckOutcome::kInconclusive;
  }));
  EXPECT_EQ(m.outcome, CheckOutcome::kPass) << m.detail;
  EXPECT_EQ(m.detail, "value 0.01");
  check.condition = *ParseNumericCondition("> 0.5");
  m = MeasurePrometheus(check, std::chrono::seconds(5));
  EXPECT_EQ(m.outcome, CheckOutcome::kFail);
  EXPECT_EQ(m.detail, "value 0.01, not > 0.5");
  check.query = "no_such_series";
  EXPECT_EQ(MeasurePrometheus(check, std::chrono::seconds(5)).outcome, CheckOutcome::kInconclusive);
  check.query = "sum(";  // Prometheus refuses it: a failed measurement with its reason.
  m = MeasurePrometheus(check, std::chrono::seconds(5));
  EXPECT_EQ(m.outcome, CheckOutcome::kFail);
  EXPECT_NE(m.detail.find("query failed (HTTP 400)"), std::string::npos) << m.detail;
}

}  // namespace
}  // namespace slipway
