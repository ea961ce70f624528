#include "pipeline/rules.h"

#include <gtest/gtest.h>

#include "util/test_repo.h"

namespace slipway {
namespace {

VariableList Vars(std::initializer_list<std::pair<const char*, const char*>> items) {
  VariableList vars;
  for (const auto& [k, v] : items) vars.Set(k, v);
  return vars;
}

class RulesTest : public testing::Test {
 protected:
  RuleContext Context() {
    RuleContext rc;
    rc.variables = &vars_;
    rc.changed_files = &changed_;
    rc.ref = "main";
    rc.source = "push";
    rc.project_path = "g/p";
    return rc;
  }
  bool Matches(const Rule& rule) {
    StatusOr<bool> r = RuleMatches(rule, Context());
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() && *r;
  }

  VariableList vars_ = Vars({{"CI_COMMIT_BRANCH", "main"}, {"CI_PIPELINE_SOURCE", "push"}});
  std::optional<std::vector<std::string>> changed_ =
      std::vector<std::string>{"src/main.c", "docs/index.md"};
};

Rule If(const char* expr) {
  Rule r;
  r.if_expr = expr;
  return r;
}

Rule ChangesRule(std::vector<std::string> paths) {
  Rule r;
  r.changes = Changes{std::move(paths), ""};
  return r;
}

TEST_F(RulesTest, RuleWithoutClausesAlwaysMatches) { EXPECT_TRUE(Matches(Rule{})); }

TEST_F(RulesTest, IfClause) {
  EXPECT_TRUE(Matches(If("$CI_COMMIT_BRANCH == \"main\"")));
  EXPECT_FALSE(Matches(If("$CI_PIPELINE_SOURCE == \"schedule\"")));
  EXPECT_FALSE(Matches(If("$UNDEFINED")));
}

TEST_F(RulesTest, ChangesClauseAgainstKnownFiles) {
  EXPECT_TRUE(Matches(ChangesRule({"src/*.c"})));
  EXPECT_FALSE(Matches(ChangesRule({"Dockerfile", "src/*.h"})));
  vars_.Set("DIR", "docs");
  EXPECT_TRUE(Matches(ChangesRule({"$DIR/**/*"})));
  // An undefined variable stays as written (GitLab's expand_existing), so
  // the pattern matches only a path that literally contains it.
  changed_ = std::vector<std::string>{"$NOPE/a.md"};
  EXPECT_TRUE(Matches(ChangesRule({"$NOPE/*.md"})));
}

TEST_F(RulesTest, ChangesIsTrueWhenTheDiffBaseIsUnknown) {
  changed_.reset();
  EXPECT_TRUE(Matches(ChangesRule({"Dockerfile"})));
}

TEST_F(RulesTest, ChangesIsTrueForTagsAndNonPushSources) {
  RuleContext rc = Context();
  rc.is_tag = true;
  EXPECT_TRUE(*RuleMatches(ChangesRule({"Dockerfile"}), rc));
  rc.is_tag = false;
  rc.source = "schedule";
  EXPECT_TRUE(*RuleMatches(ChangesRule({"Dockerfile"}), rc));
  rc.source = "merge_request_event";
  EXPECT_FALSE(*RuleMatches(ChangesRule({"Dockerfile"}), rc));
}

TEST_F(RulesTest, AllClausesMustHold) {
  Rule r = If("$CI_COMMIT_BRANCH == \"main\"");
  r.changes = Changes{{"Dockerfile"}, ""};
  EXPECT_FALSE(Matches(r));
  r.changes = Changes{{"src/main.c"}, ""};
  EXPECT_TRUE(Matches(r));
}

TEST_F(RulesTest, ExistsLooksAtTheProjectDirectory) {
  TestRepo dir(/*init=*/false);
  dir.Write("Dockerfile", "FROM x");
  dir.Write("sub/dir/Cargo.toml", "");
  RuleContext rc = Context();
  rc.project_dir = dir.dir();
  Rule r;
  r.exists = std::vector<std::string>{"Dockerfile"};
  EXPECT_TRUE(*RuleMatches(r, rc));
  r.exists = std::vector<std::string>{"Cargo.toml"};
  EXPECT_FALSE(*RuleMatches(r, rc));
  r.exists = std::vector<std::string>{"**/Cargo.toml"};
  EXPECT_TRUE(*RuleMatches(r, rc));
  r.exists = std::vector<std::string>{"sub/dir"};  // Directories are not files.
  EXPECT_FALSE(*RuleMatches(r, rc));
}

TEST_F(RulesTest, CompareToDiffsAgainstTheRef) {
  TestRepo repo;
  repo.Commit("base", "README.md");
  repo.Git({"branch", "base"});
  repo.Commit("change", "src/lib.c");
  RuleContext rc = Context();
  rc.project_dir = repo.dir();
  Rule r;
  r.changes = Changes{{"src/*.c"}, "base"};
  EXPECT_TRUE(*RuleMatches(r, rc));
  r.changes = Changes{{"README.md"}, "base"};
  EXPECT_FALSE(*RuleMatches(r, rc));
  r.changes = Changes{{"README.md"}, "nope"};
  StatusOr<bool> bad = RuleMatches(r, rc);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "rules:changes:compare_to is not a valid ref");
}

TEST_F(RulesTest, AtACommitExistsAndCompareToSeeOnlyThatCommit) {
  TestRepo repo;
  repo.Commit("base", "README.md");
  repo.Git({"branch", "base"});
  std::string commit = repo.Commit("change", "src/lib.c");
  repo.Commit("later", "later.txt");
  repo.Write("untracked.txt", "x");
  RuleContext rc = Context();
  rc.project_dir = repo.dir();
  rc.commit = commit;
  Rule r;
  r.exists = std::vector<std::string>{"src/lib.c"};
  EXPECT_TRUE(*RuleMatches(r, rc));
  r.exists = std::vector<std::string>{"*.txt"};  // later.txt: newer; untracked.txt: not committed.
  EXPECT_FALSE(*RuleMatches(r, rc));
  r = Rule{};
  r.changes = Changes{{"src/*.c"}, "base"};
  EXPECT_TRUE(*RuleMatches(r, rc));
  r.changes = Changes{{"*.txt"}, "base"};  // The diff ends at the commit.
  EXPECT_FALSE(*RuleMatches(r, rc));
}

TEST_F(RulesTest, FirstMatchingRule) {
  std::vector<Rule> rules = {If("$CI_PIPELINE_SOURCE == \"schedule\""), If("$CI_COMMIT_BRANCH"),
                             Rule{}};
  StatusOr<std::optional<size_t>> m = FirstMatchingRule(rules, Context());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, std::optional<size_t>(1));
  rules.erase(rules.begin() + 1, rules.end());
  m = FirstMatchingRule(rules, Context());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, std::nullopt);
}

