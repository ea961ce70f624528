// `extends:` (config/extends.h) as the builder applies it to jobs: merged
// keys end up in the built Job, errors name the job and key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/builder_test_util.h"

namespace slipway {
namespace {

using ::testing::ElementsAre;

TEST(ExtendsTest, HiddenTemplate) {
  BuildResult r = BuildOk(
      ".tests:\n  stage: build\n  image: ruby:3.0\n"
      "rspec:\n  extends: .tests\n  script: rake rspec\n"
      "rubocop:\n  extends: .tests\n  script: bundle exec rubocop\n");
  EXPECT_THAT(r.names(), ElementsAre("rspec", "rubocop"));
  EXPECT_EQ(r.job("rspec").stage, "build");
  EXPECT_EQ(r.job("rubocop").image->scalar, "ruby:3.0");
}

TEST(ExtendsTest, MergeDetailsFromTheReference) {
  BuildResult r = BuildOk(
      ".only-important:\n"
      "  variables:\n    URL: http://my-url.internal\n    IMPORTANT_VAR: the details\n"
      "  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n"
      "    - if: $CI_COMMIT_BRANCH == \"stable\"\n"
      "  tags: [production]\n  script: [echo \"Hello world!\"]\n"
      ".in-docker:\n  variables:\n    URL: http://docker-url.internal\n"
      "  tags: [docker]\n  image: alpine\n"
      "rspec:\n  variables:\n    GITLAB: is-awesome\n"
      "  extends: [.only-important, .in-docker]\n  script: [rake rspec]\n");
  const Job& job = r.job("rspec");
  EXPECT_EQ(*job.variables.Get("URL"), "http://docker-url.internal");
  EXPECT_EQ(*job.variables.Get("IMPORTANT_VAR"), "the details");
  EXPECT_EQ(*job.variables.Get("GITLAB"), "is-awesome");
  EXPECT_EQ(job.rules->size(), 2u);
  EXPECT_THAT(job.tags, ElementsAre("docker"));  // Arrays are replaced, not merged.
  EXPECT_THAT(job.script, ElementsAre("rake rspec"));
  EXPECT_EQ(job.image->scalar, "alpine");
}

TEST(ExtendsTest, MultiLevelAndVisibleParent) {
  BuildResult r = BuildOk(
      ".base:\n  stage: build\n  variables: {A: base, B: base}\n"
      ".middle:\n  extends: .base\n  variables: {B: middle}\n"
      "parent:\n  extends: .middle\n  script: p\n"
      "child:\n  extends: parent\n  variables: {C: child}\n");
  EXPECT_EQ(r.job("child").stage, "build");
  EXPECT_THAT(r.job("child").script, ElementsAre("p"));
  EXPECT_EQ(*r.job("child").variables.Get("A"), "base");
  EXPECT_EQ(*r.job("child").variables.Get("B"), "middle");
  EXPECT_EQ(*r.job("child").variables.Get("C"), "child");
  EXPECT_EQ(r.job("parent").variables.Get("C"), nullptr);
}

TEST(ExtendsTest, UnknownParent) {
  EXPECT_EQ(BuildErrors("job:\n  extends: [.a, .b]\n  script: x\n.a:\n  stage: test\n"),
            "ci.yml:2:12: error: job 'job', key 'extends': unknown keys in `extends` (.b)\n");
}

TEST(ExtendsTest, MisspeltParentSuggestsTheNearestName) {
  EXPECT_EQ(BuildErrors("job:\n  extends: .tempalte\n  script: x\n.template:\n  stage: test\n"),
            "ci.yml:2:12: error: job 'job', key 'extends': unknown keys in `extends` (.tempalte); "
            "did you mean `.template`?\n");
}

TEST(ExtendsTest, ParentThatIsNotAHash) {
  EXPECT_EQ(BuildErrors("job:\n  extends: .a\n  script: x\n.a: [1]\n"),
            "ci.yml:2:12: error: job 'job', key 'extends': invalid base hashes in `extends` "
            "(.a)\n");
}

TEST(ExtendsTest, CircularDependency) {
  EXPECT_EQ(BuildErrors(".a:\n  extends: .b\n.b:\n  extends: .a\njob:\n  extends: .a\n"
                        "  script: x\n"),
            "ci.yml:2:12: error: job '.a', key 'extends': circular dependency detected in "
            "`extends`\n");
}

TEST(ExtendsTest, SelfReference) {
  EXPECT_EQ(BuildErrors("job:\n  extends: job\n  script: x\n"),
            "ci.yml:2:12: error: job 'job', key 'extends': circular dependency detected in "
            "`extends`\n");
}

std::string Chain(int templates) {
  // job -> .t1 -> ... -> .tN, where .tN has no extends of its own.
  std::string yaml = "job:\n  extends: .t1\n  script: x\n";
  for (int i = 1; i <= templates; ++i) {
    yaml += ".t" + std::to_string(i) + ":\n";
    if (i < templates) yaml += "  extends: .t" + std::to_string(i + 1) + "\n";
    yaml += "  variables: {V" + std::to_string(i) + ": x}\n";
  }
  return yaml;
}

TEST(ExtendsTest, NestingLimit) {
  // GitLab accepts an extending entry reached through at most 10 ancestors.
  BuildResult ok = BuildOk(Chain(11));
  EXPECT_EQ(*ok.job("job").variables.Get("V11"), "x");
  std::string errors = BuildErrors(Chain(12));
  EXPECT_THAT(errors, ::testing::HasSubstr(
                          "ci.yml:2:12: error: job 'job', key 'extends': nesting too deep in "
                          "`extends`\n"));
}

TEST(ExtendsTest, LongChainsStopEarly) {
  // 100,000 templates (the recursion overflowed the stack): one error, once
  // the chain is far past GitLab's limit.
  std::string errors = BuildErrors(Chain(100000));
  EXPECT_EQ(errors,
            "ci.yml:305:12: error: job '.t101', key 'extends': nesting too deep in "
            "`extends`\n");
}

TEST(ExtendsTest, ExtendsMustBeStrings) {
  EXPECT_EQ(BuildErrors("job:\n  extends: {a: b}\n  script: x\n"),
            "ci.yml:2:12: error: job 'job', key 'extends': should be a string or an array of "
            "strings\n");
}

TEST(ExtendsTest, ScriptFromParentMakesAJob) {
  BuildResult r = BuildOk(".t:\n  script: make\njob:\n  extends: .t\n");
  EXPECT_THAT(r.job("job").script, ElementsAre("make"));
}

TEST(ExtendsTest, NullInChildReplacesParentValue) {
  std::string errors = BuildErrors(".t:\n  script: make\njob:\n  extends: .t\n  script:\n");
  EXPECT_EQ(errors, "ci.yml:5:10: error: job 'job', key 'script': can't be blank\n");
}

}  // namespace
}  // namespace slipway
