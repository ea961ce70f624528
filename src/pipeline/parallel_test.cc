#include "pipeline/parallel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/builder_test_util.h"

namespace slipway {
namespace {

using ::testing::ElementsAre;

TEST(ParallelTest, NumberNamesInstances) {
  BuildResult r = BuildOk("test:\n  script: rspec\n  parallel: 3\n");
  EXPECT_THAT(r.names(), ElementsAre("test 1/3", "test 2/3", "test 3/3"));
  EXPECT_EQ(r.job("test 2/3").base_name, "test");
  EXPECT_EQ(r.job("test 2/3").parallel_index, 2);
  EXPECT_EQ(r.job("test 2/3").parallel_total, 3);
}

TEST(ParallelTest, LaterJobWithAnInstanceNameReplacesTheInstance) {
  BuildResult r = BuildOk("test:\n  script: a\n  parallel: 2\ntest 1/2:\n  script: b\n");
  EXPECT_THAT(r.names(), ElementsAre("test 1/2", "test 2/2"));
  EXPECT_THAT(r.job("test 1/2").script, ElementsAre("b"));
}

TEST(ParallelTest, MatrixFromTheReference) {
  BuildResult r = BuildOk(
      "deploystacks:\n  stage: deploy\n  script: [bin/deploy]\n  parallel:\n    matrix:\n"
      "      - PROVIDER: aws\n        STACK: [monitoring, app1, app2]\n"
      "      - PROVIDER: ovh\n        STACK: [monitoring, backup, app]\n"
      "      - PROVIDER: [gcp, vultr]\n        STACK: [data, processing]\n");
  EXPECT_THAT(r.names(),
              ElementsAre("deploystacks: [aws, monitoring]", "deploystacks: [aws, app1]",
                          "deploystacks: [aws, app2]", "deploystacks: [ovh, monitoring]",
                          "deploystacks: [ovh, backup]", "deploystacks: [ovh, app]",
                          "deploystacks: [gcp, data]", "deploystacks: [gcp, processing]",
                          "deploystacks: [vultr, data]", "deploystacks: [vultr, processing]"));
  const Job& j = r.job("deploystacks: [vultr, data]");
  EXPECT_EQ(*j.variables.Get("PROVIDER"), "vultr");
  EXPECT_EQ(*j.variables.Get("STACK"), "data");
  EXPECT_EQ(j.parallel_index, 9);
  EXPECT_EQ(j.parallel_total, 10);
}

TEST(ParallelTest, MatrixValuesOverrideJobVariablesAndNumbersAreStrings) {
  BuildResult r = BuildOk(
      "build:\n  script: x\n  variables: {ARCH: none, KEEP: k}\n"
      "  parallel:\n    matrix:\n      - ARCH: [x86_64]\n        VERSION: [8, 9]\n");
  EXPECT_THAT(r.names(), ElementsAre("build: [x86_64, 8]", "build: [x86_64, 9]"));
  EXPECT_EQ(*r.job("build: [x86_64, 9]").variables.Get("ARCH"), "x86_64");
  EXPECT_EQ(*r.job("build: [x86_64, 9]").variables.Get("VERSION"), "9");
  EXPECT_EQ(*r.job("build: [x86_64, 9]").variables.Get("KEEP"), "k");
}

TEST(ParallelTest, Limits) {
  EXPECT_EQ(BuildErrors("t:\n  script: x\n  parallel: 201\n"),
            "ci.yml:3:13: error: job 't', key 'parallel': must be less than or equal to 200\n");
  EXPECT_EQ(BuildErrors("t:\n  script: x\n  parallel: 0\n"),
            "ci.yml:3:13: error: job 't', key 'parallel': must be greater than or equal to 1\n");
  std::string values;
  for (int i = 0; i < 21; ++i) values += (i ? ", " : "") + std::to_string(i);
  EXPECT_EQ(BuildErrors("t:\n  script: x\n  parallel:\n    matrix:\n      - A: [" + values +
                        "]\n        B: [" + values.substr(0, 28) + "]\n"),
            "ci.yml:5:7: error: job 't', key 'parallel:matrix': generates too many jobs "
            "(maximum is 200)\n");
}

TEST(ParallelTest, WrongTypes) {
  EXPECT_EQ(BuildErrors("t:\n  script: x\n  parallel: many\n"),
            "ci.yml:3:13: error: job 't', key 'parallel': should be an integer or a hash\n");
  EXPECT_EQ(BuildErrors("t:\n  script: x\n  parallel:\n    matrix: {A: 1}\n"),
            "ci.yml:4:13: error: job 't', key 'parallel:matrix': should be an array of hashes\n");
  EXPECT_EQ(BuildErrors("t:\n  script: x\n  parallel:\n    matrix:\n      - {}\n"),
            "ci.yml:5:9: error: job 't', key 'parallel:matrix': requires at least 1 items\n");
}

TEST(ParallelTest, NeedsOnBaseNameMeansEveryInstance) {
  BuildResult r = BuildOk(
      "build:\n  stage: build\n  script: x\n  parallel: 2\n"
      "test:\n  script: x\n  needs: [build]\n  dependencies: [build]\n");
  ASSERT_EQ(r.job("test").needs->size(), 2u);
  EXPECT_EQ((*r.job("test").needs)[0].job, "build 1/2");
  EXPECT_EQ((*r.job("test").needs)[1].job, "build 2/2");
  EXPECT_THAT(*r.job("test").dependencies, ElementsAre("build 1/2", "build 2/2"));
}

TEST(ParallelTest, NeedsParallelMatrixFromTheReference) {
  BuildResult r = BuildOk(
      "linux:build:\n  stage: build\n  script: echo\n  parallel:\n    matrix:\n"
      "      - PROVIDER: aws\n        STACK: [monitoring, app1, app2]\n"
      "linux:rspec:\n  stage: test\n  script: echo\n  needs:\n    - job: linux:build\n"
      "      parallel:\n        matrix:\n          - PROVIDER: aws\n            STACK: app1\n");
  ASSERT_EQ(r.job("linux:rspec").needs->size(), 1u);
  EXPECT_EQ((*r.job("linux:rspec").needs)[0].job, "linux:build: [aws, app1]");
}

TEST(ParallelTest, NeedsAnInstanceByItsGeneratedName) {
  // As corpus 10 and 19 do.
  BuildResult r = BuildOk(
      "rh:\n  stage: build\n  script: x\n  parallel:\n    matrix:\n      - V: [8, 9]\n"
      "test:\n  script: x\n  needs:\n    - job: 'rh: [8]'\n      artifacts: false\n");
  EXPECT_EQ((*r.job("test").needs)[0].job, "rh: [8]");
  EXPECT_FALSE((*r.job("test").needs)[0].artifacts);
}

TEST(ParallelTest, MatrixExpressionsInNeeds) {
  // From GitLab's "Matrix expressions" page, as corpus 38 uses them.
  BuildResult r = BuildOk(
      "linux:build:\n  stage: build\n  script: echo\n  parallel:\n    matrix:\n"
      "      - PROVIDER: [aws, gcp]\n        STACK: [monitoring, app1]\n"
      "linux:test:\n  stage: test\n  script: echo\n  parallel:\n    matrix:\n"
      "      - PROVIDER: [aws, gcp]\n        STACK: [monitoring, app1]\n"
      "  needs:\n    - job: linux:build\n      parallel:\n        matrix:\n"
      "          - PROVIDER: ['$[[ matrix.PROVIDER ]]']\n            STACK: ['$[[ matrix.STACK "
      "]]']\n");
  const Job& job = r.job("linux:test: [gcp, app1]");
  ASSERT_EQ(job.needs->size(), 1u);
  EXPECT_EQ((*job.needs)[0].job, "linux:build: [gcp, app1]");
  EXPECT_EQ(
      BuildErrors("b:\n  stage: build\n  script: x\n  parallel:\n    matrix:\n      - A: [1]\n"
                  "t:\n  script: x\n  parallel:\n    matrix:\n      - A: [1]\n"
                  "  needs:\n    - job: b\n      parallel:\n        matrix:\n"
                  "          - A: '$[[ matrix.B ]]'\n"),
      "ci.yml:13:7: error: job 't', key 'needs': 'B' is not a matrix identifier of this "
      "job\n");
}

}  // namespace
}  // namespace slipway
