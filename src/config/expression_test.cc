#include "config/expression.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "config/yaml_parser.h"

namespace slipway {
namespace {

// The variables every truth-table case is evaluated against.
VariableList TableVariables() {
  VariableList vars;
  vars.Set("PRESENT", "my variable");
  vars.Set("EMPTY", "");
  vars.Set("SPACES", " \t ");
  vars.Set("NBSP", "\xC2\xA0");  // U+00A0, blank for Rails.
  vars.Set("FOO", "foo");
  vars.Set("FOO2", "foo");
  vars.Set("BAR", "bar");
  vars.Set("TRUE_TEXT", "true");
  vars.Set("NULL_TEXT", "null");
  vars.Set("MAIN", "main");
  vars.Set("RE", "/^ma/");
  vars.Set("RE_I", "/^MA/i");
  vars.Set("RE_BAD", "/(/");
  vars.Set("RE_FLAG_BAD", "/ma/x");
  vars.Set("PLAIN", "ain");
  vars.Set("BRANCH", "feature/login");
  vars.Set("BRANCH_RE", "/^feature\\/log/");
  vars.Set("PATH", "a/path/variable/value");
  vars.Set("FULL_PATH", "/a/full/path/variable/value");
  vars.Set("MULTI", "line1\nline2");
  vars.Set("TAG", "v1.2.3");
  vars.Set("SOURCE", "merge_request_event");
  vars.Set("PUSH", "push");
  vars.Set("N1234", "1234");
  vars.Set("N23", "23");
  vars.Set("R23", "/23/");
  vars.Set("JOB_RE", "/ci-skip-job-/");
  vars.Set("SKIP", "ci-skip-job-");
  vars.Set("PROD_REF", "/^(master|main)$/");
  vars.Set("lower", "x");
  vars.Set("_1", "one");
  return vars;
}

struct TruthCase {
  const char* expression;
  bool expected;
};

void PrintTo(const TruthCase& c, std::ostream* os) { *os << c.expression; }

class ExpressionTruthTest : public testing::TestWithParam<TruthCase> {};

TEST_P(ExpressionTruthTest, Evaluates) {
  StatusOr<Expression> e = Expression::Parse(GetParam().expression);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->Evaluate(TableVariables()), GetParam().expected) << GetParam().expression;
}

INSTANTIATE_TEST_SUITE_P(LoneValues, ExpressionTruthTest,
                         testing::Values(TruthCase{"$PRESENT", true}, TruthCase{"$EMPTY", false},
                                         TruthCase{"$UNDEFINED", false},
                                         TruthCase{"$SPACES", false}, TruthCase{"$NBSP", false},
                                         TruthCase{"$lower", true}, TruthCase{"$_1", true},
                                         TruthCase{"  $FOO  ", true}, TruthCase{"\"string\"", true},
                                         TruthCase{"''", false}, TruthCase{"' '", false},
                                         TruthCase{"null", false}, TruthCase{"true", true},
                                         TruthCase{"false", false}, TruthCase{"/ab/", true},
                                         TruthCase{"($FOO)", true}, TruthCase{"(($EMPTY))", false},
                                         TruthCase{"$FOO\n", true}));

INSTANTIATE_TEST_SUITE_P(
    Equality, ExpressionTruthTest,
    testing::Values(TruthCase{"$PRESENT == \"my variable\"", true},
                    TruthCase{"\"my variable\" == $PRESENT", true},
                    TruthCase{"$FOO == 'foo'", true}, TruthCase{"$FOO=='foo'", true},
                    TruthCase{"$FOO == 'bar'", false}, TruthCase{"$FOO == 'FOO'", false},
                    TruthCase{"$FOO != 'bar'", true}, TruthCase{"$FOO != 'foo'", false},
                    TruthCase{"$FOO == $FOO2", true}, TruthCase{"$FOO == $BAR", false},
                    TruthCase{"$FOO != $BAR", true}, TruthCase{"$PRESENT == null", false},
                    TruthCase{"$PRESENT != null", true}, TruthCase{"$EMPTY == null", false},
                    TruthCase{"$EMPTY != null", true}, TruthCase{"\"\" == $EMPTY", true},
                    TruthCase{"$EMPTY == ''", true}, TruthCase{"\"\" != $EMPTY", false},
                    TruthCase{"$UNDEFINED == null", true}, TruthCase{"null == $UNDEFINED", true},
                    TruthCase{"$UNDEFINED != null", false}, TruthCase{"null != $UNDEFINED", false},
                    TruthCase{"$UNDEFINED == ''", false}, TruthCase{"$UNDEFINED == $EMPTY", false},
                    TruthCase{"$UNDEFINED == $OTHER_UNDEFINED", true},
                    TruthCase{"null == null", true}, TruthCase{"null != null", false},
                    TruthCase{"$NULL_TEXT == null", false}, TruthCase{"$NULL_TEXT == 'null'", true},
                    TruthCase{"$TRUE_TEXT == 'true'", true}, TruthCase{"$TRUE_TEXT == true", false},
                    TruthCase{"true == true", true}, TruthCase{"true != false", true},
                    TruthCase{"true == 'true'", false}, TruthCase{"/ab/ == /ab/", true},
                    TruthCase{"/ab/ == /ab/i", false}, TruthCase{"/ab/ == 'ab'", false},
                    TruthCase{"$FOO == 'foo' == true", true},
                    TruthCase{"'a' == 'a' != false", true}));

INSTANTIATE_TEST_SUITE_P(
    RegexLiterals, ExpressionTruthTest,
    testing::Values(
        TruthCase{"$PRESENT =~ /var.*e$/", true}, TruthCase{"$PRESENT =~ /^var.*/", false},
        TruthCase{"$PRESENT =~ /va\\r.*e$/", false}, TruthCase{"$PRESENT =~ /VAR.*/i", true},
        TruthCase{"$PRESENT =~ /VAR.*/", false}, TruthCase{"$EMPTY =~ /var.*/", false},
        TruthCase{"$UNDEFINED =~ /var.*/", false}, TruthCase{"$PRESENT !~ /var.*e$/", false},
        TruthCase{"$PRESENT !~ /^var.*/", true}, TruthCase{"$EMPTY !~ /var.*/", true},
        TruthCase{"$UNDEFINED !~ /var.*/", true}, TruthCase{"$PRESENT !~ /VAR.*/i", false},
        TruthCase{"$PATH =~ /path\\/variable/", true},
        TruthCase{"$FULL_PATH =~ /^\\/a\\/full\\/path\\/variable\\/value$/", true},
        TruthCase{"$BRANCH =~ /^feature\\/.+/", true}, TruthCase{"$FOO =~ /^foo$/", true},
        TruthCase{"$FOO =~ /^fo$/", false}, TruthCase{"$FOO=~/fo/", true},
        // An empty match counts: GitLab matches /^v*/ against an unset tag.
        TruthCase{"$UNDEFINED =~ /^v*/", true}, TruthCase{"$EMPTY =~ /^$/", true},
        TruthCase{"$TAG =~ /^v\\d+\\.\\d+\\.\\d+$/", true},
        TruthCase{"$TAG =~ /\\Av[0-9]+\\.[0-9]+\\.[0-9]+(-rc[0-9]+)?\\z/", true},
        TruthCase{"$TAG =~ /^v[0-9.]+$/", true}, TruthCase{"$TAG =~ /^(?:v1|v2)\\./", true},
        TruthCase{"$TAG =~ /^[[:alpha:]][[:digit:]]/", true},
        TruthCase{"$MULTI =~ /^line2/", false}, TruthCase{"$MULTI =~ /^line2/m", true},
        TruthCase{"$MULTI =~ /1.line/", false}, TruthCase{"$MULTI =~ /1.line/s", true},
        TruthCase{"$FOO =~ /f.*?/U", true}, TruthCase{"$FOO =~ /FO+/im", true},
        TruthCase{"'Hello World' =~ /Hello (?i)WORLD/", true},
        TruthCase{"\"product-name/v0.0.0+build.0\" =~ /^(?:product-name\\/)?v\\d+\\.\\d+\\.\\d+.*/",
                  true},
        TruthCase{"'23' =~ /1234/", false}, TruthCase{"'master' =~ /master$/", true}));

INSTANTIATE_TEST_SUITE_P(
    RegexInVariables, ExpressionTruthTest,
    testing::Values(TruthCase{"$MAIN =~ $RE", true}, TruthCase{"$MAIN =~ $RE_I", true},
                    TruthCase{"$FOO =~ $RE", false}, TruthCase{"$MAIN !~ $RE", false},
                    TruthCase{"$FOO !~ $RE", true}, TruthCase{"$BRANCH =~ $BRANCH_RE", true},
                    TruthCase{"$MAIN =~ $PROD_REF", true}, TruthCase{"$FOO =~ $PROD_REF", false},
                    TruthCase{"$SKIP =~ $JOB_RE", true},
                    // An unset right side never matches.
                    TruthCase{"$MAIN =~ $UNDEFINED", false}, TruthCase{"$MAIN !~ $UNDEFINED", true},
                    TruthCase{"$MAIN =~ null", false}, TruthCase{"$MAIN !~ null", true},
                    // A value that is not a valid /regex/ is compared as a plain string:
                    // true when the left text occurs inside it (Ruby's String#scan).
                    TruthCase{"$FOO =~ $RE_BAD", false}, TruthCase{"'(' =~ $RE_BAD", true},
                    TruthCase{"$FOO !~ $RE_BAD", true}, TruthCase{"$MAIN =~ $RE_FLAG_BAD", false},
                    TruthCase{"'ma/' =~ $RE_FLAG_BAD", true}, TruthCase{"$MAIN =~ $PLAIN", false},
                    TruthCase{"'ai' =~ $PLAIN", true},
                    // GitLab issue 426313's table: LEFT =~ RIGHT over {1234, 23, /23/}.
                    TruthCase{"$N1234 =~ $N1234", true}, TruthCase{"$N1234 =~ $N23", false},
                    TruthCase{"$N1234 =~ $R23", true}, TruthCase{"$N23 =~ $N1234", true},
                    TruthCase{"$N23 =~ $N23", true}, TruthCase{"$N23 =~ $R23", true},
                    TruthCase{"$R23 =~ $N1234", false}, TruthCase{"$R23 =~ $N23", false},
                    TruthCase{"$R23 =~ $R23", true}));

INSTANTIATE_TEST_SUITE_P(StringsOnTheRightOfMatch, ExpressionTruthTest,
                         testing::Values(TruthCase{"$SOURCE =~ \"merge_request_event\"", true},
                                         TruthCase{"$PUSH =~ \"merge_request_event\"", false},
                                         TruthCase{"$PUSH !~ \"merge_request_event\"", true},
                                         TruthCase{"'request' =~ 'merge_request_event'", true},
                                         TruthCase{"'merge_request_event' =~ 'request'", false},
                                         TruthCase{"$UNDEFINED =~ 'abc'", true},
                                         TruthCase{"$EMPTY =~ 'abc'", true},
                                         TruthCase{"'foo' =~ '/^f/'", true},
                                         TruthCase{"'foo' =~ \"/^F/i\"", true},
                                         TruthCase{"'test/url' =~ '/test/ur/'", true},
                                         TruthCase{"'test/url' =~ '/test\\/ur/'", true},
                                         TruthCase{"\"Hello World\" =~ \"/hello world/i\"", true}));

INSTANTIATE_TEST_SUITE_P(
    Logic, ExpressionTruthTest,
    testing::Values(
        // && and || return an operand, as in Ruby, where "" is truthy; the
        // result is then true only if present (non-blank).
        TruthCase{"$PRESENT && \"string\"", true}, TruthCase{"$PRESENT && $EMPTY", false},
        TruthCase{"$PRESENT && null", false}, TruthCase{"$EMPTY && $PRESENT", true},
        TruthCase{"null && $PRESENT", false}, TruthCase{"$EMPTY && \"string\"", true},
        TruthCase{"$EMPTY && $EMPTY", false}, TruthCase{"\"string\" && null", false},
        TruthCase{"$PRESENT && $UNDEFINED", false}, TruthCase{"$UNDEFINED && $PRESENT", false},
        TruthCase{"$EMPTY || $PRESENT", false}, TruthCase{"$UNDEFINED || $PRESENT", true},
        TruthCase{"$PRESENT || $UNDEFINED", true}, TruthCase{"$EMPTY || $UNDEFINED", false},
        TruthCase{"$UNDEFINED || $EMPTY", false}, TruthCase{"false || $FOO", true},
        TruthCase{"true && $FOO =~ /123/", false}, TruthCase{"$FOO && $BAR", true},
        TruthCase{"$EMPTY == \"\" && $PRESENT", true},
        TruthCase{"$EMPTY == \"\" || $PRESENT", true},
        TruthCase{"$PRESENT && null || $EMPTY == \"\"", true},
        TruthCase{"$UNDEFINED == null || $PRESENT", true},
        TruthCase{"$PRESENT =~ /my var/ && $EMPTY =~ /nope/", false},
        TruthCase{"$PRESENT =~ /my var/ || $EMPTY =~ /nope/", true},
        // && binds tighter than ||.
        TruthCase{"$FOO || $UNDEFINED && $UNDEFINED", true},
        TruthCase{"($FOO || $UNDEFINED) && $UNDEFINED", false},
        TruthCase{"$UNDEFINED && $UNDEFINED || $FOO", true},
        TruthCase{"$UNDEFINED && ($UNDEFINED || $FOO)", false},
        TruthCase{"$FOO == 'foo' && $BAR == 'bar'", true},
        TruthCase{"$FOO == 'foo' && $BAR == 'x' || $MAIN == 'main'", true},
        TruthCase{"$FOO == 'x' || $BAR == 'bar' && $MAIN == 'x'", false},
        TruthCase{"(($FOO == 'foo') && ($BAR == 'bar'))", true},
        TruthCase{"$PRESENT && ($FOO == 'x' || ($BAR == 'bar' && $MAIN =~ /^m/))", true},
        // Short circuit: the right side is not evaluated.
        TruthCase{"$UNDEFINED && $X =~ $UNDEFINED", false},
        TruthCase{"$FOO || $X =~ $RE_BAD", true},
        TruthCase{"$FOO && (($SKIP =~ /ci-skip-job-/ && $SKIP =~ $JOB_RE) || $SKIP =~ "
                  "/ci-skip-stage-/)",
                  true}));

struct ErrorCase {
  const char* expression;
  const char* message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.expression; }

class ExpressionErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(ExpressionErrorTest, FailsToParse) {
  StatusOr<Expression> e = Expression::Parse(GetParam().expression);
  ASSERT_FALSE(e.ok()) << GetParam().expression;
  EXPECT_EQ(e.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExpressionErrorTest,
    testing::Values(
        ErrorCase{"", "empty expression"}, ErrorCase{"   ", "empty expression"},
        ErrorCase{"$A = 1", "unexpected '=' at column 4"},
        ErrorCase{"$A & $B", "unexpected '&' at column 4"},
        ErrorCase{"$A && ", "unexpected end of expression at column 7, expected a value"},
        ErrorCase{"&& $A", "unexpected '&&' at column 1, expected a value"},
        ErrorCase{"$A $B", "unexpected '$B' at column 4, expected an operator"},
        ErrorCase{"$A == == $B", "unexpected '==' at column 7, expected a value"},
        ErrorCase{"($A", "missing ')' for '(' at column 1"},
        ErrorCase{"($A $B)", "unexpected '$B' at column 5, expected an operator or ')'"},
        ErrorCase{"$A)", "unmatched ')' at column 3"},
        ErrorCase{"()", "unexpected ')' at column 2, expected a value"},
        ErrorCase{"${A} == 'x'",
                  "unexpected '${' at column 1: variables in expressions are written $NAME, "
                  "without braces"},
        ErrorCase{"$ == 'x'", "unexpected '$' at column 1"},
        ErrorCase{"$A == \"abc", "unterminated string at column 7"},
        ErrorCase{"$A == 'a\nb'", "unterminated string at column 7"},
        ErrorCase{"$A =~ /a/",
                  "invalid regular expression literal at column 7 (expected /pattern/flags with at "
                  "least two characters between the slashes)"},
        ErrorCase{"$A =~ /ab",
                  "invalid regular expression literal at column 7 (expected /pattern/flags with at "
                  "least two characters between the slashes)"},
        ErrorCase{"$A =~ /a(b/", "invalid regular expression /a(b/ at column 7: missing ): a(b"},
        ErrorCase{"$A =~ /ab/x",
                  "unsupported regular expression flag 'x' at column 11 (GitLab accepts i, m, s "
                  "and U)"},
        ErrorCase{"$A =~ /ab/ix",
                  "unsupported regular expression flag 'x' at column 12 (GitLab accepts i, m, s "
                  "and U)"},
        ErrorCase{"$A =~ /ab/ x", "unexpected 'x' at column 12"},
        ErrorCase{"'test/url' =~ /test/ur/",
                  "unsupported regular expression flag 'u' at column 21 (GitLab accepts i, m, s "
                  "and U)"},
        ErrorCase{"!$A", "unexpected '!' at column 1"},
        ErrorCase{"$A == nullx", "unexpected 'x' at column 11"},
        ErrorCase{"$A == trueish", "unexpected 't' at column 7"}));

TEST(ExpressionTest, AcceptsUpTo99Tokens) {
  std::string text = "$A";
  for (int i = 0; i < 49; ++i) text += " || $A";  // 99 tokens.
  EXPECT_TRUE(Expression::Parse(text).ok());
  text += " ||";
  StatusOr<Expression> e = Expression::Parse(text);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "expression has too many tokens (GitLab allows at most 99)");
}

TEST(ExpressionTest, DeepNestingIsRejectedWithoutRecursingDeeply) {
  std::string text(100000, '(');
  StatusOr<Expression> e = Expression::Parse(text);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "expression has too many tokens (GitLab allows at most 99)");
}

