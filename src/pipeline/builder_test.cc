#include "pipeline/builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/builder_test_util.h"

namespace slipway {
namespace {

using ::testing::ElementsAre;

TEST(BuilderTest, DefaultStagesAndJobStage) {
  BuildResult r = BuildOk("job1:\n  script: echo\n");
  EXPECT_THAT(r.config->stages, ElementsAre(".pre", "build", "test", "deploy", ".post"));
  EXPECT_EQ(r.job("job1").stage, "test");
  EXPECT_EQ(r.job("job1").when, When::kOnSuccess);
  EXPECT_EQ(r.job("job1").mark.ToString(), "ci.yml:1:1");
}

TEST(BuilderTest, UserStagesGetPreAndPostAtTheEdges) {
  BuildResult r = BuildOk(
      "stages: [.post, build, .pre, test]\n"
      "a:\n  stage: .pre\n  script: x\n");
  EXPECT_THAT(r.config->stages, ElementsAre(".pre", "build", "test", ".post"));
}

TEST(BuilderTest, UnknownStageIsAnError) {
  EXPECT_EQ(BuildErrors("stages: [build]\njob:\n  stage: deploy\n  script: x\n"),
            "ci.yml:2:1: error: job 'job', key 'stage': chosen stage deploy does not exist; "
            "available stages are .pre, build, .post\n");
}

TEST(BuilderTest, HiddenJobsAreTemplatesNotJobs) {
  BuildResult r = BuildOk(".hidden:\n  script: x\nvisible:\n  script: y\n");
  EXPECT_THAT(r.names(), ElementsAre("visible"));
}

TEST(BuilderTest, OnlyHiddenJobsIsAnError) {
  EXPECT_EQ(BuildErrors(".hidden:\n  script: x\n"),
            "ci.yml:1:1: error: jobs config should contain at least one visible job\n");
}

TEST(BuilderTest, NonMapTopLevelKeyIsAnError) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\nfoo: bar\n"),
            "ci.yml:3:1: error: job 'foo': config should implement the script:, run:, or "
            "trigger: keyword\n");
}

TEST(BuilderTest, MapWithoutScriptIsAnError) {
  EXPECT_EQ(BuildErrors("job:\n  stage: test\n"),
            "ci.yml:1:1: error: job 'job': config should implement the script:, run:, or "
            "trigger: keyword\n");
}

TEST(BuilderTest, DefaultWithScriptIsAJobNamedDefault) {
  BuildResult r = BuildOk("default:\n  stage: build\n  script: make\n");
  EXPECT_THAT(r.names(), ElementsAre("default"));
  EXPECT_EQ(r.job("default").stage, "build");
}

TEST(BuilderTest, WorkflowWithScriptIsAJob) {
  BuildResult r = BuildOk("workflow:\n  script: make\n");
  EXPECT_THAT(r.names(), ElementsAre("workflow"));
  EXPECT_FALSE(r.config->workflow.rules.has_value());
}

TEST(BuilderTest, DefaultKeywordsApplyToJobsThatDoNotSetThem) {
  // From the `default` keyword reference.
  BuildResult r = BuildOk(
      "default:\n"
      "  image: ruby:3.0\n"
      "  retry: 2\n"
      "  before_script: [bundle install]\n"
      "  tags: [docker]\n"
      "rspec:\n  script: bundle exec rspec\n"
      "rspec 2.7:\n  image: ruby:2.7\n  script: bundle exec rspec\n  tags: []\n");
  EXPECT_EQ(r.job("rspec").image->scalar, "ruby:3.0");
  EXPECT_EQ(r.job("rspec").retry.max, 2);
  EXPECT_THAT(r.job("rspec").before_script, ElementsAre("bundle install"));
  EXPECT_THAT(r.job("rspec").tags, ElementsAre("docker"));
  EXPECT_EQ(r.job("rspec 2.7").image->scalar, "ruby:2.7");
  EXPECT_EQ(r.job("rspec 2.7").retry.max, 2);
  EXPECT_TRUE(r.job("rspec 2.7").tags.empty());
}

TEST(BuilderTest, DeprecatedTopLevelKeywordsActAsDefaults) {
  BuildResult r = BuildOk(
      "before_script: [echo top]\nafter_script: [echo after]\nimage: alpine\n"
      "default:\n  before_script: [echo default]\n"
      "job:\n  script: x\n");
  EXPECT_THAT(r.job("job").before_script, ElementsAre("echo default"));
  EXPECT_THAT(r.job("job").after_script, ElementsAre("echo after"));
  EXPECT_EQ(r.job("job").image->scalar, "alpine");
}

