#include "pipeline/instantiate.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

Job MakeJob(const std::string& name, const std::string& stage = "test") {
  Job j;
  j.name = name;
  j.base_name = name;
  j.stage = stage;
  j.script = {"true"};
  j.mark = {".gitlab-ci.yml", 1, 1};
  return j;
}

Rule If(const std::string& expr, std::optional<When> when = std::nullopt) {
  Rule r;
  r.if_expr = expr;
  r.when = when;
  return r;
}

Need NeedOf(const std::string& job, bool optional = false) {
  Need n;
  n.job = job;
  n.optional = optional;
  n.mark = {".gitlab-ci.yml", 9, 7};
  return n;
}

class InstantiateTest : public testing::Test {
 protected:
  InstantiateTest() {
    config_.stages = {".pre", "build", "test", "deploy", ".post"};
    SetSource("push");
    context_.predefined.Set("CI_COMMIT_REF_NAME", "main");
    context_.predefined.Set("CI_COMMIT_BRANCH", "main");
    context_.predefined.Set("CI_DEFAULT_BRANCH", "main");
    context_.predefined.Set("CI_PROJECT_PATH", "g/p");
  }
  void SetSource(const std::string& source) {
    context_.predefined.Set("CI_PIPELINE_SOURCE", source);
  }
  void SetTag(const std::string& tag) {
    context_.predefined.Erase("CI_COMMIT_BRANCH");
    context_.predefined.Set("CI_COMMIT_TAG", tag);
    context_.predefined.Set("CI_COMMIT_REF_NAME", tag);
  }
  Job& Add(Job job) {
    config_.jobs.push_back(std::move(job));
    return config_.jobs.back();
  }
  Pipeline Run() {
    std::optional<Pipeline> p = InstantiatePipeline(config_, context_, &diags_);
    EXPECT_TRUE(p.has_value()) << diags_.FormatAll();
    return p ? *p : Pipeline{};
  }
  static std::vector<std::string> Names(const Pipeline& p) {
    std::vector<std::string> names;
    for (const Job& j : p.jobs) names.push_back(j.name);
    return names;
  }
  // "name:when:allow_failure" for each created job.
  static std::vector<std::string> Summary(const Pipeline& p) {
    std::vector<std::string> out;
    for (const Job& j : p.jobs) {
      out.push_back(j.name + ":" + WhenName(j.when) + ":" +
                    (j.allow_failure.value ? "true" : "false"));
    }
    return out;
  }

  PipelineConfig config_;
  PipelineContext context_;
  Diagnostics diags_;
};

using Strings = std::vector<std::string>;

TEST_F(InstantiateTest, JobsWithoutConditionsRunOnBranchesAndTagsInStageOrder) {
  Add(MakeJob("deploy", "deploy"));
  Add(MakeJob("unit"));
  Add(MakeJob("compile", "build"));
  Add(MakeJob("lint"));
  Add(MakeJob("prepare", ".pre"));
  Pipeline p = Run();
  EXPECT_TRUE(p.created);
  EXPECT_EQ(Names(p), (Strings{"prepare", "compile", "unit", "lint", "deploy"}));
  EXPECT_EQ(p.stages, (Strings{".pre", "build", "test", "deploy"}));
  SetTag("v1");
  EXPECT_EQ(Run().jobs.size(), 5u);
}

TEST_F(InstantiateTest, MergeRequestPipelineHasNoDefaultOnlyJobs) {
  Add(MakeJob("plain"));
  Job& mr = Add(MakeJob("mr"));
  mr.rules = std::vector<Rule>{If("$CI_PIPELINE_SOURCE == \"merge_request_event\"")};
  SetSource("merge_request_event");
  EXPECT_EQ(Names(Run()), (Strings{"mr"}));
}

