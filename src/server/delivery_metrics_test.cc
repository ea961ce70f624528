// The delivery series of /metrics on a real store (SQLite and PostgreSQL):
// counts by project, environment and status, durations, rollbacks, DORA
// gauges; an environment name built to inject a series; the bound on
// environment labels; and `promtool check metrics` on the whole /metrics.
#include "server/delivery_metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "server/metrics.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

class DeliveryMetricsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    project_ = AddTestProject(store_.get(), "group/app");
    production_ = AddTestEnvironment(store_.get(), project_, "production", "production");
  }

  // A deployment created now that ends with status after `seconds`.
  DeploymentRecord Deploy(int64_t environment, const std::string& status, int seconds,
                          std::optional<int64_t> rollback_of = std::nullopt) {
    DeploymentRecord d;
    d.project_id = project_;
    d.environment_id = environment;
    d.ref = "main";
    d.sha = "0123456789abcdef0123456789abcdef01234567";
    d.status = "running";
    d.rollback_of = rollback_of;
    auto created = store_->CreateDeployment(d);
    EXPECT_TRUE(created.ok()) << created.status().message();
    clock_.Advance(std::chrono::seconds(seconds));
    auto finished = store_->SetDeploymentStatus(created->id, status);
    EXPECT_TRUE(finished.ok()) << finished.status().message();
    return *finished;
  }

  std::string Scrape(DeliveryMetrics* metrics) {
    Status refreshed = metrics->Refresh(store_.get(), NowMs());
    EXPECT_TRUE(refreshed.ok()) << refreshed.message();
    std::string out;
    metrics->Render(&out);
    return out;
  }

  int64_t project_ = 0, production_ = 0;
};