TEST_F(RulesTest, BadExpressionIsAnError) {
  StatusOr<bool> r = RuleMatches(If("$A == "), Context());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("invalid expression '$A == ': ", 0), 0u)
      << r.status().message();
}

// ---- only / except

struct RefCase {
  std::vector<std::string> only;
  std::string ref;
  bool is_tag;
  std::string source;
  bool included;
};

class OnlyRefsTest : public testing::TestWithParam<RefCase> {};

TEST_P(OnlyRefsTest, Refs) {
  const RefCase& c = GetParam();
  VariableList vars;
  std::optional<std::vector<std::string>> changed;
  RuleContext rc;
  rc.variables = &vars;
  rc.changed_files = &changed;
  rc.ref = c.ref;
  rc.is_tag = c.is_tag;
  rc.source = c.source;
  rc.project_path = "g/p";
  OnlyExcept only;
  only.present = true;
  only.refs = c.only;
  StatusOr<bool> r = OnlyExceptIncludes(only, OnlyExcept{}, true, rc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, c.included) << testing::PrintToString(c.only) << " ref=" << c.ref
                            << " source=" << c.source;
}

INSTANTIATE_TEST_SUITE_P(
    Table, OnlyRefsTest,
    testing::Values(
        RefCase{{"main"}, "main", false, "push", true},
        RefCase{{"main"}, "dev", false, "push", false},
        RefCase{{"branches"}, "dev", false, "push", true},
        RefCase{{"branches"}, "v1", true, "push", false},
        RefCase{{"tags"}, "v1", true, "push", true},
        RefCase{{"tags"}, "main", false, "push", false},
        RefCase{{"/^release-.*$/"}, "release-1.2", false, "push", true},
        RefCase{{"/^release-.*$/"}, "pre-release-1", false, "push", false},
        RefCase{{"/release/"}, "pre-release-1", false, "push", true},  // Partial.
        RefCase{{"/[/"}, "main", false, "push", false},                // Bad regex: no match.
        RefCase{{"pushes"}, "main", false, "push", true},
        RefCase{{"pushes"}, "main", false, "web", false},
        RefCase{{"web"}, "main", false, "web", true}, RefCase{{"api"}, "main", false, "api", true},
        RefCase{{"schedules"}, "main", false, "schedule", true},
        RefCase{{"schedules"}, "main", false, "push", false},
        RefCase{{"triggers"}, "main", false, "trigger", true},
        RefCase{{"pipelines"}, "main", false, "pipeline", true},
        RefCase{{"merge_requests"}, "feat", false, "merge_request_event", true},
        RefCase{{"branches"}, "feat", false, "merge_request_event", false},
        RefCase{{"external_pull_requests"}, "f", false, "external_pull_request_event", true},
        RefCase{{"main@g/p"}, "main", false, "push", true},
        RefCase{{"main@other/p"}, "main", false, "push", false},
        RefCase{{"branches@g/p"}, "dev", false, "push", true},
        RefCase{{"tags", "main"}, "main", false, "push", true}));

