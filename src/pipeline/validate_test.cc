#include "pipeline/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/builder_test_util.h"

namespace slipway {
namespace {

using ::testing::ElementsAre;

TEST(ValidateTest, NeedsForms) {
  BuildResult r = BuildOk(
      "build:\n  stage: build\n  script: x\n"
      "lint:\n  stage: build\n  script: x\n"
      "test:\n  script: x\n  needs:\n    - build\n    - job: lint\n      artifacts: false\n"
      "    - job: docs\n      optional: true\n"
      "    - pipeline: $PARENT_PIPELINE_ID\n      job: gen\n"
      "    - project: group/other\n      job: pkg\n      ref: main\n      artifacts: true\n");
  const std::vector<Need>& needs = *r.job("test").needs;
  ASSERT_EQ(needs.size(), 5u);
  EXPECT_EQ(needs[0].job, "build");
  EXPECT_TRUE(needs[0].artifacts);
  EXPECT_FALSE(needs[1].artifacts);
  EXPECT_TRUE(needs[2].optional);
  EXPECT_EQ(needs[3].pipeline, "$PARENT_PIPELINE_ID");
  EXPECT_EQ(needs[4].project, "group/other");
  EXPECT_EQ(needs[4].ref, "main");
  EXPECT_EQ(needs[0].mark.ToString(), "ci.yml:10:7");
}

TEST(ValidateTest, EmptyNeedsDiffersFromNoNeeds) {
  BuildResult r = BuildOk("a:\n  script: x\n  needs: []\nb:\n  script: x\n");
  ASSERT_TRUE(r.job("a").needs.has_value());
  EXPECT_TRUE(r.job("a").needs->empty());
  EXPECT_FALSE(r.job("b").needs.has_value());
}

TEST(ValidateTest, NullAndNestedNeedsFromAnchors) {
  // As corpus 08 builds needs from anchored lists, one of them `- ` (null).
  BuildResult r = BuildOk(
      ".none: &none\n  -\n.two: &two\n  - a\n  - b\n"
      "a:\n  stage: build\n  script: x\nb:\n  stage: build\n  script: x\n"
      "c:\n  script: x\n  needs:\n    - *none\n    - *two\n");
  ASSERT_EQ(r.job("c").needs->size(), 2u);
  EXPECT_EQ((*r.job("c").needs)[1].job, "b");
}

TEST(ValidateTest, UndefinedNeed) {
  EXPECT_EQ(BuildErrors("test:\n  script: x\n  needs: [build]\n"),
            "ci.yml:3:11: error: job 'test', key 'needs': undefined need: build\n");
}

TEST(ValidateTest, NeedOnHiddenJobIsUndefined) {
  EXPECT_EQ(BuildErrors(".build:\n  script: x\ntest:\n  script: x\n  needs: [.build]\n"),
            "ci.yml:5:11: error: job 'test', key 'needs': undefined need: .build\n");
}

TEST(ValidateTest, NeedInSameStageIsAllowedButNotLater) {
  BuildOk("a:\n  script: x\nb:\n  script: x\n  needs: [a]\n");
  EXPECT_EQ(BuildErrors("build:\n  stage: build\n  script: echo\n  needs: [test]\n"
                        "test:\n  stage: test\n  script: echo\n"),
            "ci.yml:4:11: error: job 'build', key 'needs': need test is not defined in current "
            "or prior stages\n");
}

TEST(ValidateTest, DuplicatedNeeds) {
  EXPECT_EQ(BuildErrors("a:\n  stage: build\n  script: x\nb:\n  script: x\n  needs: [a, a]\n"),
            "ci.yml:6:11: error: job 'b', key 'needs': has the following needs duplicated: a.\n");
}

TEST(ValidateTest, CircularNeeds) {
  EXPECT_EQ(BuildErrors("a:\n  script: x\n  needs: [b]\nb:\n  script: x\n  needs: [a]\n"),
            "ci.yml:1:1: error: job 'a', key 'needs': The pipeline has circular dependencies\n");
}

TEST(ValidateTest, TooManyNeeds) {
  std::string yaml;
  std::string needs;
  for (int i = 0; i < 51; ++i) {
    yaml += "j" + std::to_string(i) + ":\n  stage: build\n  script: x\n";
    needs += (i ? ", j" : "j") + std::to_string(i);
  }
  yaml += "last:\n  script: x\n  needs: [" + needs + "]\n";
  BuildResult r = BuildOk(yaml);
  EXPECT_EQ(r.diags.FormatAll(),
            "ci.yml:156:11: warning: job 'last', key 'needs': one job can only need 50 others, "
            "but you have listed 51. See needs keyword documentation for more details\n");
}

TEST(ValidateTest, Dependencies) {
  BuildResult r = BuildOk(
      "build osx:\n  stage: build\n  script: make build:osx\n"
      "build linux:\n  stage: build\n  script: make build:linux\n"
      "test osx:\n  script: make test:osx\n  dependencies: [build osx]\n"
      "deploy:\n  stage: deploy\n  script: make deploy\n  dependencies: []\n");
  EXPECT_THAT(*r.job("test osx").dependencies, ElementsAre("build osx"));
  EXPECT_TRUE(r.job("deploy").dependencies->empty());
  EXPECT_EQ(BuildErrors("a:\n  script: x\n  dependencies: [nope]\n"),
            "ci.yml:1:1: error: job 'a', key 'dependencies': undefined dependency: nope\n");
  EXPECT_EQ(BuildErrors("a:\n  stage: build\n  script: x\n  dependencies: [b]\n"
                        "b:\n  script: x\n"),
            "ci.yml:1:1: error: job 'a', key 'dependencies': dependency b is not defined in "
            "current or prior stages\n");
}

TEST(ValidateTest, RulesNeedsAreChecked) {
  EXPECT_EQ(BuildErrors("a:\n  script: x\n  rules:\n    - needs: [ghost]\n"),
            "ci.yml:4:15: error: job 'a', key 'needs': undefined need: ghost\n");
}

TEST(ValidateTest, NeedWithoutJobIsUnsupported) {
  EXPECT_EQ(BuildErrors("a:\n  script: x\n  needs:\n    - artifacts: true\n"),
            "ci.yml:4:7: error: job 'a', key 'needs:0': has an unsupported type\n");
}

}  // namespace
}  // namespace slipway