TEST(BuilderTest, UnknownDefaultKeyIsAnError) {
  EXPECT_EQ(BuildErrors("default:\n  stage: build\n  variables: {A: 1}\njob:\n  script: x\n"),
            "ci.yml:2:3: error: key 'default:stage': unknown key\n"
            "ci.yml:3:3: error: key 'default:variables': unknown key\n");
}

TEST(BuilderTest, InheritDefaultFalseAndList) {
  // From the `inherit:default` reference.
  BuildResult r = BuildOk(
      "default:\n  retry: 2\n  image: ruby:3.0\n  interruptible: true\n"
      "job1:\n  script: x\n  inherit:\n    default: false\n"
      "job2:\n  script: x\n  inherit:\n    default: [retry, image]\n");
  EXPECT_EQ(r.job("job1").retry.max, 0);
  EXPECT_FALSE(r.job("job1").image.has_value());
  EXPECT_EQ(r.job("job2").retry.max, 2);
  EXPECT_EQ(r.job("job2").image->scalar, "ruby:3.0");
  EXPECT_FALSE(r.job("job2").interruptible);
}

TEST(BuilderTest, InheritVariablesFalseAndList) {
  // From the `inherit:variables` reference.
  BuildResult r = BuildOk(
      "variables:\n  VARIABLE1: a\n  VARIABLE2: b\n  VARIABLE3: c\n"
      "job1:\n  script: x\n  inherit:\n    variables: false\n"
      "job2:\n  script: x\n  inherit:\n    variables: [VARIABLE1, VARIABLE2]\n"
      "job3:\n  script: x\n  variables: {VARIABLE1: own}\n");
  EXPECT_TRUE(r.job("job1").variables.empty());
  EXPECT_EQ(r.job("job2").variables.size(), 2u);
  EXPECT_EQ(*r.job("job2").variables.Get("VARIABLE2"), "b");
  EXPECT_EQ(r.job("job2").variables.Get("VARIABLE3"), nullptr);
  EXPECT_EQ(*r.job("job3").variables.Get("VARIABLE1"), "own");
  EXPECT_EQ(*r.job("job3").variables.Get("VARIABLE3"), "c");
}

TEST(BuilderTest, GlobalVariablesInAllForms) {
  BuildResult r = BuildOk(
      "variables:\n"
      "  PLAIN: text\n  NUMBER: 10\n  FLOAT: 1.10\n  BOOL: true\n  YES: yes\n  EMPTY:\n"
      "  DEPLOY_ENVIRONMENT:\n    value: staging\n    options: [production, staging]\n"
      "    description: The deployment target.\n"
      "  RAW:\n    value: $HOME\n    expand: false\n"
      "job:\n  script: x\n");
  const VariableList& v = r.config->variables;
  EXPECT_EQ(*v.Get("PLAIN"), "text");
  EXPECT_EQ(*v.Get("NUMBER"), "10");
  EXPECT_EQ(*v.Get("FLOAT"), "1.1");
  EXPECT_EQ(*v.Get("BOOL"), "true");
  EXPECT_EQ(*v.Get("YES"), "true");
  EXPECT_EQ(*v.Get("EMPTY"), "");
  EXPECT_EQ(v.Find("DEPLOY_ENVIRONMENT")->value, "staging");
  EXPECT_EQ(v.Find("DEPLOY_ENVIRONMENT")->description, "The deployment target.");
  EXPECT_THAT(v.Find("DEPLOY_ENVIRONMENT")->options, ElementsAre("production", "staging"));
  EXPECT_FALSE(v.Find("RAW")->expand);
  EXPECT_EQ(*r.job("job").variables.Get("PLAIN"), "text");
}

TEST(BuilderTest, VariableValueMustBeAnOption) {
  EXPECT_EQ(BuildErrors("variables:\n  ENV:\n    value: dev\n    options: [prod]\n"
                        "job:\n  script: x\n"),
            "ci.yml:4:14: error: key 'variables:ENV': value must be present in options\n");
}

TEST(BuilderTest, JobVariablesRejectDescription) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  variables:\n    A:\n      value: 1\n"
                        "      description: no\n"),
            "ci.yml:6:7: error: job 'job', key 'variables:A:description': unknown key\n");
}

TEST(BuilderTest, VariablesMustBeAHash) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  variables: [A]\n"),
            "ci.yml:3:14: error: job 'job', key 'variables': should be a hash of key value "
            "pairs, value can be a hash\n");
}

TEST(BuilderTest, WorkflowRulesAndName) {
  BuildResult r = BuildOk(
      "workflow:\n  name: 'Pipeline for $CI_COMMIT_BRANCH'\n  rules:\n"
      "    - if: $CI_COMMIT_TAG\n      when: never\n    - when: always\n"
      "job:\n  script: x\n");
  EXPECT_EQ(r.config->workflow.name, "Pipeline for $CI_COMMIT_BRANCH");
  ASSERT_EQ(r.config->workflow.rules->size(), 2u);
  EXPECT_EQ(*(*r.config->workflow.rules)[0].if_expr, "$CI_COMMIT_TAG");
  EXPECT_EQ((*r.config->workflow.rules)[0].when, When::kNever);
}

