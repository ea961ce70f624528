// `slipway token list|revoke`, `slipway schedule list|remove` and
// `slipway project set|remove`: the real
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
  CliResult Slipway(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin() + 2, {"--data", data_});
    return RunSlipway(args, "", env);
  }
  std::optional<ProjectForgeSettings> Forge(int64_t project_id) {
    StoreOptions options;
    options.secrets_key_file = data_ + "/secrets.key";
    auto store = OpenStore("sqlite:" + data_ + "/slipway.db", options);
    EXPECT_TRUE(store.ok()) << store.status().message();
    if (!store.ok()) return std::nullopt;
    auto forge = (*store)->GetProjectForge(project_id);
    EXPECT_TRUE(forge.ok()) << forge.status().message();
    return forge.ok() ? *forge : std::nullopt;
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

TEST_F(AdminCommandsTest, ProjectsAreChangedAndRemovedWithTheirFiles) {
  TestRepo repo;
  repo.Write(".gitlab-ci.yml", "job:\n  script: echo\n");
  repo.Git({"add", "-A"});
  repo.Git({"commit", "-q", "-m", "first"});
  ASSERT_EQ(Slipway({"project", "add", "app", repo.dir(), "--path", "team/app"}).exit_code, 0);
  ASSERT_EQ(Slipway({"project", "add", "other", repo.dir()}).exit_code, 0);
  CliResult set = Slipway({"project", "set", "team/app", "--name", "App", "--default-branch",
                           "trunk", "--executor", "sandbox", "--webhook-secret", "s3cret"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_THAT(Slipway({"project", "list"}).out,
              MatchesRegex("(.|\n)*1 +App +team/app +trunk(.|\n)*"));
  CliResult bad = Slipway({"project", "set", "1", "--executor", "docker"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("executor 'docker' is not supported"));
  CliResult gone_repo = Slipway({"project", "set", "1", "--repo", scratch_.dir() + "/nothing"});
  EXPECT_EQ(gone_repo.exit_code, 2);
  EXPECT_THAT(gone_repo.err, HasSubstr("--no-check stores it anyway"));
  EXPECT_EQ(Slipway({"project", "set", "9", "--name", "x"}).err, "slipway: no project '9'\n");

  // A mirror and a builds directory as the server leaves them.
  std::filesystem::create_directories(data_ + "/repos/1.git");
  std::filesystem::create_directories(data_ + "-builds/1/home");
  std::filesystem::create_directories(data_ + "/repos/2.git");
  CliResult removed = Slipway({"project", "remove", "team/app"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.out, "removed project 1 (team/app)\n");
  EXPECT_FALSE(std::filesystem::exists(data_ + "/repos/1.git"));
  EXPECT_FALSE(std::filesystem::exists(data_ + "-builds/1"));
  EXPECT_TRUE(std::filesystem::exists(data_ + "/repos/2.git"));
  EXPECT_THAT(Slipway({"project", "list"}).out, Not(HasSubstr("team/app")));
  EXPECT_EQ(Slipway({"project", "remove", "1"}).exit_code, 1);
}

// `project set` gives a project a forge, changes one flag of it at a time
// and removes it; the token comes from the environment only, and a refused
// change leaves what was stored.
TEST_F(AdminCommandsTest, ProjectSetChangesTheForge) {
  ASSERT_EQ(Slipway({"project", "add", "app", scratch_.dir() + "/repo", "--path", "team/app",
                     "--no-check"})
                .exit_code,
            0);
  CliResult no_forge = Slipway({"project", "set", "1", "--forge-url", "https://x.example"});
  EXPECT_EQ(no_forge.exit_code, 2);
  EXPECT_EQ(no_forge.err,
            "slipway: --forge-url, --forge-project and --forge-token-env need --forge\n");
  CliResult no_token = Slipway({"project", "set", "1", "--forge", "github"});
  EXPECT_EQ(no_token.exit_code, 2);
  EXPECT_THAT(no_token.err, HasSubstr("--forge github needs a token"));
  EXPECT_FALSE(Forge(1).has_value());

  CliResult github =
      Slipway({"project", "set", "1", "--forge", "github", "--forge-token-env", "APP_FORGE_TOKEN"},
              {"APP_FORGE_TOKEN=first-token"});
  ASSERT_EQ(github.exit_code, 0) << github.err;
  std::optional<ProjectForgeSettings> forge = Forge(1);
  ASSERT_TRUE(forge.has_value());
  EXPECT_EQ(forge->kind, "github");
  EXPECT_EQ(forge->api_url, "https://api.github.com");
  EXPECT_EQ(forge->forge_project, "team/app");  // The project's path.
  EXPECT_EQ(forge->token, "first-token");

  // One flag changes one thing.
  ASSERT_EQ(
      Slipway({"project", "set", "1", "--forge-url", "https://ghe.example/api/v3/"}).exit_code, 0);
  ASSERT_EQ(Slipway({"project", "set", "team/app", "--forge-project", "org/app"}).exit_code, 0);
  forge = Forge(1);
  ASSERT_TRUE(forge.has_value());
  EXPECT_EQ(forge->kind, "github");
  EXPECT_EQ(forge->api_url, "https://ghe.example/api/v3");
  EXPECT_EQ(forge->forge_project, "org/app");
  EXPECT_EQ(forge->token, "first-token");

  // Another kind of forge needs its own URL and token: GitHub's would be wrong.
  CliResult gitea = Slipway({"project", "set", "1", "--forge", "gitea"});
  EXPECT_EQ(gitea.exit_code, 2);
  EXPECT_THAT(gitea.err, HasSubstr("--forge gitea needs --forge-url"));
  CliResult unset = Slipway({"project", "set", "1", "--forge-token-env", "NOPE_UNSET_X"});
  EXPECT_EQ(unset.err,
            "slipway: --forge-token-env NOPE_UNSET_X: not set in slipway's environment\n");
  CliResult bad_url = Slipway({"project", "set", "1", "--forge-url", "ftp://x", "--name", "New"});
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_EQ(bad_url.err, "slipway: --forge-url: not an http(s) URL\n");
  EXPECT_THAT(Slipway({"project", "list"}).out, Not(HasSubstr("New")));
  EXPECT_EQ(Forge(1)->api_url, "https://ghe.example/api/v3");
  CliResult moved = Slipway({"project", "set", "1", "--forge", "gitea", "--forge-url",
                             "https://gitea.example/api/v1", "--forge-token-env", "T"},
                            {"T=gitea-token"});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  forge = Forge(1);
  ASSERT_TRUE(forge.has_value());
  EXPECT_EQ(forge->kind, "gitea");
  EXPECT_EQ(forge->api_url, "https://gitea.example/api/v1");
  EXPECT_EQ(forge->forge_project, "org/app");
  EXPECT_EQ(forge->token, "gitea-token");

  CliResult mixed = Slipway({"project", "set", "1", "--forge", "", "--forge-url", "https://x"});
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_TRUE(Forge(1).has_value());
  ASSERT_EQ(Slipway({"project", "set", "1", "--forge", ""}).exit_code, 0);
  EXPECT_FALSE(Forge(1).has_value());
}

// Reading commands never make a data directory where a mistyped --data points.
TEST_F(AdminCommandsTest, ListingsDoNotCreateADataDirectory) {
  for (std::vector<std::string> args : {std::vector<std::string>{"token", "list"},
                                        {"token", "revoke", "1"},
                                        {"schedule", "list"},
                                        {"schedule", "remove", "1"},
                                        {"project", "set", "1", "--name", "x"},
                                        {"project", "remove", "1"}}) {
    CliResult r = Slipway(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << " " << args[1];
    EXPECT_THAT(r.err, HasSubstr("is --data right?"));
  }
  EXPECT_FALSE(std::filesystem::exists(data_));
}

}  // namespace
}  // namespace slipway
