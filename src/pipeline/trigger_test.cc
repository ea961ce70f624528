#include "pipeline/trigger.h"

#include <gtest/gtest.h>

#include "config/yaml_parser.h"

namespace slipway {
namespace {

// The `trigger:` value of `job:` in yaml.
Node TriggerNode(const std::string& yaml) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs = ParseYaml(yaml, "ci.yml", &diags);
  EXPECT_TRUE(docs && !docs->empty()) << diags.FormatAll();
  return *(*docs)[0].Find("job")->Find("trigger");
}

std::string Errors(const std::string& yaml) {
  Diagnostics diags;
  EXPECT_FALSE(ParseTrigger(TriggerNode(yaml), "job", &diags));
  return diags.FormatAll();
}

TEST(TriggerTest, ShortFormsAndDefaults) {
  Diagnostics diags;
  std::optional<Trigger> project =
      ParseTrigger(TriggerNode("job:\n  trigger: group/name\n"), "job", &diags);
  ASSERT_TRUE(project);
  EXPECT_EQ(project->kind, Trigger::Kind::kProject);
  EXPECT_EQ(project->project, "group/name");
  EXPECT_FALSE(project->depend);
  EXPECT_TRUE(project->forward_yaml_variables);
  EXPECT_FALSE(project->forward_pipeline_variables);

  std::optional<Trigger> child =
      ParseTrigger(TriggerNode("job:\n  trigger:\n    include: a.yml\n"), "job", &diags);
  ASSERT_TRUE(child);
  EXPECT_EQ(child->kind, Trigger::Kind::kChild);
  ASSERT_EQ(child->include.items.size(), 1u);  // One string becomes a list of one.
  EXPECT_EQ(child->include.items[0].scalar, "a.yml");
  EXPECT_TRUE(StaticTriggerIncludes(*child));
  EXPECT_TRUE(diags.items().empty());
}

TEST(TriggerTest, StrategyForwardAndArtifactIncludes) {
  Diagnostics diags;
  std::optional<Trigger> t =
      ParseTrigger(TriggerNode("job:\n  trigger:\n    include:\n      - local: a.yml\n"
                               "      - artifact: gen.yml\n        job: generate\n"
                               "    strategy: depend\n    forward:\n      yaml_variables: false\n"
                               "      pipeline_variables: true\n"),
                   "job", &diags);
  ASSERT_TRUE(t) << diags.FormatAll();
  EXPECT_TRUE(t->depend);
  EXPECT_EQ(t->strategy, "depend");
  EXPECT_FALSE(t->forward_yaml_variables);
  EXPECT_TRUE(t->forward_pipeline_variables);
  // A child made from an artifact is known only when the pipeline runs.
  EXPECT_FALSE(StaticTriggerIncludes(*t));
  std::optional<Trigger> mirror = ParseTrigger(
      TriggerNode("job:\n  trigger:\n    project: g/p\n    branch: main\n    strategy: mirror\n"),
      "job", &diags);
  ASSERT_TRUE(mirror);
  EXPECT_TRUE(mirror->depend);
  EXPECT_EQ(mirror->branch, "main");
  EXPECT_FALSE(StaticTriggerIncludes(*mirror));
}

TEST(TriggerTest, GitLabsValidation) {
  EXPECT_EQ(Errors("job:\n  trigger:\n    include: a.yml\n    project: g/p\n"),
            "ci.yml:3:5: error: job 'job', key 'trigger': these keys cannot be used together: "
            "include, project\n");
  EXPECT_EQ(Errors("job:\n  trigger:\n    strategy: depend\n"),
            "ci.yml:3:5: error: job 'job', key 'trigger': trigger config is missing `include` or "
            "`project`\n");
  EXPECT_EQ(Errors("job:\n  trigger:\n    include: a.yml\n    branch: main\n"),
            "ci.yml:4:5: error: job 'job', key 'trigger': trigger config contains unknown keys: "
            "branch\n");
  EXPECT_EQ(Errors("job:\n  trigger:\n    include: a.yml\n    strategy: wait\n"),
            "ci.yml:4:15: error: job 'job', key 'trigger:strategy': strategy should be depend or "
            "mirror\n");
  EXPECT_EQ(Errors("job:\n  trigger:\n    include: [a.yml, b.yml, c.yml, d.yml]\n"),
            "ci.yml:3:14: error: job 'job', key 'trigger:include': include config must not "
            "contain more than 3 entries\n");
  EXPECT_EQ(Errors("job:\n  trigger:\n    include: []\n"),
            "ci.yml:3:14: error: job 'job', key 'trigger:include': include config can't be "
            "blank\n");
  EXPECT_EQ(
      Errors("job:\n  trigger:\n    project: g/p\n    forward:\n      pipeline_variables: 1\n"),
      "ci.yml:5:27: error: job 'job', key 'trigger:forward:pipeline_variables': "
      "pipeline_variables should be a boolean value\n");
  EXPECT_EQ(Errors("job:\n  trigger: [a]\n"),
            "ci.yml:2:12: error: job 'job', key 'trigger': trigger should be a string or a hash\n");
}

}  // namespace
}  // namespace slipway