TEST(BuilderTest, WorkflowNameOverTheLimitIsAnError) {
  std::string ok(255, 'n');
  EXPECT_EQ(BuildOk("workflow:\n  name: " + ok + "\njob:\n  script: x\n").config->workflow.name,
            ok);
  EXPECT_EQ(BuildErrors("workflow:\n  name: " + ok + "n\njob:\n  script: x\n"),
            "ci.yml:2:9: error: key 'workflow:name': is too long (maximum is 255 characters)\n");
}

TEST(BuilderTest, WorkflowRulesOnlyAllowAlwaysAndNever) {
  EXPECT_EQ(BuildErrors("workflow:\n  rules:\n    - when: manual\njob:\n  script: x\n"),
            "ci.yml:3:13: error: key 'workflow:rules:0:when': unknown value: manual\n");
}

TEST(BuilderTest, WarnsAboutBareWhenWithoutWorkflowRules) {
  BuildResult r = BuildOk("test:\n  script: x\n  rules:\n    - if: $A\n    - when: on_success\n");
  EXPECT_EQ(r.diags.FormatAll(),
            "ci.yml:5:7: warning: job 'test', key 'rules': may allow multiple pipelines to run "
            "for a single action due to `rules:when` clause with no `workflow:rules` - read "
            "more: https://docs.gitlab.com/ee/ci/jobs/job_troubleshooting.html"
            "#job-may-allow-multiple-pipelines-to-run-for-a-single-action-warning\n");
  EXPECT_TRUE(BuildOk("workflow:\n  rules:\n    - when: always\n"
                      "test:\n  script: x\n  rules:\n    - when: on_success\n")
                  .diags.items()
                  .empty());
  EXPECT_TRUE(BuildOk("test:\n  script: x\n  rules:\n    - when: never\n").diags.items().empty());
}

TEST(BuilderTest, TriggerJobIsAJobWithoutScript) {
  BuildResult r = BuildOk("child:\n  trigger:\n    include: child.yml\n  stage: deploy\n");
  EXPECT_TRUE(r.job("child").trigger.has_value());
  EXPECT_TRUE(r.job("child").script.empty());
}

TEST(BuilderTest, TriggerJobRejectsJobOnlyKeys) {
  EXPECT_EQ(BuildErrors("child:\n  trigger: a/b\n  tags: [x]\n"),
            "ci.yml:3:3: error: job 'child', key 'tags': unknown key\n");
}

TEST(BuilderTest, ScriptAndTriggerTogetherIsAnError) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  trigger: a/b\n"),
            "ci.yml:3:12: error: job 'job', key 'trigger': these keys cannot be used together: "
            "script, trigger\n");
}

TEST(BuilderTest, EmptyOrNonMapRoot) {
  Diagnostics diags;
  EXPECT_FALSE(BuildPipelineConfig(Node::Null(), &diags).has_value());
  EXPECT_EQ(diags.FormatAll(), "<input>: error: Please provide content of .gitlab-ci.yml\n");
}

TEST(BuilderTest, EveryKeywordWithEveryValueShapeGivesAResultOrAnError) {
  const char* const keys[] = {
      "stage",   "script",    "before_script", "after_script",   "variables",   "allow_failure",
      "retry",   "timeout",   "needs",         "dependencies",   "rules",       "only",
      "except",  "artifacts", "cache",         "resource_group", "environment", "interruptible",
      "tags",    "coverage",  "parallel",      "when",           "start_in",    "inherit",
      "extends", "image",     "services",      "release",        "pages",       "trigger"};
  const char* const values[] = {"x",
                                "7",
                                "true",
                                "~",
                                "[a, [b, ~], 3]",
                                "{a: b}",
                                "{a: {b: [c]}}",
                                "[{job: a}, {matrix: [{A: [1]}]}]"};
  for (const char* key : keys) {
    for (const char* value : values) {
      std::string yaml = std::string("job:\n  script: x\n  ") + key + ": " + value + "\n";
      BuildResult r = BuildYaml(yaml);
      EXPECT_TRUE(r.config.has_value() || r.diags.HasErrors()) << yaml;
      for (const Diagnostic& d : r.diags.items()) {
        EXPECT_EQ(d.mark.file, "ci.yml") << yaml << d.Format();
        EXPECT_GT(d.mark.line, 0) << yaml << d.Format();
      }
    }
  }
}

}  // namespace
}  // namespace slipway