class OnlyExceptTest : public RulesTest {
 protected:
  bool Included(const OnlyExcept& only, const OnlyExcept& except, bool default_only = true) {
    StatusOr<bool> r = OnlyExceptIncludes(only, except, default_only, Context());
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() && *r;
  }
  static OnlyExcept Refs(std::vector<std::string> refs) {
    OnlyExcept o;
    o.present = true;
    o.refs = std::move(refs);
    return o;
  }
  static OnlyExcept Variables(std::vector<std::string> exprs) {
    OnlyExcept o;
    o.present = true;
    o.variables = std::move(exprs);
    return o;
  }
};

TEST_F(OnlyExceptTest, DefaultOnlyIsBranchesAndTags) {
  EXPECT_TRUE(Included({}, {}));
  RuleContext rc = Context();
  rc.source = "merge_request_event";
  EXPECT_FALSE(*OnlyExceptIncludes({}, {}, true, rc));
  // Without the default (workflow:rules present) every pipeline includes it.
  EXPECT_TRUE(*OnlyExceptIncludes({}, {}, false, rc));
}

TEST_F(OnlyExceptTest, ExceptAloneKeepsTheDefaultOnly) {
  EXPECT_FALSE(Included({}, Refs({"main"})));
  EXPECT_TRUE(Included({}, Refs({"tags"})));
  RuleContext rc = Context();
  rc.source = "merge_request_event";
  EXPECT_FALSE(*OnlyExceptIncludes({}, Refs({"tags"}), true, rc));
}

TEST_F(OnlyExceptTest, OnlyVariablesAnyExpression) {
  EXPECT_TRUE(Included(Variables({"$NOPE", "$CI_COMMIT_BRANCH == \"main\""}), {}));
  EXPECT_FALSE(Included(Variables({"$NOPE"}), {}));
}

TEST_F(OnlyExceptTest, OnlyKeysAreConjoined) {
  OnlyExcept only = Refs({"main"});
  only.variables = {"$DEPLOY"};
  EXPECT_FALSE(Included(only, {}));
  vars_.Set("DEPLOY", "1");
  EXPECT_TRUE(Included(only, {}));
  only.refs = {"tags"};
  EXPECT_FALSE(Included(only, {}));
}

TEST_F(OnlyExceptTest, ExceptExcludesWhenAnyKeyMatches) {
  OnlyExcept except = Refs({"tags"});
  except.variables = {"$CI_COMMIT_BRANCH == \"main\""};
  EXPECT_FALSE(Included({}, except));
  except.variables = {"$SKIP"};
  EXPECT_TRUE(Included({}, except));
}

TEST_F(OnlyExceptTest, OnlyChanges) {
  OnlyExcept only;
  only.present = true;
  only.changes = {"docs/*.md"};
  EXPECT_TRUE(Included(only, {}));
  only.changes = {"Dockerfile"};
  EXPECT_FALSE(Included(only, {}));
  changed_.reset();
  EXPECT_TRUE(Included(only, {}));
}

TEST_F(OnlyExceptTest, KubernetesIsNeverActiveLocally) {
  OnlyExcept only;
  only.present = true;
  only.kubernetes = "active";
  EXPECT_FALSE(Included(only, {}));
  EXPECT_TRUE(Included({}, only));  // except: kubernetes never excludes.
  EXPECT_TRUE(Included({}, {}));
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

TEST(RulesExistsTest, IgnoredFilesOfAGitWorkTreeDoNotCount) {
  TestRepo repo;
  repo.Write(".gitignore", "*.log\n");
  repo.Commit("one", "Dockerfile");
  repo.Write("debug.log", "x");
  VariableList vars;
  std::optional<std::vector<std::string>> changed;
  RuleContext rc;
  rc.project_dir = repo.dir();
  rc.variables = &vars;
  rc.changed_files = &changed;
  Rule r;
  r.exists = std::vector<std::string>{"*.log"};
  EXPECT_FALSE(*RuleMatches(r, rc));
  r.exists = std::vector<std::string>{"Dockerfile"};
  EXPECT_TRUE(*RuleMatches(r, rc));
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

TEST(RuleCacheTest, ASharedCacheListsFilesOnce) {
  TestRepo dir(/*init=*/false);
  dir.Write("a.txt", "a");
  VariableList vars;
  std::optional<std::vector<std::string>> changed;
  RuleCache cache;
  RuleContext rc;
  rc.project_dir = dir.dir();
  rc.variables = &vars;
  rc.changed_files = &changed;
  rc.cache = &cache;
  Rule r;
  r.exists = std::vector<std::string>{"new.txt"};
  EXPECT_FALSE(*RuleMatches(r, rc));
  dir.Write("new.txt", "n");
  EXPECT_FALSE(*RuleMatches(r, rc));  // Answered from the cache.
  EXPECT_EQ(cache.project_files, (std::vector<std::string>{"a.txt"}));
  rc.cache = nullptr;
  EXPECT_TRUE(*RuleMatches(r, rc));
}

}  // namespace
}  // namespace slipway