// docs.gitlab.com/ci/yaml/#rules example: manual for merge requests,
// automatic for schedules, absent otherwise.
TEST_F(InstantiateTest, DocsRulesExample) {
  Job& job = Add(MakeJob("job"));
  Rule mr = If("$CI_PIPELINE_SOURCE == \"merge_request_event\"", When::kManual);
  mr.allow_failure = true;
  job.rules = std::vector<Rule>{mr, If("$CI_PIPELINE_SOURCE == \"schedule\"")};
  Pipeline push = Run();
  EXPECT_TRUE(push.jobs.empty());
  EXPECT_FALSE(push.created);
  EXPECT_EQ(push.not_created_reason,
            "Pipeline will not run for the selected trigger. The rules configuration prevented "
            "any jobs from being added to the pipeline.");
  SetSource("merge_request_event");
  EXPECT_EQ(Summary(Run()), (Strings{"job:manual:true"}));
  SetSource("schedule");
  EXPECT_EQ(Summary(Run()), (Strings{"job:on_success:false"}));
}

TEST_F(InstantiateTest, FirstMatchingRuleDecidesAndNeverRemoves) {
  Job& job = Add(MakeJob("job"));
  job.rules = std::vector<Rule>{If("$CI_COMMIT_BRANCH == \"main\"", When::kNever), Rule{}};
  Add(MakeJob("other"));
  EXPECT_EQ(Names(Run()), (Strings{"other"}));
  context_.predefined.Set("CI_COMMIT_BRANCH", "dev");
  EXPECT_EQ(Names(Run()), (Strings{"job", "other"}));
}

TEST_F(InstantiateTest, ManualAllowFailureDefaults) {
  // Job-level manual without rules: allowed to fail.
  Job& a = Add(MakeJob("a"));
  a.when = When::kManual;
  // Manual from a rule: not allowed to fail (GitLab documents this).
  Job& b = Add(MakeJob("b"));
  b.rules = std::vector<Rule>{If("$CI_COMMIT_BRANCH", When::kManual)};
  // Job-level manual, rule without when: the job's when and its default.
  Job& c = Add(MakeJob("c"));
  c.when = When::kManual;
  c.rules = std::vector<Rule>{If("$CI_COMMIT_BRANCH")};
  // Explicit allow_failure: false wins over the manual default.
  Job& d = Add(MakeJob("d"));
  d.when = When::kManual;
  d.allow_failure_set = true;
  // rules:allow_failure wins over the job's.
  Job& e = Add(MakeJob("e"));
  e.allow_failure_set = true;
  e.allow_failure.value = true;
  Rule strict = If("$CI_COMMIT_BRANCH");
  strict.allow_failure = false;
  e.rules = std::vector<Rule>{strict};
  // A rule's when: always keeps the job's allow_failure.
  Job& f = Add(MakeJob("f"));
  f.allow_failure_set = true;
  f.allow_failure.value = true;
  f.rules = std::vector<Rule>{If("$CI_COMMIT_BRANCH", When::kAlways)};
  EXPECT_EQ(Summary(Run()), (Strings{"a:manual:true", "b:manual:false", "c:manual:true",
                                     "d:manual:false", "e:on_success:false", "f:always:true"}));
}

TEST_F(InstantiateTest, RulesAllowFailureDropsExitCodes) {
  Job& job = Add(MakeJob("job"));
  job.allow_failure_set = true;
  job.allow_failure.exit_codes = {3};
  Rule r;
  r.allow_failure = true;
  job.rules = std::vector<Rule>{r};
  Job& kept = Add(MakeJob("kept"));
  kept.allow_failure_set = true;
  kept.allow_failure.exit_codes = {3};
  Pipeline p = Run();
  EXPECT_TRUE(p.jobs[0].allow_failure.value);
  EXPECT_TRUE(p.jobs[0].allow_failure.exit_codes.empty());
  EXPECT_FALSE(p.jobs[1].allow_failure.value);
  EXPECT_EQ(p.jobs[1].allow_failure.exit_codes, std::vector<int>{3});
}

