// `slipway token list|revoke` and `slipway schedule list|remove`: the real
// binary on a real data directory. A revoked token is refused by the API;
// the listing never shows a token itself.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/cli_test_util.h"
#include "store/store.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class AdminCommandsTest : public ::testing::Test {
 protected:
  CliResult Slipway(std::vector<std::string> args) {
    args.insert(args.begin() + 2, {"--data", data_});
    return RunSlipway(args);
  }
  TestRepo scratch_{false};
  std::string data_ = scratch_.dir() + "/data";
};

TEST_F(AdminCommandsTest, TokensAreListedWithoutTheirValueAndRevoked) {
  CliResult made = Slipway({"token", "create", "--name", "deploy-bot", "--role", "run"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string raw = made.out.substr(0, made.out.find('\n'));
  CliResult listed = Slipway({"token", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, MatchesRegex("id +name +role +created +last used +state\n"
                                       "1 +deploy-bot +run +20[-0-9T:]+Z +never +active\n"));
  EXPECT_THAT(listed.out, Not(HasSubstr(raw)));

  CliResult revoked = Slipway({"token", "revoke", "1"});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_EQ(revoked.out, "revoked token 1\n");
  EXPECT_THAT(Slipway({"token", "list"}).out, HasSubstr(" revoked\n"));
  // The store no longer takes it (the API asks the store, after its 5 s cache).
  StoreOptions options;
  options.secrets_key_file = data_ + "/secrets.key";
  auto store = OpenStore("sqlite:" + data_ + "/slipway.db", options);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto found = (*store)->LookupToken(raw);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());

  CliResult missing = Slipway({"token", "revoke", "7"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "slipway: token 7 not found\n");
}

TEST_F(AdminCommandsTest, SchedulesAreListedAndRemoved) {
  TestRepo repo;
  repo.Write(".gitlab-ci.yml", "job:\n  script: echo\n");
  repo.Git({"add", "-A"});
  repo.Git({"commit", "-q", "-m", "first"});
  ASSERT_EQ(Slipway({"project", "add", "app", repo.dir()}).exit_code, 0);
  EXPECT_EQ(Slipway({"schedule", "list"}).out,
            "no schedules (add one with `slipway schedule add`)\n");
  CliResult added = Slipway({"schedule", "add", "1", "--cron", "0 3 * * *", "--ref", "main",
                             "--description", "nightly build"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  CliResult listed = Slipway({"schedule", "list"});
  EXPECT_THAT(listed.out, MatchesRegex("id +project +cron +timezone +ref +state +next run +"
                                       "description\n"
                                       "1 +app +0 3 \\* \\* \\* +UTC +main +active +"
                                       "20[-0-9]+T03:00:00Z +nightly build\n"));
  EXPECT_EQ(Slipway({"schedule", "list", "2"}).out,
            "no schedules (add one with `slipway schedule add`)\n");
  EXPECT_EQ(Slipway({"schedule", "remove", "1"}).out, "removed schedule 1\n");
  CliResult again = Slipway({"schedule", "remove", "1"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "slipway: schedule 1 not found\n");
}

// Reading commands never make a data directory where a mistyped --data points.
TEST_F(AdminCommandsTest, ListingsDoNotCreateADataDirectory) {
  for (std::vector<std::string> args : {std::vector<std::string>{"token", "list"},
                                        {"token", "revoke", "1"},
                                        {"schedule", "list"},
                                        {"schedule", "remove", "1"}}) {
    CliResult r = Slipway(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << " " << args[1];
    EXPECT_THAT(r.err, HasSubstr("is --data right?"));
  }
  EXPECT_FALSE(std::filesystem::exists(data_));
}

}  // namespace
}  // namespace slipway
