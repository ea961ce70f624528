#include "exec/coverage.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

std::optional<std::string> Coverage(std::string_view log, const std::string& regexp) {
  std::string error;
  auto parsed = RubyRegexp::Parse(regexp, &error);
  EXPECT_NE(parsed, nullptr) << error;
  return parsed ? CoverageInLog(log, *parsed) : std::nullopt;
}

// GitLab's rules: the last line that gives a number wins; in a line, the
// last match (its last group, when there are groups); in the match, the
// first number.
TEST(CoverageTest, TheLastLineWithANumberInItsLastMatchWins) {
  const std::string regexp = R"(/TOTAL.*\s+(\d+%)$/)";
  EXPECT_EQ(Coverage("TOTAL 10 2 80%\nsomething\nTOTAL 12 1 91.67%\r\nbye\n",
                     R"(/TOTAL.*\s+(\d+\.?\d*%)$/)"),
            "91.67");
  EXPECT_EQ(Coverage("TOTAL 10 2 80%\n", regexp), "80");
  EXPECT_EQ(Coverage("no coverage here\n", regexp), std::nullopt);
  // The whole match without groups; its first number.
  EXPECT_EQ(Coverage("Lines: 12.5% (3 of 24)\n", R"(/Lines:\s*\d+.\d+%/)"), "12.5");
  // Two matches in one line: the last one.
  EXPECT_EQ(Coverage("cov=10 cov=20\n", "/cov=\\d+/"), "20");
  // A later line that matches without a number does not replace an earlier one.
  EXPECT_EQ(Coverage("cov=30\ncov=none\n", "/cov=\\S+/"), "30");
}

}  // namespace
}  // namespace slipway