TEST_F(InstantiateTest, DelayedRuleSetsStartIn) {
  Job& job = Add(MakeJob("job"));
  Rule r = If("$CI_COMMIT_BRANCH", When::kDelayed);
  r.start_in = "3 hours";
  job.rules = std::vector<Rule>{r};
  Pipeline p = Run();
  ASSERT_EQ(p.jobs.size(), 1u);
  EXPECT_EQ(p.jobs[0].when, When::kDelayed);
  EXPECT_EQ(p.jobs[0].start_in, "3 hours");
}

TEST_F(InstantiateTest, RulesIfSeesJobAndGlobalVariablesButNotRuleVariables) {
  config_.variables.Set("GLOBAL", "g");
  Job& a = Add(MakeJob("a"));
  a.variables.Set("GLOBAL", "g");
  a.variables.Set("MINE", "yes");
  a.rules = std::vector<Rule>{If("$MINE == \"yes\" && $GLOBAL == \"g\"")};
  Job& b = Add(MakeJob("b"));
  Rule sets = If("$CI_JOB_NAME == \"b\"");
  sets.variables.Set("FROM_RULE", "1");
  b.rules = std::vector<Rule>{sets};
  Job& c = Add(MakeJob("c"));
  c.rules = std::vector<Rule>{If("$FROM_RULE")};
  Pipeline p = Run();
  EXPECT_EQ(Names(p), (Strings{"a", "b"}));
  EXPECT_EQ(*p.jobs[1].variables.Get("FROM_RULE"), "1");
}

TEST_F(InstantiateTest, RuleVariablesOverrideJobVariables) {
  Job& job = Add(MakeJob("job"));
  job.variables.Set("DEPLOY_VARIABLE", "default-deploy");
  Rule r = If("$CI_COMMIT_REF_NAME == $CI_DEFAULT_BRANCH");
  r.variables.Set("DEPLOY_VARIABLE", "deploy-production");
  job.rules = std::vector<Rule>{r, Rule{}};
  EXPECT_EQ(*Run().jobs[0].variables.Get("DEPLOY_VARIABLE"), "deploy-production");
  context_.predefined.Set("CI_COMMIT_REF_NAME", "feature");
  EXPECT_EQ(*Run().jobs[0].variables.Get("DEPLOY_VARIABLE"), "default-deploy");
}

TEST_F(InstantiateTest, CliVariablesWinInConditions) {
  Job& job = Add(MakeJob("job"));
  job.variables.Set("MODE", "slow");
  job.rules = std::vector<Rule>{If("$MODE == \"fast\"")};
  EXPECT_TRUE(Run().jobs.empty());
  context_.cli_variables.Set("MODE", "fast");
  EXPECT_EQ(Names(Run()), (Strings{"job"}));
}

TEST_F(InstantiateTest, OnlyExceptJobs) {
  Job& only_tags = Add(MakeJob("release"));
  only_tags.only.present = true;
  only_tags.only.refs = {"tags"};
  Job& not_main = Add(MakeJob("review"));
  not_main.except.present = true;
  not_main.except.refs = {"main"};
  Job& nightly = Add(MakeJob("nightly"));
  nightly.only.present = true;
  nightly.only.refs = {"schedules"};
  Add(MakeJob("always"));
  EXPECT_EQ(Names(Run()), (Strings{"always"}));
  SetTag("v1.0");
  EXPECT_EQ(Names(Run()), (Strings{"release", "review", "always"}));
  context_.predefined = {};
  context_.predefined.Set("CI_COMMIT_REF_NAME", "main");
  context_.predefined.Set("CI_COMMIT_BRANCH", "main");
  SetSource("schedule");
  EXPECT_EQ(Names(Run()), (Strings{"nightly", "always"}));
}

