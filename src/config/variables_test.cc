#include "config/variables.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace slipway {
namespace {

VariableList Vars(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  VariableList vars;
  for (const auto& [name, value] : pairs) vars.Set(name, value);
  return vars;
}

TEST(VariableListTest, SetReplacesInPlaceAndKeepsOrder) {
  VariableList vars = Vars({{"A", "1"}, {"B", "2"}});
  vars.Set("A", "3");
  ASSERT_EQ(vars.size(), 2u);
  EXPECT_EQ(vars.items()[0].name, "A");
  EXPECT_EQ(*vars.Get("A"), "3");
  EXPECT_EQ(vars.Get("C"), nullptr);
  EXPECT_TRUE(vars.Erase("A"));
  EXPECT_FALSE(vars.Erase("A"));
  EXPECT_EQ(vars.items()[0].name, "B");
}

TEST(VariableListTest, MergeOverlaysOther) {
  VariableList base = Vars({{"A", "1"}, {"B", "2"}});
  base.Merge(Vars({{"B", "x"}, {"C", "y"}}));
  EXPECT_EQ(*base.Get("A"), "1");
  EXPECT_EQ(*base.Get("B"), "x");
  EXPECT_EQ(*base.Get("C"), "y");
}

struct ExpandCase {
  const char* text;
  const char* expected;
};

void PrintTo(const ExpandCase& c, std::ostream* os) { *os << '"' << c.text << '"'; }

class ExpandVariablesTest : public testing::TestWithParam<ExpandCase> {};

TEST_P(ExpandVariablesTest, Expands) {
  VariableList vars = Vars({{"NAME", "world"},
                            {"EMPTY", ""},
                            {"A_1", "one"},
                            {"PATHY", "$NAME/dir"},
                            {"CHAIN", "<$PATHY>"},
                            {"BRACED", "${NAME}"},
                            {"DOLLARS", "cost $$5"},
                            {"PCT", "%NAME%"}});
  EXPECT_EQ(ExpandVariables(GetParam().text, vars), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExpandVariablesTest,
    testing::Values(ExpandCase{"", ""}, ExpandCase{"plain text", "plain text"},
                    ExpandCase{"$NAME", "world"}, ExpandCase{"${NAME}", "world"},
                    ExpandCase{"hello $NAME!", "hello world!"},
                    ExpandCase{"hello ${NAME}s", "hello worlds"},
                    ExpandCase{"$NAMEs", ""},  // The name is the longest run of name characters.
                    ExpandCase{"$NAME$NAME", "worldworld"}, ExpandCase{"$A_1-x", "one-x"},
                    ExpandCase{"$UNKNOWN", ""}, ExpandCase{"a${UNKNOWN}b", "ab"},
                    ExpandCase{"[$EMPTY]", "[]"}, ExpandCase{"$$", "$"},
                    ExpandCase{"$$NAME", "$NAME"}, ExpandCase{"$$$NAME", "$world"},
                    ExpandCase{"$$$$", "$$"}, ExpandCase{"$", "$"}, ExpandCase{"a $ b", "a $ b"},
                    ExpandCase{"$1", "$1"}, ExpandCase{"${", "${"}, ExpandCase{"${}", "${}"},
                    ExpandCase{"${NAME", "${NAME"}, ExpandCase{"${NA-ME}", "${NA-ME}"},
                    ExpandCase{"${1A}", "${1A}"}, ExpandCase{"%NAME%", "%NAME%"},
                    ExpandCase{"$PATHY", "world/dir"}, ExpandCase{"$CHAIN", "<world/dir>"},
                    ExpandCase{"$BRACED", "world"}, ExpandCase{"$DOLLARS", "cost $5"},
                    ExpandCase{"$PCT", "%NAME%"}, ExpandCase{"$name", ""}));

TEST(ExpandExistingVariablesTest, KeepsUnknownReferencesAsWritten) {
  VariableList vars = Vars({{"DIR", "src"}, {"NESTED", "$DIR/$NOPE"}, {"EMPTY", ""}});
  EXPECT_EQ(ExpandExistingVariables("$DIR/**/*.c", vars), "src/**/*.c");
  EXPECT_EQ(ExpandExistingVariables("${DIR}/$NOPE/${NOPE}x", vars), "src/$NOPE/${NOPE}x");
  EXPECT_EQ(ExpandExistingVariables("$NESTED", vars), "src/$NOPE");
  EXPECT_EQ(ExpandExistingVariables("[$EMPTY]$$", vars), "[]$");
  EXPECT_EQ(ExpandVariables("$DIR/$NOPE", vars), "src/");
}

TEST(ExpandVariablesTest, ExpandFalseValuesAreVerbatim) {
  VariableList vars = Vars({{"NAME", "world"}});
  Variable raw;
  raw.name = "RAW";
  raw.value = "$NAME and $$";
  raw.expand = false;
  vars.Set(raw);
  vars.Set("USES_RAW", "<$RAW>");
  EXPECT_EQ(ExpandVariables("$RAW", vars), "$NAME and $$");
  EXPECT_EQ(ExpandVariables("$USES_RAW", vars), "<$NAME and $$>");
}

TEST(ExpandVariablesTest, SelfReferenceStopsAfterOneLevel) {
  VariableList vars = Vars({{"X", "a$X"}, {"P", "$Q"}, {"Q", "q$P"}});
  EXPECT_EQ(ExpandVariables("$X", vars), "a$X");
  EXPECT_EQ(ExpandVariables("${X}", vars), "a$X");
  EXPECT_EQ(ExpandVariables("$P", vars), "q$P");
  EXPECT_EQ(ExpandVariables("$Q", vars), "q$Q");
}

TEST(ExpandVariablesTest, LongChainIsBoundedInDepth) {
  VariableList vars;
  for (int i = 0; i < 100; ++i) {
    vars.Set("V" + std::to_string(i), "$V" + std::to_string(i + 1));
  }
  vars.Set("V100", "end");
  // The chain is cut at the depth bound, leaving the reference there as written.
  EXPECT_EQ(ExpandVariables("$V0", vars), "$V32");
  EXPECT_EQ(ExpandVariables("$V90", vars), "end");
}

TEST(ExpandVariablesTest, ExponentialGrowthIsBounded) {
  VariableList vars;
  for (int i = 0; i < 40; ++i) {
    vars.Set("V" + std::to_string(i), "$V" + std::to_string(i + 1) + "$V" + std::to_string(i + 1));
  }
  vars.Set("V40", "0123456789");
  std::string out = ExpandVariables("$V0", vars);
  EXPECT_GT(out.size(), size_t{1} << 20);
  EXPECT_LT(out.size(), size_t{4} << 20);
}

}  // namespace
}  // namespace slipway
