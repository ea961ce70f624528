#include "exec/dotenv.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

std::string Parsed(std::string_view content) {
  VariableList vars;
  Status s = ParseDotenv(content, &vars);
  if (!s.ok()) return "error: " + s.message();
  std::string out;
  for (const Variable& v : vars.items()) out += v.name + "=[" + v.value + "];";
  return out;
}

TEST(DotenvTest, SplitsAtFirstEqualsAndStrips) {
  EXPECT_EQ(Parsed("A=1\nB = two words \nC=x=y\n"), "A=[1];B=[two words];C=[x=y];");
  EXPECT_EQ(Parsed("URL=http://h/?a=b"), "URL=[http://h/?a=b];");
  EXPECT_EQ(Parsed("EMPTY=\n"), "EMPTY=[];");
  EXPECT_EQ(Parsed("WIN=1\r\n"), "WIN=[1];");
}

TEST(DotenvTest, QuotesAndDollarsAreKept) {
  EXPECT_EQ(Parsed("Q=\"quoted\"\nS='single'\nD=$HOME\n"),
            "Q=[\"quoted\"];S=['single'];D=[$HOME];");
}

TEST(DotenvTest, LaterLineWins) { EXPECT_EQ(Parsed("A=1\nA=2\n"), "A=[2];"); }

TEST(DotenvTest, EmptyLinesAndCommentsAreInvalid) {
  EXPECT_EQ(Parsed("A=1\n\nB=2\n"), "error: Invalid Format");
  EXPECT_EQ(Parsed("# comment\nA=1\n"), "error: Invalid Format");
  EXPECT_EQ(Parsed("#A=1\n"), "error: Key can contain only letters, digits and '_'.");
  EXPECT_EQ(Parsed("export A=1\n"), "error: Key can contain only letters, digits and '_'.");
  EXPECT_EQ(Parsed("=1\n"), "error: Key can contain only letters, digits and '_'.");
}

TEST(DotenvTest, Limits) {
  EXPECT_EQ(Parsed("A=" + std::string(5120, 'x')),
            "error: Dotenv Artifact Too Big. Maximum Allowable Size: 5120");
  VariableList vars;
  std::string twenty_one;
  for (int i = 0; i < 21; ++i) twenty_one += "V" + std::to_string(i) + "=x\n";
  ASSERT_TRUE(ParseDotenv(twenty_one, &vars).ok());
  Status limit = CheckDotenvLimit(vars);
  ASSERT_FALSE(limit.ok());
  EXPECT_EQ(limit.message(), "Dotenv files cannot have more than 20 variables");
  vars.Erase("V0");
  EXPECT_TRUE(CheckDotenvLimit(vars).ok());
}

}  // namespace
}  // namespace slipway
