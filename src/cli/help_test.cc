// `slipway help [COMMAND]` and what a command line without a needed
// subcommand, with an unknown one or with a usage error gets: the real
// binary, exact text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/cli_test_util.h"

namespace slipway {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

constexpr const char* kProjectUsage =
    "Manage the server's projects\n"
    "Usage: slipway project [OPTIONS] SUBCOMMAND\n"
    "\n"
    "Options:\n"
    "  -h,--help                   Print this help message and exit\n"
    "\n"
    "Subcommands:\n"
    "  add                         Register a git repository; prints its id\n"
    "  list                        List the registered projects\n"
    "  set                         Change a project's settings\n"
    "  remove                      Delete a project with its pipelines, logs, artifacts, caches "
    "and mirror\n";

constexpr const char* kRootUsageStart =
    "slipway: run GitLab CI pipelines on this machine, exactly as GitLab would\n"
    "Usage: slipway [OPTIONS] SUBCOMMAND\n";

TEST(HelpTest, HelpPrintsTheUsageOfTheNamedCommand) {
  CliResult root = RunSlipway({"help"});
  EXPECT_EQ(root.exit_code, 0);
  EXPECT_THAT(root.out, StartsWith(kRootUsageStart));
  EXPECT_THAT(root.out, testing::HasSubstr("\n  project                     Manage the server's "
                                           "projects\n"));
  EXPECT_THAT(root.out, EndsWith("\nRun `slipway help COMMAND` for a command's options and "
                                 "subcommands.\n"));
  EXPECT_EQ(root.err, "");

  CliResult project = RunSlipway({"help", "project"});
  EXPECT_EQ(project.exit_code, 0);
  EXPECT_EQ(project.out, kProjectUsage);

  CliResult add = RunSlipway({"help", "project", "add"});
  EXPECT_EQ(add.exit_code, 0);
  EXPECT_THAT(add.out, StartsWith("Register a git repository; prints its id\n"
                                  "Usage: slipway project add [OPTIONS] name repo\n"
                                  "\n"
                                  "Positionals:\n"
                                  "  name NAME REQUIRED          The project's name\n"));
  EXPECT_THAT(add.out, testing::HasSubstr("\n  --no-check "));
  // The same as --help.
  EXPECT_EQ(RunSlipway({"project", "add", "--help"}).out, add.out + "\n");

  // --url repeats (one connection per server replica, docs/runners.md).
  CliResult runner = RunSlipway({"help", "runner"});
  EXPECT_EQ(runner.exit_code, 0);
  EXPECT_THAT(runner.out,
              testing::HasSubstr("\n  --url URL ... REQUIRED      The server, e.g. "
                                 "https://ci.example:8443; repeated: the replicas of one "
                                 "installation, which share --concurrency\n"));
}

TEST(HelpTest, AMissingSubcommandPrintsThatCommandsUsage) {
  CliResult project = RunSlipway({"project"});
  EXPECT_EQ(project.exit_code, 2);
  EXPECT_EQ(project.out, "");
  EXPECT_EQ(project.err,
            std::string(kProjectUsage) + "\nerror: `slipway project` needs a subcommand\n");

  CliResult root = RunSlipway({});
  EXPECT_EQ(root.exit_code, 2);
  EXPECT_THAT(root.err, StartsWith(kRootUsageStart));
  EXPECT_THAT(root.err, EndsWith("subcommands.\n\nerror: `slipway` needs a subcommand\n"));

  CliResult token = RunSlipway({"token"});
  EXPECT_EQ(token.exit_code, 2);
  EXPECT_THAT(token.err, StartsWith("Manage API tokens\nUsage: slipway token [OPTIONS] "
                                    "SUBCOMMAND\n"));
  EXPECT_THAT(token.err, EndsWith("\nerror: `slipway token` needs a subcommand\n"));
}

TEST(HelpTest, UnknownCommandsSuggestTheNearest) {
  CliResult lnit = RunSlipway({"lnit"});
  EXPECT_EQ(lnit.exit_code, 2);
  EXPECT_EQ(lnit.err,
            "error: `slipway` has no subcommand `lnit`; did you mean `lint`?\n"
            "Run `slipway help` for the list.\n");
  CliResult list = RunSlipway({"project", "lsit"});
  EXPECT_EQ(list.exit_code, 2);
  EXPECT_EQ(list.err,
            "error: `slipway project` has no subcommand `lsit`; did you mean `list`?\n"
            "Run `slipway help project` for the list.\n");
  CliResult help = RunSlipway({"help", "project", "nope"});
  EXPECT_EQ(help.exit_code, 2);
  EXPECT_EQ(help.out, "");
  EXPECT_EQ(help.err,
            "error: `slipway project` has no subcommand `nope`\n"
            "Run `slipway help project` for the list.\n");
}

TEST(HelpTest, OtherUsageErrorsNameTheHelpCommand) {
  CliResult missing = RunSlipway({"project", "add"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "error: name is required\nRun `slipway help project add` for usage.\n");
  CliResult option = RunSlipway({"run", "--bogus"});
  EXPECT_EQ(option.exit_code, 2);
  EXPECT_EQ(option.err,
            "error: The following argument was not expected: --bogus\n"
            "Run `slipway help run` for usage.\n");
  CliResult misspelt = RunSlipway({"run", "--colr=never"});
  EXPECT_EQ(misspelt.exit_code, 2);
  EXPECT_EQ(misspelt.err,
            "error: The following argument was not expected: --colr=never; did you mean "
            "`--color`?\nRun `slipway help run` for usage.\n");
  CliResult version = RunSlipway({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, StartsWith("slipway "));
}

}  // namespace
}  // namespace slipway
