#include "exec/scheduler_parameters.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

std::vector<std::string> Words(std::string_view value) {
  StatusOr<std::vector<std::string>> words = ParseSchedulerParameters(value);
  EXPECT_TRUE(words.ok()) << words.status().message();
  return words.ok() ? *words : std::vector<std::string>{"<error>"};
}

std::string Error(std::string_view value) {
  StatusOr<std::vector<std::string>> words = ParseSchedulerParameters(value);
  return words.ok() ? "<ok>" : words.status().message();
}

TEST(SchedulerParametersTest, SplitsOnBlanks) {
  EXPECT_EQ(Words("  -N 1\t--partition=debug\n-c 2 "),
            (std::vector<std::string>{"-N", "1", "--partition=debug", "-c", "2"}));
  EXPECT_TRUE(Words("").empty());
  EXPECT_TRUE(Words("   ").empty());
}

TEST(SchedulerParametersTest, QuotesKeepBlanksAndNothingIsExpanded) {
  EXPECT_EQ(Words("--comment 'two  words' --job-name=\"a \\\"b\\\" \\\\ c\" x\\ y '$HOME'"),
            (std::vector<std::string>{"--comment", "two  words", "--job-name=a \"b\" \\ c", "x y",
                                      "$HOME"}));
  EXPECT_EQ(Words("--comment=a'b c'\"d\""), (std::vector<std::string>{"--comment=ab cd"}));
  EXPECT_EQ(Words("''"), (std::vector<std::string>{""}));
}

TEST(SchedulerParametersTest, UnterminatedQuotesAndTrailingBackslashAreErrors) {
  EXPECT_EQ(Error("-N 1 --comment 'open"), "SCHEDULER_PARAMETERS: column 16: unterminated ' quote");
  EXPECT_EQ(Error("--comment \"open"), "SCHEDULER_PARAMETERS: column 11: unterminated \" quote");
  EXPECT_EQ(Error("-N 1 \\"), "SCHEDULER_PARAMETERS: column 6: a backslash ends the value");
}

TEST(SchedulerParametersTest, OptionsTheExecutorDecidesAreRefused) {
  EXPECT_EQ(Error("-N 1 --output=/tmp/x"),
            "SCHEDULER_PARAMETERS: column 6: '--output=/tmp/x' is not allowed: the executor "
            "collects the job's output");
  EXPECT_EQ(Error("-o /tmp/x"),
            "SCHEDULER_PARAMETERS: column 1: '-o' is not allowed: the executor collects the "
            "job's output");
  EXPECT_EQ(Error("--export ALL,SECRET=x"),
            "SCHEDULER_PARAMETERS: column 1: '--export' is not allowed: the job's variables are "
            "its environment");
  EXPECT_EQ(Error("-t10"),
            "SCHEDULER_PARAMETERS: column 1: '-t10' is not allowed: the job's timeout: sets the "
            "time limit");
  for (const char* refused : {"--wait", "-W", "--wrap=x", "--chdir=/", "-D/", "--uid=0", "--gid=0",
                              "--array=1-3", "--parsable", "--error=x", "--time=5",
                              "--open-mode=truncate", "--input=x", "--export-file=f"}) {
    EXPECT_NE(Error(refused), "<ok>") << refused;
  }
  // Names that merely start like a refused one are not refused.
  EXPECT_EQ(Words("--time-min=5 --output-x"),
            (std::vector<std::string>{"--time-min=5", "--output-x"}));
}

}  // namespace
}  // namespace slipway