TEST_F(InstantiateTest, WorkflowRulesDecideWhetherThePipelineExists) {
  Add(MakeJob("job"));
  config_.workflow.rules = std::vector<Rule>{If("$CI_COMMIT_TITLE =~ /-draft$/", When::kNever),
                                             If("$CI_PIPELINE_SOURCE == \"merge_request_event\""),
                                             If("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")};
  EXPECT_EQ(Names(Run()), (Strings{"job"}));
  context_.predefined.Set("CI_COMMIT_TITLE", "wip-draft");
  Pipeline p = Run();
  EXPECT_FALSE(p.created);
  EXPECT_EQ(p.not_created_reason, "Pipeline filtered out by workflow rules.");
  EXPECT_TRUE(p.jobs.empty());
  context_.predefined.Set("CI_COMMIT_TITLE", "ok");
  context_.predefined.Set("CI_COMMIT_BRANCH", "feature");
  EXPECT_FALSE(Run().created);
  // With workflow:rules a job without rules has no default only: and so
  // also runs in merge request pipelines.
  SetSource("merge_request_event");
  EXPECT_EQ(Names(Run()), (Strings{"job"}));
  EXPECT_FALSE(diags_.HasErrors());
}

TEST_F(InstantiateTest, WorkflowVariablesOverrideGlobalsButNotJobVariables) {
  Variable global;
  global.name = "DEPLOY_VARIABLE";
  global.value = "default-deploy";
  global.mark = {".gitlab-ci.yml", 2, 3};
  config_.variables.Set(global);
  Job& inherits = Add(MakeJob("inherits"));
  inherits.variables.Set(global);
  Job& own = Add(MakeJob("own"));
  own.variables.Set("DEPLOY_VARIABLE", "job-value");
  Rule main = If("$CI_COMMIT_REF_NAME == $CI_DEFAULT_BRANCH");
  main.variables.Set("DEPLOY_VARIABLE", "deploy-production");
  main.variables.Set("EXTRA", "x");
  config_.workflow.rules = std::vector<Rule>{main, Rule{}};
  config_.workflow.name = "Pipeline for $DEPLOY_VARIABLE";
  Pipeline p = Run();
  EXPECT_EQ(p.name, "Pipeline for deploy-production");
  EXPECT_EQ(*p.variables.Get("DEPLOY_VARIABLE"), "deploy-production");
  EXPECT_EQ(*p.jobs[0].variables.Get("DEPLOY_VARIABLE"), "deploy-production");
  EXPECT_EQ(*p.jobs[0].variables.Get("EXTRA"), "x");
  EXPECT_EQ(*p.jobs[1].variables.Get("DEPLOY_VARIABLE"), "job-value");
  EXPECT_EQ(*p.jobs[1].variables.Get("EXTRA"), "x");
}

// GitLab's PopulateMetadata: the expanded name is stripped, and a name left
// empty is no name.
TEST_F(InstantiateTest, PipelineNameIsStrippedAfterExpansion) {
  Add(MakeJob("job"));
  config_.workflow.name = "  $EMPTY Nightly for $CI_COMMIT_REF_NAME \t";
  EXPECT_EQ(Run().name, "Nightly for main");
  config_.workflow.name = " $EMPTY ";
  EXPECT_EQ(Run().name, "");
}

// 255 characters (not bytes) is GitLab's limit, for the expanded name too.
TEST_F(InstantiateTest, ExpandedPipelineNameOverTheLimitIsAnError) {
  Add(MakeJob("job"));
  config_.workflow.name = "$LONG";
  config_.workflow.name_mark = {".gitlab-ci.yml", 2, 9};
  std::string name;
  for (int i = 0; i < 255; ++i) name += "\xc3\xa9";  // é: 2 bytes, 1 character.
  context_.cli_variables.Set("LONG", name);
  EXPECT_EQ(Run().name, name);
  context_.cli_variables.Set("LONG", name + "x");
  std::optional<Pipeline> p = InstantiatePipeline(config_, context_, &diags_);
  EXPECT_FALSE(p.has_value());
  EXPECT_EQ(diags_.FormatAll(),
            ".gitlab-ci.yml:2:9: error: key 'workflow:name': Failed to build pipeline metadata! "
            "Name is too long (maximum is 255 characters)\n");
}

