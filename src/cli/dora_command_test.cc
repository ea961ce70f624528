// `slipway dora` reads the server's database and prints the metrics: the
// real binary over a database a store wrote.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cli/cli_test_util.h"
#include "server/gitlab_json.h"
#include "store/store.h"
#include "store/store_test_records.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;

// The rows of the table, each split at runs of two or more spaces.
std::vector<std::vector<std::string>> Rows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cells;
    size_t at = 0;
    while (at < line.size()) {
      size_t gap = line.find("  ", at);
      cells.push_back(line.substr(at, gap == std::string::npos ? gap : gap - at));
      if (gap == std::string::npos) break;
      at = line.find_first_not_of(' ', gap);
    }
    rows.push_back(cells);
  }
  return rows;
}

class DoraCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CliResult added = RunSlipway({"project", "add", "--data", data_, "--no-check", "--path",
                                  "group/app", "app", "/srv/app.git"});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    // One production deployment on 2026-03-02 at 12:00 that shipped a
    // commit of 06:00 the same day.
    FakeClock clock{
        Clock::WallTime(std::chrono::milliseconds(*ParseIsoTime("2026-03-02T12:00:00Z")))};
    StoreOptions options;
    options.clock = &clock;
    options.secrets_key_file = data_ + "/secrets.key";  // The one `project add` made.
    auto store = OpenStore("sqlite:" + data_ + "/slipway.db", options);
    ASSERT_TRUE(store.ok()) << store.status().message();
    int64_t env = AddTestEnvironment(store->get(), 1, "production", "production");
    DeploymentRecord d = AddTestDeployment(store->get(), 1, env, std::string(40, 'a'), "success");
    ASSERT_TRUE((*store)
                    ->AddDeploymentCommits(
                        d.id, {{std::string(40, 'a'), *ParseIsoTime("2026-03-02T06:00:00Z")}})
                    .ok());
  }
  CliResult Dora(std::vector<std::string> args) {
    args.insert(args.begin(), {"dora", "--data", data_});
    return RunSlipway(args);
  }

  TestRepo scratch_{false};
  std::string data_ = scratch_.dir() + "/data";
};

TEST_F(DoraCommandTest, EveryMetricOverTheRangeWithItsBands) {
  CliResult r =
      Dora({"--project", "group/app", "--start-date", "2026-03-01", "--end-date", "2026-03-04"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = Rows(r.out);
  ASSERT_EQ(rows.size(), 7u) << r.out;
  using Row = std::vector<std::string>;
  EXPECT_EQ(rows[0], (Row{"metric", "median/value", "mean", "from", "2022", "2024"}));
  // One deployment in four days: 0.25 a day, medium in 2022, high in 2024.
  EXPECT_EQ(rows[1],
            (Row{"deployment_frequency", "1", "0.25/day", "1 deployments", "medium", "high"}));
  EXPECT_EQ(rows[2],
            (Row{"lead_time_for_changes", "6h 0m", "6h 0m", "1 commits", "high", "elite"}));
  EXPECT_EQ(rows[3], (Row{"change_failure_rate", "0.0%", "-", "0 of 1 failed", "high", "elite"}));
  EXPECT_EQ(rows[4],
            (Row{"failed_deployment_recovery_time", "-", "-", "0 recovered, 0 not", "-", "-"}));
  EXPECT_EQ(rows[6][0], "deployment_rework_rate");

  CliResult daily = Dora({"--project", "1", "--metric", "deployment_frequency", "--interval",
                          "daily", "--start-date", "2026-03-01", "--end-date", "2026-03-03"});
  ASSERT_EQ(daily.exit_code, 0) << daily.err;
  auto days = Rows(daily.out);
  ASSERT_EQ(days.size(), 4u);
  EXPECT_EQ(days[0][0], "deployment_frequency");
  EXPECT_EQ(days[2][0], "2026-03-02");
  EXPECT_EQ(days[2][1], "1");
}

TEST_F(DoraCommandTest, BadInputIsRefusedWithTheParameterNamed) {
  CliResult unknown = Dora({"--project", "group/none"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "slipway: no project 'group/none' (see `slipway project list`)\n");
  CliResult reversed =
      Dora({"--project", "group/app", "--start-date", "2026-03-05", "--end-date", "2026-03-01"});
  EXPECT_EQ(reversed.exit_code, 2);
  EXPECT_EQ(reversed.err, "slipway: end_date is before start_date\n");
  CliResult daily = Dora({"--project", "group/app", "--interval", "daily"});
  EXPECT_EQ(daily.exit_code, 2);
  EXPECT_THAT(daily.err, HasSubstr("--interval daily needs --metric"));
  std::string typo = scratch_.dir() + "/dtaa";
  CliResult missing = RunSlipway({"dora", "--data", typo, "--project", "group/app"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(typo));
}

}  // namespace
}  // namespace slipway