bool HasLine(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST_P(DeliveryMetricsTest, CountsDeploymentsFinishedWhileRunningByEnvironmentAndStatus) {
  Deploy(production_, "success", 5);  // Before the process started: not counted.
  clock_.Advance(std::chrono::seconds(1));
  DeliveryMetrics metrics(NowMs(), /*dora_refresh_ms=*/0);
  Deploy(production_, "success", 90);
  DeploymentRecord bad = Deploy(production_, "failed", 2);
  Deploy(production_, "success", 30, bad.id);  // The rollback.
  int64_t a = AddTestEnvironment(store_.get(), project_, "review/feature-a", "development");
  int64_t b = AddTestEnvironment(store_.get(), project_, "review/feature-b", "development");
  Deploy(a, "success", 1);
  Deploy(b, "canceled", 4000);

  std::string out = Scrape(&metrics);
  const std::string p = "slipway_deployments_total{project=\"group/app\",";
  EXPECT_TRUE(HasLine(out, p + "environment=\"production\",status=\"success\"} 2")) << out;
  EXPECT_TRUE(HasLine(out, p + "environment=\"production\",status=\"failed\"} 1")) << out;
  // Per-branch environments count under their folder.
  EXPECT_TRUE(HasLine(out, p + "environment=\"review/*\",status=\"success\"} 1")) << out;
  EXPECT_TRUE(HasLine(out, p + "environment=\"review/*\",status=\"canceled\"} 1")) << out;
  EXPECT_EQ(out.find("feature-a"), std::string::npos) << out;
  EXPECT_TRUE(HasLine(out, "slipway_rollbacks_total{project=\"group/app\"} 1")) << out;
  // Durations 90, 2, 30, 1 and 4000 s.
  EXPECT_TRUE(HasLine(out, "slipway_deployment_duration_seconds_bucket{le=\"1\"} 1")) << out;
  EXPECT_TRUE(HasLine(out, "slipway_deployment_duration_seconds_bucket{le=\"5\"} 2")) << out;
  EXPECT_TRUE(HasLine(out, "slipway_deployment_duration_seconds_bucket{le=\"30\"} 3")) << out;
  EXPECT_TRUE(HasLine(out, "slipway_deployment_duration_seconds_bucket{le=\"120\"} 4")) << out;
  EXPECT_TRUE(HasLine(out, "slipway_deployment_duration_seconds_bucket{le=\"3600\"} 4")) << out;
  EXPECT_TRUE(HasLine(out, "slipway_deployment_duration_seconds_bucket{le=\"+Inf\"} 5")) << out;
  EXPECT_TRUE(HasLine(out, "slipway_deployment_duration_seconds_count 5")) << out;
  // DORA over production's last 30 days (the store's, not the process'):
  // 3 successes of 4 deployments, the one before the start included.
  EXPECT_TRUE(HasLine(out, "slipway_dora_deployments_per_day{project=\"group/app\"} 0.1")) << out;
  EXPECT_TRUE(HasLine(out, "slipway_dora_change_failure_rate{project=\"group/app\"} 0.25")) << out;

  // A second scrape counts nothing twice.
  EXPECT_EQ(Scrape(&metrics), out);
}

TEST_P(DeliveryMetricsTest, AnEnvironmentNameCannotInjectASeries) {
  DeliveryMetrics metrics(NowMs(), 0);
  int64_t evil =
      AddTestEnvironment(store_.get(), project_,
                         "x\\\"} 1\nslipway_rollbacks_total{project=\"forged\"} 99\n#", "other");
  Deploy(evil, "success", 1);
  std::string out = Scrape(&metrics);
  EXPECT_EQ(out.find("\nslipway_rollbacks_total{project=\"forged\"}"), std::string::npos) << out;
  EXPECT_TRUE(HasLine(out,
                      "slipway_deployments_total{project=\"group/app\",environment=\"x\\\\\\\"} "
                      "1\\nslipway_rollbacks_total{project=\\\"forged\\\"} 99\\n#\","
                      "status=\"success\"} 1"))
      << out;
}

TEST_P(DeliveryMetricsTest, EnvironmentLabelsPerProjectAreBounded) {
  DeliveryMetrics metrics(NowMs(), 0);
  for (int i = 0; i < 30; ++i) {
    Deploy(AddTestEnvironment(store_.get(), project_, "env-" + std::to_string(i), "other"),
           "success", 1);
  }
  std::string out = Scrape(&metrics);
  std::istringstream lines(out);
  int series = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("slipway_deployments_total{")) ++series;
  }
  EXPECT_EQ(series, static_cast<int>(DeliveryMetrics::kMaxEnvironmentLabels) + 1) << out;
  EXPECT_TRUE(HasLine(out,
                      "slipway_deployments_total{project=\"group/app\",environment=\"_other\","
                      "status=\"success\"} 10"))
      << out;
}

// The whole /metrics, delivery series included, read by Prometheus' own
// checker (Debian's prometheus package; scripts/prometheus.sh installs it).
TEST_P(DeliveryMetricsTest, PromtoolAcceptsTheMetrics) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is missing (Debian's prometheus package)";
  }
  Metrics metrics(NowMs(), 0);
  DeploymentRecord bad = Deploy(production_, "failed", 3);
  Deploy(production_, "success", 40, bad.id);
  Deploy(AddTestEnvironment(store_.get(), project_, "review/x \"quoted\"", "development"),
         "success", 1);
  std::string out = metrics.Render(store_.get(), nullptr, nullptr, NowMs());
  ASSERT_NE(out.find("slipway_dora_change_failure_rate"), std::string::npos) << out;
  TempDir dir;
  std::ofstream(dir.path() + "/metrics") << out;
  std::string command = "promtool check metrics < '" + dir.path() + "/metrics' > '" + dir.path() +
                        "/promtool.out' 2>&1";
  int status = std::system(command.c_str());
  std::ifstream report(dir.path() + "/promtool.out");
  std::string said((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << said << "\n" << out;
}

SLIPWAY_STORE_TEST_SUITE(DeliveryMetricsTest);

}  // namespace
}  // namespace slipway