TEST_F(InstantiateTest, NeedsOnAJobThatRulesRemovedIsAnError) {
  Job& build = Add(MakeJob("build", "build"));
  build.rules = std::vector<Rule>{If("$NEVER_SET")};
  Job& test = Add(MakeJob("test"));
  test.needs = std::vector<Need>{NeedOf("build")};
  std::optional<Pipeline> p = InstantiatePipeline(config_, context_, &diags_);
  EXPECT_FALSE(p.has_value());
  EXPECT_EQ(diags_.FormatAll(),
            ".gitlab-ci.yml:9:7: error: job 'test', key 'needs': 'test' job needs 'build' job, "
            "but 'build' does not exist in the pipeline. This might be because of the only, "
            "except, or rules keywords. To need a job that sometimes does not exist in the "
            "pipeline, use needs:optional.\n");
}

TEST_F(InstantiateTest, OptionalNeedsAndDependenciesOnAbsentJobsAreDropped) {
  Job& build = Add(MakeJob("build", "build"));
  build.rules = std::vector<Rule>{If("$NEVER_SET")};
  Add(MakeJob("prep", "build"));
  Job& test = Add(MakeJob("test"));
  test.needs = std::vector<Need>{NeedOf("build", true), NeedOf("prep")};
  test.dependencies = std::vector<std::string>{"build", "prep"};
  Pipeline p = Run();
  ASSERT_EQ(Names(p), (Strings{"prep", "test"}));
  ASSERT_EQ(p.jobs[1].needs->size(), 1u);
  EXPECT_EQ((*p.jobs[1].needs)[0].job, "prep");
  EXPECT_EQ(*p.jobs[1].dependencies, std::vector<std::string>{"prep"});
}

TEST_F(InstantiateTest, RuleNeedsReplaceJobNeeds) {
  Add(MakeJob("a", "build"));
  Add(MakeJob("b", "build"));
  Job& test = Add(MakeJob("test"));
  test.needs = std::vector<Need>{NeedOf("a")};
  Rule r;
  r.needs = std::vector<Need>{NeedOf("b")};
  r.interruptible = true;
  test.rules = std::vector<Rule>{r};
  Pipeline p = Run();
  ASSERT_EQ(p.jobs.size(), 3u);
  ASSERT_EQ(p.jobs[2].needs->size(), 1u);
  EXPECT_EQ((*p.jobs[2].needs)[0].job, "b");
  EXPECT_TRUE(p.jobs[2].interruptible);
}

TEST_F(InstantiateTest, OnlyPreAndPostJobsDoNotMakeAPipeline) {
  Add(MakeJob("setup", ".pre"));
  Add(MakeJob("cleanup", ".post"));
  Pipeline p = Run();
  EXPECT_FALSE(p.created);
  EXPECT_EQ(Names(p), (Strings{"setup", "cleanup"}));
}

TEST_F(InstantiateTest, RuleEvaluationErrorNamesTheJob) {
  Job& job = Add(MakeJob("job"));
  Rule r;
  r.changes = Changes{{"src/*"}, "no-such-ref"};
  job.rules = std::vector<Rule>{r};
  context_.project_dir = "/nonexistent";
  std::optional<Pipeline> p = InstantiatePipeline(config_, context_, &diags_);
  EXPECT_FALSE(p.has_value());
  EXPECT_EQ(diags_.FormatAll(),
            ".gitlab-ci.yml:1:1: error: job 'job', key 'rules': rules:changes:compare_to is not "
            "a valid ref\n");
}

}  // namespace
}  // namespace slipway