TEST(ExpressionTest, KeepsTextAndMoves) {
  StatusOr<Expression> parsed = Expression::Parse("$A == 'x'");
  ASSERT_TRUE(parsed.ok());
  Expression e = std::move(*parsed);
  EXPECT_EQ(e.text(), "$A == 'x'");
  VariableList vars;
  vars.Set("A", "x");
  EXPECT_TRUE(e.Evaluate(vars));
  vars.Set("A", "y");
  EXPECT_FALSE(e.Evaluate(vars));
}

TEST(ExpressionTest, ValuesAreNotExpandedFurther) {
  // GitLab compares the stored value; "$B" inside A's value stays literal.
  VariableList vars;
  vars.Set("A", "$B");
  vars.Set("B", "x");
  StatusOr<Expression> e = Expression::Parse("$A == '$B'");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->Evaluate(vars));
}

void CollectIfs(const Node& node, std::vector<std::string>* out) {
  if (node.IsMap()) {
    for (const MapEntry& entry : node.entries) {
      if (entry.key == "if" && entry.value.IsScalar()) out->push_back(entry.value.scalar);
      CollectIfs(entry.value, out);
    }
  } else if (node.IsSequence()) {
    for (const Node& item : node.items) CollectIfs(item, out);
  }
}

// Every `if:` in the real pipelines of the corpus parses.
TEST(ExpressionCorpusTest, ParsesEveryIfInTheCorpus) {
  std::filesystem::path corpus = SLIPWAY_SOURCE_DIR "/../shared/corpus";
  if (!std::filesystem::is_directory(corpus)) GTEST_SKIP() << "no corpus at " << corpus;
  std::vector<std::string> ifs;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(corpus)) {
    std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".yml" && ext != ".yaml")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    // Unreadable YAML is not this test's concern: the loader's tests cover it.
    Diagnostics diags;
    if (auto docs = ParseYaml(text.str(), entry.path().string(), &diags)) {
      for (const Node& doc : *docs) CollectIfs(doc, &ifs);
    }
  }
  EXPECT_GT(ifs.size(), 300u);
  for (const std::string& text : ifs) {
    StatusOr<Expression> e = Expression::Parse(text);
    EXPECT_TRUE(e.ok()) << text << ": " << e.status().message();
  }
}

}  // namespace
}  // namespace slipway
